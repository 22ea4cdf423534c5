import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { removeDir } from "@glm-workers/core/testkit";
import { liveServer } from "../../../apps/server/test/helpers.ts";
import { createGlmWorkersClient, type GlmWorkersClient } from "../src/index.ts";

/** A real server in this process and the `glm-workers` CLI in child processes. */

export const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
export const CLI_SOURCE = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url));
export const CLI_BUILT = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
/** tsx by path, so the CLI can run from any working directory. */
const TSX = join(ROOT, "node_modules", "tsx", "dist", "loader.mjs");

export interface TestServer {
  url: string;
  dir: string;
  trpc: GlmWorkersClient;
  close(): Promise<void>;
}

/**
 * The database on tmpfs when there is one: every event is a committed transaction, and waiting
 * for the disk on each would make the whole file crawl on a busy CI machine.
 */
function shmDir(): string | null {
  return existsSync("/dev/shm") ? mkdtempSync("/dev/shm/glm-cli-test-") : null;
}

export async function startTestServer(overrides: Record<string, string> = {}): Promise<TestServer> {
  const shm = shmDir();
  const live = await liveServer({
    ...(shm ? { DATABASE_URL: `file:${join(shm, "test.db")}` } : {}),
    ...overrides,
  });
  return {
    url: live.url,
    dir: live.box.dir,
    trpc: createGlmWorkersClient({ url: live.url }),
    async close() {
      await live.close();
      if (shm) removeDir(shm);
    },
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `glm-workers …` from source (tsx) with stdin a closed pipe (not a TTY). */
export function cli(
  args: readonly string[],
  opts: { url?: string; cwd?: string; env?: Record<string, string>; entry?: string } = {},
): Promise<CliResult> {
  const entry = opts.entry ?? CLI_SOURCE;
  const nodeArgs =
    entry === CLI_SOURCE ? ["--import", TSX, "--conditions=@glm-workers/source", entry] : [entry];
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "",
    ...(opts.url ? { GLM_WORKERS_URL: opts.url } : {}),
    ...opts.env,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, ...args], {
      cwd: opts.cwd ?? ROOT,
      env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    child.stdin.end();
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 100_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** One JSON document on stdout. */
// biome-ignore lint/suspicious/noExplicitAny: tests read into the CLI's JSON freely
export function json(result: CliResult): any {
  try {
    return JSON.parse(result.stdout);
  } catch {
    throw new Error(
      `stdout is not one JSON document (exit ${result.code}):\n${result.stdout}\n${result.stderr}`,
    );
  }
}

/** NDJSON on stdout, one value per line. */
// biome-ignore lint/suspicious/noExplicitAny: tests read into the CLI's JSON freely
export function ndjson(result: CliResult): any[] {
  return result.stdout
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l));
}

/** A port nothing listens on. */
export function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const address = s.address();
      const port = typeof address === "object" && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], {
    cwd,
    encoding: "utf8",
  });
}

/** `dir/name` as a git repository on `main` with one commit (local user name and email). */
export function gitProject(dir: string, name: string): string {
  const project = join(dir, name);
  mkdirSync(project, { recursive: true });
  git(project, "init", "-q", "-b", "main");
  git(project, "config", "user.name", "t");
  git(project, "config", "user.email", "t@t");
  writeFileSync(join(project, "README.md"), `# ${name}\n`);
  git(project, "add", "-A");
  git(project, "commit", "-q", "-m", "init");
  return project;
}

export function plainProject(dir: string, name: string): string {
  const project = join(dir, name);
  mkdirSync(project, { recursive: true });
  return project;
}
