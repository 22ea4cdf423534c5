import { batch, createMemo, onCleanup } from "solid-js";
import { createStore, reconcile } from "solid-js/store";
import { openEventFeed } from "./event-feed.ts";
import { setActiveWorkerCount } from "./live.ts";
import { moveItem } from "./reorder.ts";
import { pushToast } from "./toast.ts";
import { errorMessage, trpc } from "./trpc.ts";
import type { QueueItem, Worker, WorkerEvent, WorkerStatus } from "./types.ts";
import {
  activeWorkers,
  applyEvent,
  isActive,
  QUEUE_PAGE,
  recentWorkers,
  renumberQueue,
  STORE_EVENT_TYPES,
  trimRecent,
  upsertWorker,
  type WorkersData,
} from "./workers-events.ts";
import type { WorkersState, WorkersStore } from "./workers-types.ts";

export type { WorkersState, WorkersStore };

interface ActionOptions<T> {
  /** Applied at once; undone when the server refuses. */
  optimistic?: (data: WorkersData) => WorkersData;
  /** Keeps these workers in this status while the call is in flight (late events can't undo it). */
  hold?: ReadonlyArray<readonly [string, WorkerStatus]>;
  call: () => Promise<T>;
  /** Folds the server's answer in. `latest` is false when another action started since. */
  done?: (data: WorkersData, result: T, latest: boolean) => WorkersData;
  /** Prefix of the error toast. */
  failure: string;
}

/**
 * The one store of workers, queue and slots for every view (the Solid counterpart of a
 * `useWorkers` hook). It loads a snapshot, then follows `workers.onEvent`: every (re)connect
 * reloads the snapshot and replays the events that arrived meanwhile, so nothing is missed and
 * nothing polls. Actions update the view at once and roll back, with an error toast, when the
 * server says no. Must be created under an owner: `onCleanup` closes the subscription.
 */
export function createWorkers(): WorkersStore {
  let data: WorkersData = {
    workers: [],
    queue: [],
    maxWorkers: 0,
    queuePaused: false,
    queueHoldReason: null,
  };
  const [state, setState] = createStore<WorkersState>({
    ...data,
    loaded: false,
    loadError: null,
    connection: "connecting",
  });
  const holds = new Map<string, WorkerStatus>();
  let disposed = false;
  let syncing = false;
  let syncSeq = 0;
  let buffered: WorkerEvent[] = [];
  let actionSeq = 0;

  /** Pushes `data` (with held statuses) into the reactive store. */
  const render = () => {
    const workers = data.workers.map((w) => {
      const held = holds.get(w.id);
      return held && held !== w.status && isActive(w) ? { ...w, status: held } : w;
    });
    const view = structuredClone({ ...data, workers });
    batch(() => {
      setState("workers", reconcile(view.workers, { key: "id", merge: true }));
      setState("queue", reconcile(view.queue, { key: "id", merge: true }));
      setState({
        queueTotal: Math.max(view.queueTotal ?? 0, view.queue.length),
        maxWorkers: view.maxWorkers,
        queuePaused: view.queuePaused,
        queueHoldReason: view.queueHoldReason,
      });
      setActiveWorkerCount(view.workers.filter(isActive).length);
    });
  };

  const listeners = new Set<(event: WorkerEvent) => void>();
  const reconnectListeners = new Set<() => void>();

  const onEvent = (event: WorkerEvent) => {
    if (STORE_TYPES.has(event.type)) {
      if (syncing) buffered.push(event);
      data = applyEvent(data, event);
      render();
    }
    for (const listener of listeners) listener(event);
  };

  async function refresh(): Promise<void> {
    const seq = ++syncSeq;
    syncing = true;
    buffered = [];
    try {
      const [list, queue] = await Promise.all([
        trpc.workers.list.query(),
        trpc.queue.list.query({ limit: QUEUE_PAGE }),
      ]);
      if (disposed || seq !== syncSeq) return;
      let next: WorkersData = {
        workers: trimRecent(list.workers),
        queue: renumberQueue(queue.queue),
        queueTotal: queue.total,
        maxWorkers: list.maxWorkers,
        queuePaused: queue.paused,
        queueHoldReason: queue.holdReason ?? null,
      };
      for (const event of buffered) next = applyEvent(next, event);
      data = next;
      setState({ loaded: true, loadError: null });
    } catch (err) {
      if (disposed || seq !== syncSeq) return;
      setState("loadError", errorMessage(err));
    } finally {
      if (seq === syncSeq) {
        syncing = false;
        buffered = [];
        if (!disposed) render();
      }
    }
  }

  // One feed per tab (browsers allow few connections per host): every view listens to it.
  let connections = 0;
  const close = openEventFeed({
    types: [],
    onEvent,
    onConnected: () => {
      void refresh();
      if (connections++ > 0) for (const listener of reconnectListeners) listener();
    },
    onState: (connection) => setState("connection", connection),
  });
  onCleanup(() => {
    disposed = true;
    listeners.clear();
    reconnectListeners.clear();
    close();
    setActiveWorkerCount(0);
  });

  async function act<T>(options: ActionOptions<T>): Promise<T | null> {
    const seq = ++actionSeq;
    const before = data;
    for (const [id, status] of options.hold ?? []) holds.set(id, status);
    if (options.optimistic) data = options.optimistic(data);
    render();
    try {
      const result = await options.call();
      if (disposed) return result;
      for (const [id] of options.hold ?? []) holds.delete(id);
      if (options.done) data = options.done(data, result, seq === actionSeq);
      render();
      return result;
    } catch (err) {
      if (disposed) return null;
      for (const [id] of options.hold ?? []) holds.delete(id);
      data = before;
      render();
      pushToast("error", `${options.failure}: ${errorMessage(err)}`);
      void refresh();
      return null;
    }
  }

  const upsertAll = (d: WorkersData, list: readonly Worker[]): WorkersData => ({
    ...d,
    workers: list.reduce((acc, w) => upsertWorker(acc, w), d.workers),
  });
  const withQueue = (d: WorkersData, queue: QueueItem[]): WorkersData => ({
    ...d,
    queue: renumberQueue(queue),
    // items added or removed here change the total by as much (the next event says exactly)
    queueTotal: Math.max(
      queue.length,
      (d.queueTotal ?? d.queue.length) + queue.length - d.queue.length,
    ),
  });
  const upsertQueueItem = (d: WorkersData, item: QueueItem): WorkersData => {
    const exists = d.queue.some((q) => q.id === item.id);
    const queue = exists ? d.queue.map((q) => (q.id === item.id ? item : q)) : [...d.queue, item];
    return withQueue(d, sortQueue(queue));
  };
  const ok = (result: unknown) => result !== null;
  const nameOf = (id: string) => {
    const w = data.workers.find((x) => x.id === id);
    return w ? `"${w.specTitle}"` : "the worker";
  };

  const workerAction = (
    id: string,
    status: WorkerStatus,
    call: () => Promise<Worker>,
    failure: string,
  ) =>
    act({
      hold: [[id, status]],
      call,
      done: (d, worker) => ({ ...d, workers: upsertWorker(d.workers, worker) }),
      failure,
    }).then(ok);

  function reorder(ids: readonly string[]): Promise<boolean> {
    const order = [...ids];
    return act({
      optimistic: (d) => {
        const byId = new Map(d.queue.map((q) => [q.id, q]));
        const queue = order.flatMap((id) => byId.get(id) ?? []);
        return withQueue(d, queue);
      },
      call: () => trpc.queue.reorder.mutate({ ids: order }),
      // A later move may already be shown; an older answer would undo it.
      done: (d, queue, latest) => (latest ? withQueue(d, queue) : d),
      failure: "Could not reorder the queue",
    }).then(ok);
  }

  const active = createMemo(() => activeWorkers(state.workers));
  const recent = createMemo(() => recentWorkers(state.workers));

  return {
    state,
    active,
    recent,
    activeCount: () => active().length,
    full: () => state.maxWorkers > 0 && active().length >= state.maxWorkers,
    workerForSpec(specId) {
      return active().find((w) => w.specId === specId) ?? recent().find((w) => w.specId === specId);
    },
    queueItemForSpec(specId) {
      return state.queue.find((q) => q.specId === specId);
    },
    start(specId, priority, model) {
      return act({
        call: () =>
          trpc.workers.start.mutate({
            specId,
            ...(priority ? { priority } : {}),
            ...(model ? { model } : {}),
          }),
        done: (d, result) =>
          result.status === "started"
            ? { ...d, workers: upsertWorker(d.workers, result.worker) }
            : upsertQueueItem(d, result.queueItem),
        failure: "Could not start the spec",
      });
    },
    pause: (id) =>
      workerAction(
        id,
        "paused",
        () => trpc.workers.pause.mutate({ id }),
        `Could not pause ${nameOf(id)}`,
      ),
    resume: (id) =>
      workerAction(
        id,
        "running",
        () => trpc.workers.resume.mutate({ id }),
        `Could not resume ${nameOf(id)}`,
      ),
    stop: (id) =>
      workerAction(
        id,
        "stopped",
        () => trpc.workers.stop.mutate({ id }),
        `Could not stop ${nameOf(id)}`,
      ),
    pauseAll() {
      const running = data.workers.filter((w) => w.status === "running");
      return act({
        hold: running.map((w) => [w.id, "paused"] as const),
        call: () => trpc.workers.pauseAll.mutate(),
        done: upsertAll,
        failure: "Could not pause all workers",
      }).then(ok);
    },
    stopAll() {
      const list = data.workers.filter(isActive);
      return act({
        hold: list.map((w) => [w.id, "stopped"] as const),
        optimistic: (d) => ({ ...d, queuePaused: true }),
        call: () => trpc.workers.stopAll.mutate(),
        // The queue flag comes from events: the user may resume it before this answer arrives.
        done: upsertAll,
        failure: "Could not stop all workers",
      }).then(ok);
    },
    enqueue(specId, priority = 0, model) {
      return act({
        call: () => trpc.queue.add.mutate({ specId, priority, ...(model ? { model } : {}) }),
        done: upsertQueueItem,
        failure: "Could not add the spec to the queue",
      }).then(ok);
    },
    remove(queueId) {
      return act({
        optimistic: (d) =>
          withQueue(
            d,
            d.queue.filter((q) => q.id !== queueId),
          ),
        call: () => trpc.queue.remove.mutate({ id: queueId }),
        failure: "Could not remove the queued spec",
      }).then(ok);
    },
    setPriority(queueId, priority) {
      return act({
        optimistic: (d) =>
          withQueue(d, sortQueue(d.queue.map((q) => (q.id === queueId ? { ...q, priority } : q)))),
        call: () => trpc.queue.setPriority.mutate({ id: queueId, priority }),
        done: upsertQueueItem,
        failure: "Could not change the priority",
      }).then(ok);
    },
    reorder,
    move(queueId, toIndex) {
      const from = data.queue.findIndex((q) => q.id === queueId);
      if (from < 0) return Promise.resolve(false);
      const to = Math.max(0, Math.min(data.queue.length - 1, toIndex));
      if (from === to) return Promise.resolve(true);
      if ((data.queueTotal ?? 0) <= data.queue.length) {
        return reorder(moveItem(data.queue, from, to).map((q) => q.id));
      }
      // only the head is loaded: the server moves the item (the rest keep their order)
      return act({
        optimistic: (d) => withQueue(d, moveItem(d.queue, from, to)),
        call: () => trpc.queue.move.mutate({ id: queueId, position: to + 1 }),
        done: (d) => d, // its queue_updated brings the new head
        failure: "Could not reorder the queue",
      }).then(ok);
    },
    setQueuePaused(paused) {
      return act({
        optimistic: (d) => ({
          ...d,
          queuePaused: paused,
          queueHoldReason: paused ? d.queueHoldReason : null,
        }),
        call: () => trpc.queue.setPaused.mutate({ paused }),
        done: (d, result, latest) => (latest ? { ...d, queuePaused: result.paused } : d),
        failure: paused ? "Could not pause the queue" : "Could not resume the queue",
      }).then(ok);
    },
    setMaxWorkers(maxWorkers) {
      return act({
        optimistic: (d) => ({ ...d, maxWorkers }),
        call: () => trpc.settings.update.mutate({ maxWorkers }),
        done: (d, result) => ({ ...d, maxWorkers: result.maxWorkers }),
        failure: "Could not change the number of worker slots",
      }).then(ok);
    },
    refresh,
    listen(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onReconnect(listener) {
      reconnectListeners.add(listener);
      return () => reconnectListeners.delete(listener);
    },
  };
}

const STORE_TYPES = new Set<string>(STORE_EVENT_TYPES);

/** Queue order as the server keeps it: priority first (high to low), then time added. */
export function sortQueue(queue: readonly QueueItem[]): QueueItem[] {
  return [...queue].sort((a, b) => b.priority - a.priority || a.addedAt - b.addedAt);
}
