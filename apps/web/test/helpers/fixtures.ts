import { type EventPayload, emptyUsage, parseWorkerEvent } from "@glm-workers/core/events";
import type { QueueItem, Worker, WorkerEvent, WorkerEventType } from "../../src/lib/types.ts";

/** The spec and project of `id`'s worker or queue item. */
function specOf(id: string) {
  return {
    specId: `spec-${id}`,
    projectId: `project-${id}`,
    projectName: `project ${id}`,
    specTitle: `Spec ${id}`,
  };
}

/** A worker view as the server sends it: running, simulated, nothing landed or used yet. */
export function worker(id: string, patch: Partial<Worker> = {}): Worker {
  return {
    id,
    ...specOf(id),
    status: "running",
    currentChunkId: null,
    currentChunkTitle: null,
    currentStep: null,
    stepDetail: null,
    progress: { current: 0, total: 4, passed: 0, failed: 0 },
    startedAt: 1000,
    finishedAt: null,
    error: null,
    executor: "simulated",
    executorLabel: "Simulated",
    model: null,
    branch: null,
    workdir: null,
    baseBranch: null,
    baseCommit: null,
    landed: null,
    changes: null,
    usage: emptyUsage(),
    ...patch,
  };
}

/** A queue item waiting for a slot. */
export function item(id: string, priority = 0, addedAt = 1): QueueItem {
  return {
    id,
    ...specOf(id),
    priority,
    addedAt,
    position: 99,
    waitReason: "no_slot",
    waitDetail: "all worker slots in use (2/2)",
    model: null,
  };
}

let nextId = 1;
/** A published event built the way the server builds it, checked by the shared protocol. */
export function event<T extends WorkerEventType>(
  type: T,
  payload: EventPayload<T>,
  workerId: string | null = null,
): WorkerEvent {
  return parseWorkerEvent({
    ...payload,
    id: nextId++,
    type,
    payload,
    workerId,
    specId: null,
    at: 5000,
  });
}
