import type { QueueItemView, WorkerView } from "@glm-workers/db/events";

export type {
  WaitReason,
  WorkerEventType,
  WorkerStatus,
  WorkerStep as WorkerStepName,
} from "@glm-workers/db/enums";
export { WAIT_REASONS, WORKER_EVENT_TYPES } from "@glm-workers/db/enums";
/** The event protocol and the view shapes are defined once, in the db package. */
export type {
  EventPayload,
  QueueItemView,
  WorkerEvent,
  WorkerEventOf,
  WorkerView,
} from "@glm-workers/db/events";
export {
  parseWorkerEvent,
  queueItemViewSchema,
  workerEventSchema,
  workerViewSchema,
} from "@glm-workers/db/events";

export type StartResult =
  | { status: "started"; worker: WorkerView }
  | { status: "queued"; queueItem: QueueItemView };

export interface OrchestratorSnapshot {
  workers: WorkerView[];
  activeCount: number;
  maxWorkers: number;
  queue: QueueItemView[];
}
