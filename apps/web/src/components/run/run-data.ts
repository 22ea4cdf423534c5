import { type Accessor, createSignal, onCleanup } from "solid-js";
import { createStore, reconcile } from "solid-js/store";
import { type ChunksStore, createChunksStore } from "../../lib/chunks-store.ts";
import { errorMessage, trpc } from "../../lib/trpc.ts";
import type { ChunkUsage, SpecDetail, Worker, WorkerEvent } from "../../lib/types.ts";
import type { ChunkUpdate } from "../../lib/worker-log.ts";
import type { WorkersStore } from "../../lib/workers-types.ts";

type Feed = Pick<WorkersStore, "listen" | "onReconnect">;

/** The worker a `worker_*` event carries, else null. */
export function workerOf(event: WorkerEvent): Worker | null {
  return "worker" in event ? event.worker : null;
}

export interface LiveWorker {
  worker: Accessor<Worker | null>;
  error: Accessor<string | null>;
  /** Takes a newer view of the worker (e.g. the answer of an action). */
  set(worker: Worker): void;
  reload(): Promise<void>;
}

/**
 * One worker, kept live: loaded with `workers.get`, then replaced by every `worker_*` event of
 * the app's feed that carries it (an event that arrives while a load is in flight wins over the
 * load, whose answer may be older). Reloads after the feed reconnects.
 */
export function createLiveWorker(feed: Feed, id: string): LiveWorker {
  const [worker, setWorker] = createSignal<Worker | null>(null);
  const [error, setError] = createSignal<string | null>(null);
  let seq = 0;
  let disposed = false;

  const reload = async () => {
    const mine = ++seq;
    try {
      const next = await trpc.workers.get.query({ id });
      if (disposed || mine !== seq) return;
      setWorker(next);
      setError(null);
    } catch (err) {
      if (!disposed && mine === seq) setError(errorMessage(err));
    }
  };
  const stopListening = feed.listen((event) => {
    if (event.workerId !== id) return;
    const next = workerOf(event);
    if (!next) return;
    seq++;
    setWorker(next);
    setError(null);
  });
  const stopReconnect = feed.onReconnect(() => void reload());
  void reload();
  onCleanup(() => {
    disposed = true;
    stopListening();
    stopReconnect();
  });
  return {
    worker,
    error,
    set(next) {
      seq++;
      setWorker(next);
    },
    reload,
  };
}

export interface RunChunks {
  store: ChunksStore;
  spec: Accessor<Omit<SpecDetail, "chunks" | "usage"> | null>;
  usage(chunkId: string): ChunkUsage | undefined;
  error: Accessor<string | null>;
  reload(): Promise<void>;
  /** A live chunk change of the run (from its log feed). */
  apply(update: ChunkUpdate): void;
}

/**
 * The spec of a run and its chunks in order, with each chunk's usage per step: loaded with
 * `specs.get`, kept live by the run's chunk changes and `usage_updated` events.
 */
export function createRunChunks(feed: Feed, specId: string): RunChunks {
  const [spec, setSpec] = createSignal<Omit<SpecDetail, "chunks" | "usage"> | null>(null);
  const [error, setError] = createSignal<string | null>(null);
  const [usage, setUsage] = createStore<Record<string, ChunkUsage>>({});
  const store = createChunksStore(() => specId, []);
  let seq = 0;
  let disposed = false;

  const reload = async () => {
    const mine = ++seq;
    try {
      const { chunks, usage: _specUsage, ...row } = await trpc.specs.get.query({ id: specId });
      if (disposed || mine !== seq) return;
      setSpec(row);
      store.reset(chunks);
      setUsage(reconcile(Object.fromEntries(chunks.map((c) => [c.id, c.usage]))));
      setError(null);
    } catch (err) {
      if (!disposed && mine === seq) setError(errorMessage(err));
    }
  };
  const stopUsage = feed.listen((event) => {
    if (event.type !== "usage_updated" || event.specId !== specId) return;
    const { chunkId, step, chunkUsage } = event;
    if (!chunkId || !step || !chunkUsage) return;
    if (usage[chunkId]) setUsage(chunkId, step, chunkUsage);
    else setUsage(chunkId, { executing: null, reviewing: null, [step]: chunkUsage });
  });
  void reload();
  onCleanup(() => {
    disposed = true;
    stopUsage();
  });
  return {
    store,
    spec,
    usage: (chunkId) => usage[chunkId],
    error,
    reload,
    apply(update) {
      if (update.event === "inserted" || !store.applyLive(update.chunk)) void reload();
    },
  };
}
