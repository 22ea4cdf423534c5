import type { WorkerEvent } from "./types.ts";

type Listener = (event: WorkerEvent) => void;

/**
 * In-process fan-out of persisted events. `stream(signal)` starts buffering at once, so a
 * subscriber can subscribe first, read the backlog from the database, then drain the buffer
 * without missing anything. Its listener is removed when the signal aborts or the consumer
 * stops iterating.
 */
export class EventBus {
  readonly #listeners = new Set<Listener>();

  publish(event: WorkerEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // a broken subscriber must not break publishing for the others
      }
    }
  }

  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.#listeners.size;
  }

  /** Buffered async iterator of live events; ends when `signal` aborts. */
  stream(signal?: AbortSignal, maxBuffer = 10_000): AsyncIterableIterator<WorkerEvent> {
    const buffer: WorkerEvent[] = [];
    let wake: (() => void) | null = null;
    let done = signal?.aborted ?? false;
    let overflow = false;
    const unsubscribe = this.subscribe((event) => {
      if (buffer.length >= maxBuffer) {
        overflow = true;
        return;
      }
      buffer.push(event);
      wake?.();
    });
    const finish = () => {
      done = true;
      unsubscribe();
      signal?.removeEventListener("abort", finish);
      wake?.();
    };
    signal?.addEventListener("abort", finish, { once: true });
    if (done) finish();

    const iterator: AsyncIterableIterator<WorkerEvent> = {
      [Symbol.asyncIterator]() {
        return iterator;
      },
      async next(): Promise<IteratorResult<WorkerEvent>> {
        for (;;) {
          if (overflow) {
            finish();
            throw new Error("event stream fell too far behind; reconnect with lastEventId");
          }
          const event = buffer.shift();
          if (event) return { value: event, done: false };
          if (done) return { value: undefined, done: true };
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = null;
        }
      },
      async return(): Promise<IteratorResult<WorkerEvent>> {
        finish();
        return { value: undefined, done: true };
      },
    };
    return iterator;
  }
}
