import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach } from "vitest";
import { createSimulatedExecutor } from "../src/executors/simulated.ts";
import type { ExecutorFactory } from "../src/executors/types.ts";
import type { ChunkSnapshot, RunSnapshotInput, ThreadToMain } from "../src/protocol.ts";
import { removeDir, tempDir } from "../src/testkit/index.ts";

export const CHUNK_MS = 400;

/** `newDir(prefix)` for the tests of this file: a temp dir, removed after the test. */
export function useTempDirs(): (prefix: string) => string {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) removeDir(d);
  });
  return (prefix) => {
    const d = tempDir(prefix);
    dirs.push(d);
    return d;
  };
}

/** A git repository with one commit, in `dir/repo`. */
export function makeRepo(dir: string): string {
  const repo = join(dir, "repo");
  mkdirSync(repo, { recursive: true });
  const g = (...args: string[]) =>
    execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd: repo });
  g("init", "-q", "-b", "main");
  writeFileSync(join(repo, "README.md"), "# test repo\n");
  g("add", "-A");
  g("commit", "-q", "-m", "initial");
  return repo;
}

export function gitOut(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd, encoding: "utf8" }).trim();
}

export function chunk(
  id: string,
  order: number,
  description = `Implement part ${id}.`,
  extra: Partial<ChunkSnapshot> = {},
): ChunkSnapshot {
  return {
    id,
    title: `Chunk ${id}`,
    description,
    order,
    status: "pending",
    dependencies: [],
    fixOf: null,
    reviewStatus: null,
    commitHash: null,
    ...extra,
  };
}

export function snapshot(
  directory: string,
  chunks: ChunkSnapshot[],
  opts: { chunkMs?: number; worktreeRoot?: string; workerId?: string } & Partial<
    RunSnapshotInput["options"]
  > = {},
): RunSnapshotInput {
  const { chunkMs, workerId, ...options } = opts;
  return {
    workerId: workerId ?? `w-${Math.random().toString(36).slice(2, 10)}`,
    project: { id: "p1", name: "Test project", directory },
    spec: { id: "s1", title: "Test spec", content: "# Test spec\nBuild it.", branch: null },
    chunks,
    executor: { kind: "simulated", simulatedChunkMs: chunkMs ?? CHUNK_MS },
    options,
  };
}

/** The simulated executor, recording every call it gets as `<chunk id>:<execute|review>`. */
export function recordingExecutor(calls: string[]): ExecutorFactory {
  return (config) => {
    const inner = createSimulatedExecutor(config);
    return {
      kind: inner.kind,
      label: inner.label,
      execute(req) {
        calls.push(`${req.chunk.id}:execute`);
        return inner.execute(req);
      },
      review(req) {
        calls.push(`${req.chunk.id}:review`);
        return inner.review(req);
      },
      close: () => inner.close(),
    };
  };
}

/** Collects messages and lets a test wait for one. */
export class Recorder {
  readonly messages: ThreadToMain[] = [];
  #waiters: Array<{ test: (m: ThreadToMain) => boolean; resolve: (m: ThreadToMain) => void }> = [];

  readonly onMessage = (msg: ThreadToMain): void => {
    this.messages.push(msg);
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.test(msg)) return true;
      w.resolve(msg);
      return false;
    });
  };

  of<T extends ThreadToMain["type"]>(type: T): Extract<ThreadToMain, { type: T }>[] {
    return this.messages.filter((m): m is Extract<ThreadToMain, { type: T }> => m.type === type);
  }

  /** The latest patch fields sent for each chunk, merged in order. */
  chunkStates(): Map<string, Record<string, unknown>> {
    const states = new Map<string, Record<string, unknown>>();
    for (const m of this.of("chunk")) {
      states.set(m.chunk.id, { ...(states.get(m.chunk.id) ?? {}), ...m.chunk, event: m.event });
    }
    return states;
  }

  waitFor(test: (m: ThreadToMain) => boolean, timeoutMs = 20_000): Promise<ThreadToMain> {
    const seen = this.messages.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error("timed out waiting for a message")),
        timeoutMs,
      );
      this.#waiters.push({
        test,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
