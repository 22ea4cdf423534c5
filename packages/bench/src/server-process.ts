// The compiled server (apps/server/dist/main.js) as a child process on a loopback port, with its
// own temp directory and libsql file: what a user runs, measured from outside.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** Repository root, seen from packages/bench/src or packages/bench/dist. */
export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const SERVER_MAIN = join(REPO_ROOT, "apps/server/dist/main.js");

export interface ServerProcess {
  url: string;
  pid: number;
  dir: string;
  child: ChildProcess;
  /** Everything the server wrote to stderr/stdout so far (for error messages). */
  output(): string;
  /** JSON request against the server; throws with the body on a non-2xx status. */
  api<T = unknown>(path: string, init?: { method?: string; body?: unknown }): Promise<T>;
  /** SIGTERM, wait for exit (SIGKILL after 10 s), remove the temp directory. */
  stop(): Promise<void>;
}

export interface ServerOptions {
  /** Extra environment (MAX_WORKERS, SIMULATED_CHUNK_MS, EXECUTOR, …). */
  env?: Record<string, string>;
  /** Extra node flags (e.g. --expose-gc). */
  nodeArgs?: string[];
  /** Keep the directory on stop (e.g. to reopen the same database). */
  keepDir?: boolean;
  /** Use this directory instead of a new temp one. */
  dir?: string;
}

export async function startServerProcess(opts: ServerOptions = {}): Promise<ServerProcess> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "glm-bench-server-"));
  let out = "";
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), SERVER_MAIN], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? dir,
      HOST: "127.0.0.1",
      PORT: "0",
      DATABASE_URL: `file:${join(dir, "glm-workers.db")}`,
      // info: the "listening on" line is how the start is seen
      LOG_LEVEL: "info",
      EXECUTOR: "simulated",
      ...opts.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`server did not start in 60 s:\n${out}`)),
      60_000,
    );
    const onData = (b: Buffer) => {
      out += b.toString();
      if (out.length > 200_000) out = out.slice(-100_000);
      const m = /listening on (http:\/\/[0-9.:[\]]+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening:\n${out}`));
    });
  });
  const api = async <T>(
    path: string,
    init: { method?: string; body?: unknown } = {},
  ): Promise<T> => {
    const res = await fetch(`${url}${path}`, {
      method: init.method ?? (init.body === undefined ? "GET" : "POST"),
      headers: init.body === undefined ? {} : { "content-type": "application/json" },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${init.method ?? "GET"} ${path} → ${res.status}: ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once("exit", () => r()));
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(killer);
    }
    if (!opts.keepDir && !opts.dir) rmSync(dir, { recursive: true, force: true });
  };
  if (child.pid === undefined) throw new Error("server process has no pid");
  return { url, pid: child.pid, dir, child, output: () => out, api, stop };
}
