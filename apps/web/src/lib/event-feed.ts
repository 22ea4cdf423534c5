import { workerEventSchema } from "@glm-workers/core/events";
import { trpc } from "./trpc.ts";
import type { WorkerEvent, WorkerEventType } from "./types.ts";

export type FeedState = "connecting" | "live" | "reconnecting";

export interface EventFeedOptions {
  /** Only events of this worker (plus global ones such as queue_updated). */
  workerId?: string;
  /** Only these types (all when empty). */
  types: readonly WorkerEventType[];
  onEvent: (event: WorkerEvent) => void;
  /**
   * Each time the stream is (re)established. The live stream starts at the server's current
   * edge, so this is where a view loads (or reloads) its snapshot.
   */
  onConnected?: () => void;
  onState?: (state: FeedState) => void;
}

const MAX_BACKOFF_MS = 10_000;

/**
 * Opens `workers.onEvent` and keeps it open: the SSE link resumes by itself with the last
 * tracked id, and when the stream ends or fails for good this opens a new one from that id
 * (backing off). Returns `close`, which ends it and cancels any pending retry.
 */
export function openEventFeed(options: EventFeedOptions): () => void {
  let closed = false;
  let lastEventId: string | undefined;
  let current: { unsubscribe(): void } | null = null;
  let generation = 0;
  let failures = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;

  const retry = (gen: number) => {
    if (closed || gen !== generation) return;
    generation++;
    current?.unsubscribe();
    current = null;
    failures++;
    options.onState?.("reconnecting");
    clearTimeout(retryTimer);
    retryTimer = setTimeout(connect, Math.min(MAX_BACKOFF_MS, 250 * 2 ** Math.min(failures, 6)));
  };

  function connect(): void {
    if (closed) return;
    const gen = ++generation;
    options.onState?.(failures === 0 ? "connecting" : "reconnecting");
    current = trpc.workers.onEvent.subscribe(
      {
        ...(options.types.length > 0 ? { types: [...options.types] } : {}),
        ...(options.workerId ? { workerId: options.workerId } : {}),
        ...(lastEventId ? { lastEventId } : {}),
      },
      {
        onStarted() {
          if (closed || gen !== generation) return;
          failures = 0;
          options.onState?.("live");
          options.onConnected?.();
        },
        onData(tracked) {
          if (closed || gen !== generation) return;
          lastEventId = tracked.id;
          // The shared protocol checks what arrives; an event this build does not know is skipped.
          const checked = workerEventSchema.safeParse(tracked.data);
          if (checked.success) options.onEvent(tracked.data);
          else
            console.warn(`skipped a malformed ${String(tracked.data?.type)} event`, checked.error);
        },
        onConnectionStateChange(state) {
          if (closed || gen !== generation) return;
          if (state.state === "connecting" && state.error) options.onState?.("reconnecting");
        },
        onError() {
          retry(gen);
        },
        onStopped() {
          retry(gen);
        },
      },
    );
  }

  connect();
  return () => {
    closed = true;
    clearTimeout(retryTimer);
    current?.unsubscribe();
    current = null;
  };
}
