import type { QueueItem, Worker, WorkerEvent, WorkerEventType, WorkerStatus } from "./types.ts";

/**
 * Plain (non-reactive) helpers of the workers store: how one server event changes the
 * dashboard's data. Every rule sets absolute values (never "add one"), so replaying an event
 * that a fresh snapshot already contains is harmless.
 */

export interface WorkersData {
  workers: Worker[];
  queue: QueueItem[];
  maxWorkers: number;
  queuePaused: boolean;
}

/** Statuses that hold a worker slot. */
export const ACTIVE_STATUSES: readonly WorkerStatus[] = ["idle", "running", "paused"];
/** How many finished workers the dashboard keeps in its "Recent" list. */
export const RECENT_LIMIT = 20;

/** The event types the shared store listens to (logs and chunk changes go to their views). */
export const STORE_EVENT_TYPES = [
  "worker_started",
  "worker_progress",
  "worker_paused",
  "worker_resumed",
  "worker_completed",
  "worker_failed",
  "worker_stopped",
  "queue_updated",
  "settings_updated",
] as const satisfies readonly WorkerEventType[];

export function isActive(worker: Pick<Worker, "status">): boolean {
  return ACTIVE_STATUSES.includes(worker.status);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A worker view carried in an event payload (checked loosely: the server built it). */
function workerOf(value: unknown): Worker | null {
  if (!isRecord(value)) return null;
  if (typeof value.id !== "string" || typeof value.status !== "string") return null;
  if (!isRecord(value.progress)) return null;
  return value as unknown as Worker;
}

function queueOf(value: unknown): QueueItem[] | null {
  if (!Array.isArray(value)) return null;
  return value.every((q) => isRecord(q) && typeof q.id === "string" && typeof q.specId === "string")
    ? (value as QueueItem[])
    : null;
}

const STATUS_OF_EVENT: Partial<Record<WorkerEventType, WorkerStatus>> = {
  worker_started: "running",
  worker_paused: "paused",
  worker_resumed: "running",
  worker_completed: "completed",
  worker_failed: "failed",
  worker_stopped: "stopped",
};

/** Inserts or replaces `worker` (by id); a run that finishes moves to the recent list. */
export function upsertWorker(list: readonly Worker[], worker: Worker): Worker[] {
  const index = list.findIndex((w) => w.id === worker.id);
  const next = index < 0 ? [...list, worker] : list.map((w, i) => (i === index ? worker : w));
  return trimRecent(next);
}

function patchWorker(list: readonly Worker[], id: string, patch: Partial<Worker>): Worker[] {
  return list.map((w) => (w.id === id ? { ...w, ...patch } : w));
}

/** Keeps every active worker and the newest `RECENT_LIMIT` finished ones. */
export function trimRecent(list: Worker[]): Worker[] {
  const finished = list.filter((w) => !isActive(w));
  if (finished.length <= RECENT_LIMIT) return list;
  const keep = new Set(
    [...finished]
      .sort((a, b) => (b.finishedAt ?? 0) - (a.finishedAt ?? 0))
      .slice(0, RECENT_LIMIT)
      .map((w) => w.id),
  );
  return list.filter((w) => isActive(w) || keep.has(w.id));
}

/** Numbers positions 1..n in list order. */
export function renumberQueue(queue: readonly QueueItem[]): QueueItem[] {
  return queue.map((q, i) => (q.position === i + 1 ? q : { ...q, position: i + 1 }));
}

/** The data after `event`. Unknown or malformed events change nothing. */
export function applyEvent(data: WorkersData, event: WorkerEvent): WorkersData {
  const payload: Record<string, unknown> = isRecord(event.payload) ? event.payload : {};
  switch (event.type) {
    case "queue_updated": {
      const queue = queueOf(payload.queue);
      return {
        ...data,
        queue: queue ? renumberQueue(queue) : data.queue,
        queuePaused: typeof payload.paused === "boolean" ? payload.paused : data.queuePaused,
      };
    }
    case "settings_updated": {
      if (payload.key === "maxWorkers" && typeof payload.value === "number") {
        return { ...data, maxWorkers: payload.value };
      }
      if (payload.key === "queuePaused" && typeof payload.value === "boolean") {
        return { ...data, queuePaused: payload.value };
      }
      return data;
    }
    default:
      break;
  }
  const status = STATUS_OF_EVENT[event.type];
  const worker = workerOf(payload.worker);
  if (worker) return { ...data, workers: upsertWorker(data.workers, worker) };
  if (!status || !event.workerId) return data;
  const known = data.workers.find((w) => w.id === event.workerId);
  if (!known) return data;
  const patch: Partial<Worker> = { status };
  if (!ACTIVE_STATUSES.includes(status)) {
    patch.finishedAt = known.finishedAt ?? event.at;
    patch.currentStep = null;
    if (typeof payload.error === "string") patch.error = payload.error;
  }
  return { ...data, workers: trimRecent(patchWorker(data.workers, known.id, patch)) };
}

/** Active workers, oldest start first. */
export function activeWorkers(list: readonly Worker[]): Worker[] {
  return list
    .filter(isActive)
    .sort(
      (a, b) => (a.startedAt ?? Number.MAX_SAFE_INTEGER) - (b.startedAt ?? Number.MAX_SAFE_INTEGER),
    );
}

/** Finished workers, newest first. */
export function recentWorkers(list: readonly Worker[]): Worker[] {
  return list.filter((w) => !isActive(w)).sort((a, b) => (b.finishedAt ?? 0) - (a.finishedAt ?? 0));
}
