import {
  ACTIVE_WORKER_STATUSES,
  GLOBAL_EVENT_TYPES,
  USAGE_EVENT_TYPES,
  WORKER_STATE_EVENT_TYPES,
} from "@glm-workers/core/events";
import type { QueueItem, Worker, WorkerEvent, WorkerEventType } from "./types.ts";

/**
 * Plain (non-reactive) helpers of the workers store: how one server event changes the
 * dashboard's data. Every rule sets absolute values (never "add one"), so replaying an event
 * that a fresh snapshot already contains is harmless. Events are the shared typed protocol
 * (`@glm-workers/core/events`), checked by the feed before they get here.
 */

export interface WorkersData {
  workers: Worker[];
  /** The head of the queue (all of it when it is short; see QUEUE_PAGE). */
  queue: QueueItem[];
  /** Items queued in all; more than `queue.length` when only the head is loaded. */
  queueTotal?: number;
  maxWorkers: number;
  queuePaused: boolean;
  /** Why the product holds the queue (the upstream refused the key…); null otherwise. */
  queueHoldReason: string | null;
}

/** How many queued items the dashboard loads (the head; `queue_updated` carries as many). */
export const QUEUE_PAGE = 100;

/** How many finished workers the dashboard keeps in its "Recent" list. */
export const RECENT_LIMIT = 20;

/** The event types the shared store listens to (logs and chunk changes go to their views). */
export const STORE_EVENT_TYPES: readonly WorkerEventType[] = [
  ...WORKER_STATE_EVENT_TYPES,
  ...GLOBAL_EVENT_TYPES,
  ...USAGE_EVENT_TYPES,
];

export function isActive(worker: Pick<Worker, "status">): boolean {
  return (ACTIVE_WORKER_STATUSES as readonly string[]).includes(worker.status);
}

/** Inserts or replaces `worker` (by id); a run that finishes moves to the recent list. */
export function upsertWorker(list: readonly Worker[], worker: Worker): Worker[] {
  const index = list.findIndex((w) => w.id === worker.id);
  const next = index < 0 ? [...list, worker] : list.map((w, i) => (i === index ? worker : w));
  return trimRecent(next);
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

/** The data after `event`; events the store does not follow change nothing. */
export function applyEvent(data: WorkersData, event: WorkerEvent): WorkersData {
  switch (event.type) {
    case "queue_updated":
      return {
        ...data,
        queue: renumberQueue(event.queue),
        queueTotal: event.total ?? event.queue.length,
        queuePaused: event.paused,
        queueHoldReason: event.paused ? event.holdReason : null,
      };
    case "settings_updated":
      return {
        ...data,
        maxWorkers: event.maxWorkers,
        queuePaused: event.queuePaused,
        queueHoldReason: event.queuePaused ? data.queueHoldReason : null,
      };
    case "worker_started":
    case "worker_progress":
    case "worker_paused":
    case "worker_resumed":
    case "worker_completed":
    case "worker_failed":
    case "worker_stopped":
    case "worker_landed":
      // a landed run (merged or discarded) carries its view with `landed` set: updated in place
      return { ...data, workers: upsertWorker(data.workers, event.worker) };
    case "usage_updated": {
      // the run's usage after the change (absolute), for a worker the store already shows
      const usage = event.usage;
      const known = data.workers.some((w) => w.id === event.workerId);
      if (!known) return data;
      return {
        ...data,
        workers: data.workers.map((w) => (w.id === event.workerId ? { ...w, usage } : w)),
      };
    }
    default:
      return data;
  }
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
