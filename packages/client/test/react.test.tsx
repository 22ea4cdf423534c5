// @vitest-environment jsdom
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { waitFor as poll, removeDir, tempDir } from "@glm-workers/core/testkit";
import { cleanup, render, screen, waitFor } from "@testing-library/react";
import { afterEach, expect, test } from "vitest";
import { createGlmWorkersClient } from "../src/index.ts";
import { GlmWorkersProvider, trpcReact } from "../src/react.tsx";

/**
 * The React bindings in jsdom against a real server process (loopback): a live worker list
 * that re-reads `workers.list` whenever `workers.onEvent` delivers something.
 */

let dir: string | undefined;
let server: ChildProcess | undefined;

afterEach(async () => {
  cleanup();
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server?.once("exit", resolve));
    server.kill("SIGKILL");
    await exited;
  }
  removeDir(dir);
  server = undefined;
  dir = undefined;
});

/**
 * `apps/server/src/main.ts` in its own process; its URL once it listens. (Not the server tests'
 * `startServerProcess`: under jsdom, `URL` is jsdom's, which `fileURLToPath` refuses.)
 */
async function startServerProcess(env: Record<string, string>): Promise<string> {
  const root = join(import.meta.dirname, "..", "..", "..");
  const main = join(root, "apps", "server", "src", "main.ts");
  const proc = spawn(
    process.execPath,
    ["--conditions=@glm-workers/source", "--import", "tsx", main],
    {
      cwd: root,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", PORT: "0", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  server = proc;
  let output = "";
  proc.stdout.on("data", (d: Buffer) => {
    output += d.toString();
  });
  proc.stderr.on("data", (d: Buffer) => {
    output += d.toString();
  });
  return poll(
    "the server to listen",
    () => {
      if (proc.exitCode !== null) throw new Error(`server exited:\n${output}`);
      return output.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/)?.[1];
    },
    { timeoutMs: 30_000 },
  );
}

function LiveWorkers() {
  const utils = trpcReact.useUtils();
  const list = trpcReact.workers.list.useQuery();
  const events = trpcReact.workers.onEvent.useSubscription(
    {},
    { onData: () => void utils.workers.list.invalidate() },
  );
  return (
    <div>
      <p data-testid="subscription">{events.status}</p>
      {list.data ? (
        <ul aria-label="workers">
          {list.data.workers.map((w) => (
            <li key={w.id} data-status={w.status}>
              {w.specTitle}: {w.status} {w.progress.current}/{w.progress.total}
            </li>
          ))}
        </ul>
      ) : (
        <p>loading</p>
      )}
    </div>
  );
}

test("a live worker list: a started worker appears and reaches completed", async () => {
  dir = tempDir("client-react");
  const url = await startServerProcess({
    DATABASE_URL: `file:${join(dir, "glm.db")}`,
    WEB_DIST: join(dir, "no-web-dist"),
    EXECUTOR: "simulated",
    SIMULATED_CHUNK_MS: "150",
    MAX_WORKERS: "1",
    LOG_LEVEL: "info",
  });
  const client = createGlmWorkersClient({ url });
  const directory = join(dir, "project");
  mkdirSync(directory);
  const project = await client.projects.create.mutate({ name: "ui", directory });
  const spec = await client.specs.create.mutate({
    projectId: project.id,
    title: "Live list",
    content: "",
    chunks: [{ title: "one" }, { title: "two" }],
  });

  render(
    <GlmWorkersProvider url={url}>
      <LiveWorkers />
    </GlmWorkersProvider>,
  );
  const list = await screen.findByRole("list", { name: "workers" }, { timeout: 10_000 });
  expect(list.children).toHaveLength(0);
  // `pending`: the SSE stream is open, so no event of the run can be missed.
  await waitFor(() => expect(screen.getByTestId("subscription").textContent).toBe("pending"), {
    timeout: 10_000,
  });

  const started = await client.workers.start.mutate({ specId: spec.id });
  expect(started.status).toBe("started");
  const item = await screen.findByText(/^Live list: /, {}, { timeout: 10_000 });
  await waitFor(() => expect(item.textContent).toBe("Live list: completed 2/2"), {
    timeout: 20_000,
  });
  expect(item.dataset.status).toBe("completed");
}, 60_000);
