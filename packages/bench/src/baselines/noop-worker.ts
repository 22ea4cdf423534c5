// The Piscina worker of the raw-pool baseline. The default export is the measured job: it hands
// its input straight back, so a timed run measures nothing but the pool's own dispatch cost.
import { threadId } from "node:worker_threads";

export default function noop<T>(payload: T): T {
  return payload;
}

export interface WarmupTask {
  /** One Int32 slot on a SharedArrayBuffer: how many threads have arrived. */
  arrived: Int32Array;
  /** How many threads must arrive before anyone leaves. */
  parties: number;
  timeoutMs: number;
}

/**
 * Warm-up only (run with `{ name: "warmup" }`): a barrier. Each call blocks its thread until
 * `parties` calls are inside at once, so one task of each lands on a distinct, started thread.
 * Returns the thread id so the caller can check that every thread took part.
 */
export function warmup(task: WarmupTask): number {
  const { arrived, parties, timeoutMs } = task;
  const deadline = Date.now() + timeoutMs;
  let seen = Atomics.add(arrived, 0, 1) + 1;
  if (seen >= parties) {
    Atomics.notify(arrived, 0);
    return threadId;
  }
  while (seen < parties) {
    const left = deadline - Date.now();
    if (left <= 0)
      throw new Error(`warm-up barrier: ${seen} of ${parties} threads after ${timeoutMs} ms`);
    Atomics.wait(arrived, 0, seen, left);
    seen = Atomics.load(arrived, 0);
  }
  return threadId;
}
