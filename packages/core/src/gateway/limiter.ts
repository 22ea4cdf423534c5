/**
 * How many model requests may be in flight upstream at once, across every run. Requests that
 * must wait are served by priority (the run's queue priority), then by age; a paused run's
 * requests wait without taking a slot; a hold (quota) stops every grant until it ends. The
 * limit itself adapts: halved when the upstream says "slow down" (multiplicative decrease),
 * raised by one after `limit` requests went through without one (additive increase), never
 * above the configured maximum, and not before `cooldownMs` passed since the last "slow down".
 */

export interface Waiter {
  runId: string;
  priority: number;
  since: number;
  grant: () => void;
}

export class ConcurrencyLimiter {
  readonly max: number;
  #limit: number;
  #inFlight = 0;
  #okSinceRaise = 0;
  #waiting: Waiter[] = [];
  #heldUntil: number | null = null;
  #holdTimer: NodeJS.Timeout | null = null;
  #seq = 0;
  #slowedAt = 0;

  constructor(
    max: number,
    private readonly isPaused: (runId: string) => boolean = () => false,
    private readonly cooldownMs = 30_000,
  ) {
    this.max = Math.max(1, Math.floor(max));
    this.#limit = this.max;
  }

  get limit(): number {
    return this.#limit;
  }
  get inFlight(): number {
    return this.#inFlight;
  }
  get waiting(): number {
    return this.#waiting.length;
  }
  get heldUntil(): number | null {
    return this.#heldUntil;
  }

  /** Resolves with a release function once a slot is granted; rejects when `signal` aborts. */
  acquire(runId: string, priority: number, signal?: AbortSignal): Promise<() => void> {
    return new Promise((resolve, reject) => {
      let released = false;
      const waiter: Waiter = {
        runId,
        priority,
        since: Date.now() * 1000 + (this.#seq++ % 1000),
        grant: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve(() => {
            if (released) return;
            released = true;
            this.#inFlight--;
            this.pump();
          });
        },
      };
      const onAbort = () => {
        this.#waiting = this.#waiting.filter((w) => w !== waiter);
        reject(signal?.reason instanceof Error ? signal.reason : new Error("aborted"));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiting.push(waiter);
      this.pump();
    });
  }

  /** Grants free slots to the best waiters that may go (not paused, nothing held). */
  pump(): void {
    if (this.#heldUntil !== null) return;
    while (this.#inFlight < this.#limit) {
      const next = this.#waiting
        .filter((w) => !this.isPaused(w.runId))
        .sort((a, b) => b.priority - a.priority || a.since - b.since)[0];
      if (!next) return;
      this.#waiting = this.#waiting.filter((w) => w !== next);
      this.#inFlight++;
      next.grant();
    }
  }

  /** The upstream said "slow down": halve the limit (at least 1). */
  slowDown(): void {
    this.#limit = Math.max(1, Math.floor(this.#limit / 2));
    this.#okSinceRaise = 0;
    this.#slowedAt = Date.now();
  }

  /** A request went through: after `limit` of them, one more slot (up to the maximum). */
  succeeded(): void {
    if (this.#limit >= this.max || Date.now() - this.#slowedAt < this.cooldownMs) return;
    this.#okSinceRaise++;
    if (this.#okSinceRaise >= this.#limit) {
      this.#okSinceRaise = 0;
      this.#limit++;
      this.pump();
    }
  }

  /** No grants until `until` (epoch ms); null lifts the hold now. */
  hold(until: number | null): void {
    if (this.#holdTimer) clearTimeout(this.#holdTimer);
    this.#holdTimer = null;
    this.#heldUntil = until;
    if (until === null) {
      this.pump();
      return;
    }
    this.#holdTimer = setTimeout(() => this.hold(null), Math.max(0, until - Date.now()));
    this.#holdTimer.unref();
  }

  close(): void {
    if (this.#holdTimer) clearTimeout(this.#holdTimer);
    this.#holdTimer = null;
  }
}
