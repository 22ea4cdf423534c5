import { execFileSync, spawn } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { removeDir, tempDir } from "@glm-workers/core/testkit";
import { afterAll, beforeAll, expect, test } from "vitest";

/**
 * The built package as a consumer gets it: `tsc` builds it, `pnpm pack` packs it, and a project
 * outside the workspace that has only the packed client, its dependencies and its own tools
 * (typescript, @types/node, @types/react) type-checks code against it with `skipLibCheck: false`.
 *
 * The consumer's node_modules is made by hand: the tarball unpacked as
 * `node_modules/@glm-workers/client`, and each dependency the packed manifest declares linked to
 * the copy pnpm installed for this package. `pnpm add <tgz> --offline` cannot be used: it needs
 * registry metadata, which a `pnpm install --frozen-lockfile` machine (CI) does not have. None of
 * the server's packages (`@glm-workers/server`, core, db, drizzle, hono…) is reachable from the
 * consumer, so a declaration that still pointed at one fails to resolve.
 *
 * The build goes to a staging copy of the workspace's manifests, so the package's own `dist/`
 * (which other tests may be running) is left alone.
 */

const PKG = fileURLToPath(new URL("..", import.meta.url));
const ROOT = join(PKG, "..", "..");
const EXAMPLES = join(ROOT, "examples");
const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");

let work: string;
let consumer: string;
let checked: Promise<TscResult>;
let manifest: {
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  devDependencies?: Record<string, string>;
  exports: Record<string, unknown>;
};

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** Where this package (or the workspace root) has `name` installed, symlinks resolved. */
function installed(name: string): string {
  for (const base of [join(PKG, "node_modules"), join(ROOT, "node_modules")]) {
    const dir = join(base, name);
    if (existsSync(join(dir, "package.json"))) return realpathSync(dir);
  }
  throw new Error(`${name} is not installed for @glm-workers/client`);
}

function link(name: string): void {
  const at = join(consumer, "node_modules", name);
  mkdirSync(dirname(at), { recursive: true });
  symlinkSync(installed(name), at, "dir");
}

beforeAll(() => {
  work = tempDir("client-consumer");
  // A staging copy of the workspace's manifests: `pnpm pack` resolves `catalog:` and
  // `workspace:` from them.
  const stage = join(work, "stage");
  for (const file of ["package.json", "pnpm-workspace.yaml"]) {
    mkdirSync(stage, { recursive: true });
    cpSync(join(ROOT, file), join(stage, file));
  }
  for (const group of ["apps", "packages"]) {
    for (const name of readdirSync(join(ROOT, group))) {
      const from = join(ROOT, group, name, "package.json");
      if (!existsSync(from)) continue;
      mkdirSync(join(stage, group, name), { recursive: true });
      cpSync(from, join(stage, group, name, "package.json"));
    }
  }
  const staged = join(stage, "packages", "client");
  symlinkSync(join(PKG, "node_modules"), join(staged, "node_modules"), "dir");
  // `--noCheck`: the package's own typecheck checks it; this emits the same files, only faster
  // (union members and properties may come out in another order).
  run(
    process.execPath,
    [TSC, "-p", join(PKG, "tsconfig.build.json"), "--noCheck", "--outDir", join(staged, "dist")],
    PKG,
  );
  run("npx", ["-y", "pnpm@10.34.9", "pack", "--pack-destination", work], staged);
  const tarball = readdirSync(work).find((f) => f.endsWith(".tgz"));
  if (!tarball) throw new Error("pnpm pack made no tarball");

  consumer = join(work, "consumer");
  const unpacked = join(consumer, "node_modules", "@glm-workers", "client");
  mkdirSync(unpacked, { recursive: true });
  run("tar", ["-xzf", join(work, tarball), "-C", unpacked, "--strip-components=1"], work);
  manifest = JSON.parse(readFileSync(join(unpacked, "package.json"), "utf8"));
  for (const name of Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies })) {
    link(name);
  }
  for (const name of ["typescript", "@types/node", "@types/react"]) link(name);

  writeFileSync(
    join(consumer, "package.json"),
    JSON.stringify({ name: "consumer", private: true, type: "module" }),
  );
  writeFileSync(
    join(consumer, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        module: "NodeNext",
        moduleResolution: "NodeNext",
        lib: ["ES2023", "DOM", "DOM.Iterable"],
        types: ["node"],
        jsx: "react-jsx",
        strict: true,
        skipLibCheck: false,
        noEmit: true,
      },
      include: ["src"],
    }),
  );
  mkdirSync(join(consumer, "src"));
  for (const file of readdirSync(EXAMPLES)) {
    if (/\.tsx?$/.test(file)) cpSync(join(EXAMPLES, file), join(consumer, "src", file));
  }
  writeFileSync(join(consumer, "src", "use.ts"), USE);
  writeFileSync(join(consumer, "src", "use-react.tsx"), USE_REACT);
  writeFileSync(join(consumer, "src", "wrong-input.ts"), WRONG_INPUT);
  checked = typecheck();
}, 120_000);

afterAll(() => removeDir(work));

/** Everything a Node program does with the client: calls, a subscription, errors, types. */
const USE = `
import {
  createGlmWorkersClient, isGlmWorkersClientError, TRPCClientError,
  type AppRouter, type RouterInputs, type RouterOutputs, type WorkerEvent,
} from "@glm-workers/client";

const client = createGlmWorkersClient({ url: "http://127.0.0.1:4317", token: "t", fetch });
export async function use(): Promise<string[]> {
  const { workers, maxWorkers }: RouterOutputs["workers"]["list"] = await client.workers.list.query();
  const input: RouterInputs["workers"]["start"] = { specId: "s", priority: 2 };
  const started = await client.workers.start.mutate(input);
  const id = started.status === "started" ? started.worker.id : started.queueItem.id;
  const paused = await client.workers.pause.mutate({ id });
  const status: "idle" | "running" | "paused" | "completed" | "failed" | "stopped" = paused.status;
  await client.workers.resume.mutate({ id });
  await client.workers.stop.mutate({ id });
  const sub = client.workers.onEvent.subscribe({ workerId: id, lastEventId: "41" }, {
    onData: ({ id: eventId, data }) => {
      const event: WorkerEvent = data;
      if (event.type === "worker_progress") console.log(eventId, event.progress.current);
    },
    onError: (err) => console.log(err.data?.code),
  });
  sub.unsubscribe();
  try {
    await client.workers.get.query({ id });
  } catch (err) {
    if (isGlmWorkersClientError(err)) console.log(err.data?.code, err.data?.issues?.[0]?.path);
    const e = err as TRPCClientError<AppRouter>;
    console.log(e.data?.httpStatus, e.data?.reason);
  }
  return [status, String(maxWorkers), ...workers.map((w) => w.specTitle)];
}
`;

const USE_REACT = `
import { GlmWorkersProvider, trpcReact } from "@glm-workers/client/react";
import { QueryClient } from "@tanstack/react-query";

function Count() {
  const list = trpcReact.workers.list.useQuery();
  const start = trpcReact.workers.start.useMutation();
  trpcReact.workers.onEvent.useSubscription({}, { onData: (e) => console.log(e.data.type) });
  return <button type="button" onClick={() => start.mutate({ specId: "s" })}>{list.data?.workers.length ?? 0}</button>;
}

export const app = (
  <GlmWorkersProvider url="http://127.0.0.1:4317" queryClient={new QueryClient()}>
    <Count />
  </GlmWorkersProvider>
);
`;

/** A wrong input shape: \`spec\` instead of \`specId\`, and a number. */
const WRONG_INPUT = `
import { createGlmWorkersClient } from "@glm-workers/client";

const client = createGlmWorkersClient({ url: "http://127.0.0.1:4317" });
export const started = client.workers.start.mutate({ spec: 1 });
`;

interface Diagnostic {
  file: string;
  line: string;
}

interface TscResult {
  code: number | null;
  errors: Diagnostic[];
}

/** `tsc` in the consumer: exit code and each error line with its file. */
function typecheck(): Promise<TscResult> {
  const tsc = join(consumer, "node_modules", "typescript", "bin", "tsc");
  const child = spawn(process.execPath, [tsc, "-p", "tsconfig.json", "--pretty", "false"], {
    cwd: consumer,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    out += d.toString();
  });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      const errors = out
        .split("\n")
        .filter((line) => /error TS\d+/.test(line))
        .map((line) => ({ file: line.replace(/\(\d+,\d+\).*$/, ""), line }));
      resolve({ code, errors });
    });
  });
}

test("the published declarations import nothing of the workspace", () => {
  const dist = join(consumer, "node_modules", "@glm-workers", "client", "dist");
  for (const file of ["index.d.ts", "react.d.ts", "links.d.ts", "app-router.d.ts"]) {
    const text = readFileSync(join(dist, file), "utf8").replace(/\/\*[\s\S]*?\*\//g, "");
    const specifiers = [...text.matchAll(/(?:from\s+|import\()\s*"([^"]+)"/g)].map((m) => m[1]);
    for (const s of specifiers) {
      expect(s, `${file} imports ${s}`).toMatch(/^(\.\/|@trpc\/|@tanstack\/react-query$|react$)/);
    }
  }
  expect(Object.keys(manifest.dependencies).sort()).toEqual([
    "@trpc/client",
    "@trpc/react-query",
    "@trpc/server",
    "eventsource",
  ]);
  expect(Object.keys(manifest.exports)).toEqual([".", "./react"]);
});

test("a consumer's tsc (skipLibCheck: false) passes on correct use and fails on a wrong input", async () => {
  const { code, errors } = await checked;
  // tRPC's own declarations (not ours) import 'http', 'ws'… whose types a consumer may lack;
  // skipLibCheck: false checks them too, so their errors are left aside. Nothing else may fail
  // (the client, the React helper, both examples) but the wrong input, which must, naming `spec`.
  const ours = errors.filter(
    (e) => !/node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?@trpc\//.test(e.file),
  );
  expect(ours.map((e) => relative(consumer, join(consumer, e.file)))).toEqual([
    join("src", "wrong-input.ts"),
  ]);
  expect(ours[0]?.line).toMatch(
    /error TS2353: .*'spec' does not exist in type '\{ specId: string;/,
  );
  expect(code).not.toBe(0);
}, 60_000);
