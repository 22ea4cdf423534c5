// Shared by the control and memory sections: projects, specs and runs set up through the
// compiled server's REST API, the agent process tree read from /proc, and the fake GLM that
// keeps an opencode tool (a bash `sleep`) running so the tree stays alive while we look at it.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { descendants, processState } from "@glm-workers/core";
import { percentile } from "@glm-workers/core/bench";
import {
  type FakeGlm,
  type FakeGlmContext,
  type FakeGlmTurn,
  startFakeGlm,
} from "@glm-workers/core/testkit";
import { sleep } from "../context.ts";
import { type ServerProcess, startServerProcess } from "../server-process.ts";

/** The compiled server with these variables (and node flags). */
export function startServer(
  env: Record<string, string> = {},
  nodeArgs: string[] = [],
): Promise<ServerProcess> {
  return startServerProcess({ env, nodeArgs });
}

export interface WorkerRow {
  id: string;
  status: string;
  error: string | null;
}

/** A directory for a project: a git repository on `main` with one commit, or a plain folder. */
export function projectDir(root: string, name: string, git: boolean): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "README.md"), `# ${name}\n`);
  if (git) {
    const run = (...args: string[]) =>
      execFileSync("git", ["-c", "user.name=bench", "-c", "user.email=bench@localhost", ...args], {
        cwd: dir,
        stdio: "ignore",
      });
    run("init", "-q", "-b", "main");
    run("add", "-A");
    run("commit", "-q", "-m", "init");
  }
  return dir;
}

export async function createProject(
  server: ServerProcess,
  name: string,
  directory: string,
): Promise<string> {
  const p = await server.api<{ id: string }>("/api/projects", { body: { name, directory } });
  return p.id;
}

export async function createSpec(
  server: ServerProcess,
  projectId: string,
  title: string,
  chunks: { title: string; description: string }[],
): Promise<string> {
  const s = await server.api<{ id: string }>(`/api/projects/${projectId}/specs`, {
    body: { title, content: `# ${title}\nBenchmark spec.`, chunks },
  });
  return s.id;
}

/** POST /api/workers: started at once (201) or queued (202). */
export async function startRun(
  server: ServerProcess,
  specId: string,
): Promise<{ status: string; worker?: WorkerRow }> {
  return server.api<{ status: string; worker?: WorkerRow }>("/api/workers", { body: { specId } });
}

/** The server's agent processes: every descendant of its pid (its threads are not processes). */
export function agentTree(serverPid: number): number[] {
  return descendants(serverPid).filter((p) => p !== serverPid);
}

export function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
}

/** Gone for our purposes: no stat any more, or a zombie waiting to be reaped. */
export function gone(pid: number): boolean {
  const s = processState(pid);
  return s === null || s === "Z" || s === "X";
}

export function stopped(pid: number): boolean {
  const s = processState(pid);
  return s === "T" || s === "t" || s === null || s === "Z" || s === "X";
}

export function running(pid: number): boolean {
  const s = processState(pid);
  return s !== "T" && s !== "t";
}

/**
 * Polls `cond` every ~1 ms (a short timer, so the event loop still serves the HTTP request we
 * are timing) and resolves with the time from `t0` to the first poll that saw it true.
 */
export async function pollUntil(
  cond: () => boolean,
  t0: number,
  timeoutMs: number,
): Promise<number | null> {
  for (;;) {
    if (cond()) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs) return null;
    await sleep(1);
  }
}

/** Waits (coarse, for set-up) until `fn` returns a value that is not null/undefined/false. */
export async function waitUntil<T>(
  what: string,
  fn: () => T | null | undefined | false | Promise<T | null | undefined | false>,
  timeoutMs: number,
  intervalMs = 20,
): Promise<T> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== null && v !== undefined && v !== false) return v;
    if (performance.now() > end)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** The whole agent tree once it holds a running `sleep` (the tool) — the tree we act on. */
export function waitForToolTree(
  serverPid: number,
  timeoutMs: number,
  count = 1,
): Promise<number[]> {
  return waitUntil(
    "the agent's sleep tool",
    () => {
      const tree = agentTree(serverPid);
      const sleeps = tree.filter((p) => comm(p) === "sleep" && !gone(p));
      return sleeps.length >= count ? tree : null;
    },
    timeoutMs,
    10,
  );
}

export interface MetricsReading {
  pid: number;
  memory: { rss: number; heapUsed: number; heapTotal: number; external: number };
  resources: Record<string, number>;
  busListeners: number;
  activeRuns: number;
}

export const metrics = (server: ServerProcess) => server.api<MetricsReading>("/api/metrics");

// ---- opencode against the fake GLM ---------------------------------------------------------

const KEY = "bench-fake-glm-key";

/** The fake GLM's answer to an agent turn: run `sleep 600` in bash, so a tool stays alive. */
function sleeperScript(ctx: FakeGlmContext): FakeGlmTurn | undefined {
  if (ctx.kind !== "agent") return undefined; // titles and reviews: the default answers
  if (ctx.afterToolResult) return { kind: "text", text: "Done waiting." };
  return {
    kind: "tool",
    calls: [{ name: "bash", arguments: { command: "sleep 600", description: "Wait" } }],
  };
}

export interface OpencodeSetup {
  server: ServerProcess;
  fake: FakeGlm;
  close(): Promise<void>;
}

/** A compiled server with EXECUTOR=opencode whose model is the fake GLM on 127.0.0.1. */
export async function startOpencodeServer(
  maxWorkers = 1,
  extraEnv: Record<string, string> = {},
): Promise<OpencodeSetup> {
  const fake = await startFakeGlm({ apiKey: KEY, script: sleeperScript });
  let server: ServerProcess;
  try {
    server = await startServer({
      EXECUTOR: "opencode",
      GLM_API_KEY: KEY,
      GLM_BASE_URL: fake.url,
      GLM_MODELS: "zai-coding-plan/glm-4.7",
      MAX_WORKERS: String(maxWorkers),
      CHUNK_TIMEOUT_MS: "600000",
      ...extraEnv,
    });
  } catch (err) {
    await fake.close();
    throw err;
  }
  return {
    server,
    fake,
    async close() {
      await server.stop();
      await fake.close();
    },
  };
}

/** The lower median (nearest rank at 0.5). */
export const median = (xs: readonly number[]) => percentile(xs, 0.5);

/**
 * Counts finished runs from the server's SSE feed (`worker_completed|failed|stopped`): one
 * connection, so one bus listener and one socket on the server while it is open.
 */
export interface FinishedWatch {
  readonly count: number;
  readonly byType: Record<string, number>;
  /** Resolves on the next finished run or after `ms`. */
  next(ms: number): Promise<void>;
  close(): void;
}

export async function watchFinished(server: ServerProcess): Promise<FinishedWatch> {
  const abort = new AbortController();
  const res = await fetch(
    `${server.url}/api/workers/events?types=worker_completed,worker_failed,worker_stopped`,
    { signal: abort.signal },
  );
  if (!res.ok || !res.body) throw new Error(`SSE feed → ${res.status}`);
  const byType: Record<string, number> = {};
  let count = 0;
  // a holder, so the reader below sees the waiter that `next` sets later
  const waiter: { wake: (() => void) | null } = { wake: null };
  const body = res.body;
  void (async () => {
    const decoder = new TextDecoder();
    let buf = "";
    try {
      for await (const part of body) {
        buf += decoder.decode(part as Uint8Array, { stream: true });
        for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (!line.startsWith("event: ")) continue;
          const type = line.slice(7).trim();
          byType[type] = (byType[type] ?? 0) + 1;
          count++;
          waiter.wake?.();
        }
      }
    } catch {
      // aborted by close()
    }
  })();
  return {
    get count() {
      return count;
    },
    byType,
    next(ms) {
      return new Promise<void>((resolve) => {
        const timer = setTimeout(done, ms);
        function done() {
          clearTimeout(timer);
          waiter.wake = null;
          resolve();
        }
        waiter.wake = done;
      });
    },
    close: () => abort.abort(),
  };
}
