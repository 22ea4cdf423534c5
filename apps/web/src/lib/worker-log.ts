import { createEffect, createSignal, onCleanup } from "solid-js";
import { type LogLine, mergeLines, toLogLine } from "./log-lines.ts";
import { errorMessage, trpc } from "./trpc.ts";
import type { WorkerEventOf } from "./types.ts";
import type { WorkersStore } from "./workers-store.ts";

/** A `chunk_updated` event's fields: the change and the chunk fields that changed. */
export type ChunkUpdate = Pick<WorkerEventOf<"chunk_updated">, "event" | "chunk">;

export interface WorkerLog {
  lines(): readonly LogLine[];
  loading(): boolean;
  error(): string | null;
}

export interface WorkerLogOptions {
  /** Lines kept (the oldest go first). */
  limit?: number;
  /** Also follow this worker's chunk changes (the spec workspace shows them). */
  onChunk?: (update: ChunkUpdate) => void;
  /** After the live feed reconnected (events may have been missed: resync other views). */
  onReconnect?: () => void;
}

/**
 * The live log tail of one worker: loads the newest lines (`workers.logs`) and merges the
 * worker's live `log`/`tool` events from the store's feed (listened to before the load, so
 * nothing falls in between; duplicates are dropped by id). Reloads after the feed reconnects,
 * follows a new worker when `workerId()` changes, and stops listening on cleanup.
 */
export function createWorkerLog(
  store: Pick<WorkersStore, "listen" | "onReconnect">,
  workerId: () => string | null | undefined,
  options: WorkerLogOptions = {},
): WorkerLog {
  const limit = options.limit ?? 300;
  const [lines, setLines] = createSignal<readonly LogLine[]>([]);
  const [loading, setLoading] = createSignal(false);
  const [error, setError] = createSignal<string | null>(null);

  createEffect(() => {
    const id = workerId();
    setLines([]);
    setError(null);
    if (!id) return;
    let disposed = false;
    let seq = 0;

    const loadTail = async () => {
      const mine = ++seq;
      setLoading(true);
      try {
        const tail = await trpc.workers.logs.query({ id, limit });
        if (disposed || mine !== seq) return;
        const fromTail = tail.flatMap((e) => toLogLine(e) ?? []);
        setLines((current) => mergeLines(fromTail, current, limit));
        setError(null);
      } catch (err) {
        if (!disposed && mine === seq) setError(errorMessage(err));
      } finally {
        if (!disposed && mine === seq) setLoading(false);
      }
    };

    const stopListening = store.listen((event) => {
      if (event.workerId !== id) return;
      if (event.type === "chunk_updated") {
        options.onChunk?.({ event: event.event, chunk: event.chunk });
        return;
      }
      const line = toLogLine(event);
      if (line) setLines((current) => mergeLines(current, [line], limit));
    });
    const stopReconnect = store.onReconnect(() => {
      void loadTail();
      options.onReconnect?.();
    });
    void loadTail();
    onCleanup(() => {
      disposed = true;
      stopListening();
      stopReconnect();
    });
  });

  return { lines, loading, error };
}
