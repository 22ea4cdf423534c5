import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RunPool } from "./pool.ts";
import { descendants, isAlive, waitGone } from "./process-tree.ts";
import type { RunSnapshotInput, ThreadToMain } from "./protocol.ts";

export interface LatencyStats {
  n: number;
  min: number;
  median: number;
  p95: number;
  p99: number;
  max: number;
}

export interface EngineLatency {
  runs: number;
  chunkMs: number;
  /** `pause` posted → `paused` received (the whole tree is stopped by then). */
  pauseAckMs: LatencyStats;
  /** `abort` posted → no process of the tree is left. */
  abortTreeGoneMs: LatencyStats;
  /** `abort` posted → the run's result resolved. */
  abortResultMs: LatencyStats;
}

export function stats(samples: readonly number[]): LatencyStats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    n: sorted.length,
    min: round(sorted[0] ?? 0),
    median: round(at(0.5)),
    p95: round(at(0.95)),
    p99: round(at(0.99)),
    max: round(sorted.at(-1) ?? 0),
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Measures pause-acknowledge and abort latency of real runs (simulated executor, real worker
 * thread, real process trees): each run is paused mid-chunk, resumed, then aborted.
 */
export async function measureEngineLatency(
  opts: { runs?: number; chunkMs?: number; workDir?: string } = {},
): Promise<EngineLatency> {
  const runs = opts.runs ?? 10;
  const chunkMs = opts.chunkMs ?? 1500;
  const base = opts.workDir ?? mkdtempSync(join(tmpdir(), "glm-bench-engine-"));
  const pool = new RunPool({ maxThreads: 1 });
  const pauseAck: number[] = [];
  const abortGone: number[] = [];
  const abortResult: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const dir = mkdtempSync(join(base, "run-"));
      let pid: number | undefined;
      let pausedAt = 0;
      let toolStarted = false;
      const snapshot: RunSnapshotInput = {
        workerId: `bench-${i}`,
        project: { id: "bench", name: "bench", directory: dir },
        spec: { id: "bench", title: "bench", content: "bench", branch: null },
        chunks: [
          {
            id: "c1",
            title: "Bench chunk",
            description: "Benchmark chunk. [simulate:slow]",
            order: 0,
            status: "pending",
            dependencies: [],
            fixOf: null,
            reviewStatus: null,
            commitHash: null,
          },
        ],
        executor: { kind: "simulated", simulatedChunkMs: chunkMs },
        options: {},
      };
      const onMessage = (msg: ThreadToMain) => {
        if (msg.type === "step" && msg.pid !== undefined) pid ??= msg.pid;
        if (msg.type === "tool" && msg.name === "bash" && msg.status === "started")
          toolStarted = true;
        if (msg.type === "paused") pausedAt = performance.now();
      };
      const handle = pool.start(snapshot, { onMessage });
      while (!(pid !== undefined && toolStarted)) await sleep(5);
      await sleep(100);

      const pauseSent = performance.now();
      await handle.pause();
      while (pausedAt === 0) await sleep(1);
      pauseAck.push(pausedAt - pauseSent);
      await handle.resume();
      await sleep(100);

      const tree = descendants(pid ?? -1).filter(isAlive);
      const abortSent = performance.now();
      const gone = waitGone(tree, 5000).then(() => abortGone.push(performance.now() - abortSent));
      void handle.abort("bench");
      await handle.result;
      abortResult.push(performance.now() - abortSent);
      await gone;
      rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    await pool.close({ force: true });
    if (!opts.workDir) rmSync(base, { recursive: true, force: true });
  }
  return {
    runs,
    chunkMs,
    pauseAckMs: stats(pauseAck),
    abortTreeGoneMs: stats(abortGone),
    abortResultMs: stats(abortResult),
  };
}

/** The bench worker entry (instant executor) for `new RunPool({ workerFile })`. */
export function benchWorkerFile(): URL {
  return new URL(
    import.meta.url.endsWith(".ts") ? "./bench-worker.ts" : "./bench-worker.js",
    import.meta.url,
  );
}
