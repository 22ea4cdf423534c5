import { setTimeout as sleep } from "node:timers/promises";
import { inspect } from "node:util";
import { coerceError } from "../errors.ts";

/** What `waitFor` returns: the probe's value once it is truthy. */
export type Truthy<T> = Exclude<T, false | 0 | 0n | "" | null | undefined>;

export interface WaitForOptions {
  /** Give up after this long (default 60 s). */
  timeoutMs?: number;
  /** Pause between two probes (default 50 ms). */
  intervalMs?: number;
  /** Stops waiting at once; `waitFor` then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Polls `probe` until it returns (or resolves to) a truthy value, and returns that value. A
 * probe that throws is tried again at the next interval. On timeout it rejects with an Error
 * naming `what` and the probe's last value or last error. The probe itself is not interrupted:
 * one that never settles holds the wait (give such a probe its own timeout).
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | Promise<T>,
  opts: WaitForOptions = {},
): Promise<Truthy<T>> {
  const { timeoutMs = 60_000, intervalMs = 50, signal } = opts;
  const deadline = Date.now() + timeoutMs;
  let last = "no answer yet";
  for (;;) {
    signal?.throwIfAborted();
    try {
      const value = await probe();
      if (value) return value as Truthy<T>;
      last = `last value: ${inspect(value, { depth: 2, breakLength: Infinity })}`;
    } catch (err) {
      last = `last error: ${coerceError(err).message}`;
    }
    signal?.throwIfAborted();
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${last})`);
    try {
      await sleep(Math.min(intervalMs, left), undefined, signal ? { signal } : {});
    } catch (err) {
      signal?.throwIfAborted();
      throw err;
    }
  }
}
