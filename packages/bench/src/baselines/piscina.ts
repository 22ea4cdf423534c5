// Baseline 1 for dispatch throughput: a bare Piscina pool running a no-op, with none of the
// orchestrator's bookkeeping (no spec, no MessageChannel, no store). This is the floor the
// product's run engine is built on: it cannot dispatch faster than this.
import { sourceExecArgv } from "@glm-workers/core";
import { Piscina } from "piscina";
import type { WarmupTask } from "./noop-worker.ts";

export interface BaselineResult {
  /** e.g. "raw piscina pool.run", "BullMQ (Redis defaults)", "BullMQ (appendfsync always)" */
  name: string;
  jobs: number;
  /** First enqueue → last job done. */
  wallMs: number;
  /** jobs / wall. */
  perSecond: number;
  /** Per job: enqueue → done, as the producer saw it; one sample per job, in job order. */
  latencyMs: number[];
}

/** Builds a result from per-job enqueue and done timestamps (performance.now() values). */
export function baselineResult(
  name: string,
  enqueuedAt: Float64Array,
  doneAt: Float64Array,
): BaselineResult {
  const jobs = enqueuedAt.length;
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  const latencyMs = new Array<number>(jobs);
  for (let i = 0; i < jobs; i++) {
    const start = enqueuedAt[i] as number;
    const end = doneAt[i] as number;
    if (!(end > 0)) throw new Error(`${name}: job ${i} never completed`);
    if (start < first) first = start;
    if (end > last) last = end;
    latencyMs[i] = end - start;
  }
  const wallMs = jobs > 0 ? last - first : 0;
  return { name, jobs, wallMs, perSecond: wallMs > 0 ? jobs / (wallMs / 1000) : 0, latencyMs };
}

/** True when this module runs from packages/bench/src through tsx, false from dist. */
function runningFromSource(): boolean {
  return import.meta.url.endsWith(".ts");
}

export async function runPiscinaBaseline(opts: {
  jobs: number;
  threads: number;
}): Promise<BaselineResult> {
  const { jobs, threads } = opts;
  if (!Number.isInteger(jobs) || jobs < 1) throw new RangeError("jobs must be a positive integer");
  if (!Number.isInteger(threads) || threads < 1) {
    throw new RangeError("threads must be a positive integer");
  }
  const fromSource = runningFromSource();
  const pool = new Piscina({
    filename: new URL(fromSource ? "./noop-worker.ts" : "./noop-worker.js", import.meta.url).href,
    minThreads: threads,
    maxThreads: threads,
    // min = max already keeps every thread alive; the long idle timeout just makes it explicit.
    idleTimeout: 60_000,
    ...(fromSource ? { execArgv: sourceExecArgv() } : {}),
  });
  try {
    await warmUp(pool, threads);
    const enqueuedAt = new Float64Array(jobs);
    const doneAt = new Float64Array(jobs);
    // Every job is submitted at once; Piscina's queue holds the backlog. Bounded windows (10 to
    // 1000 in flight, refilled as jobs finish) were tried and never beat this beyond the noise:
    // the main thread does the same per-job work either way, plus the refill when windowed. It is
    // also how the BullMQ producer submits, so both baselines measure the same thing.
    await new Promise<void>((resolve, reject) => {
      let finished = 0;
      for (let i = 0; i < jobs; i++) {
        enqueuedAt[i] = performance.now();
        pool.run(i).then(
          () => {
            doneAt[i] = performance.now();
            if (++finished === jobs) resolve();
          },
          (err: unknown) => reject(err),
        );
      }
    });
    return baselineResult("raw piscina pool.run", enqueuedAt, doneAt);
  } finally {
    await pool.close();
  }
}

/**
 * Starts every thread before timing: `threads` barrier tasks that can only all return once each
 * sits on its own thread. Then a short burst of no-ops so the hot path (and the tsx loader when
 * running from source) has been exercised on every thread.
 */
async function warmUp(pool: Piscina, threads: number): Promise<void> {
  const arrived = new Int32Array(new SharedArrayBuffer(4));
  const task: WarmupTask = { arrived, parties: threads, timeoutMs: 30_000 };
  const ids = await Promise.all(
    Array.from({ length: threads }, () => pool.run(task, { name: "warmup" }) as Promise<number>),
  );
  if (new Set(ids).size !== threads) {
    throw new Error(`piscina warm-up reached ${new Set(ids).size} of ${threads} threads`);
  }
  await Promise.all(Array.from({ length: threads * 50 }, (_, i) => pool.run(i)));
}
