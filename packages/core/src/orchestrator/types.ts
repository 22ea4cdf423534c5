import type { QueueItemView, WorkerView } from "@glm-workers/db/events";
import type { UsageReport } from "@glm-workers/db/store";

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

/**
 * One finished model request of a run, as the gateway reports it from the answer's `usage`:
 * `inputTokens` counts every input token (cached ones included; `cacheReadTokens` of them came
 * from the cache), `outputTokens` every output token (reasoning included; `reasoningTokens` of
 * them). `model` is the model the request used (`provider/model` or a bare name); null: the
 * model the run records.
 */
export type ModelUsage = Pick<
  UsageReport,
  "inputTokens" | "outputTokens" | "reasoningTokens" | "cacheReadTokens" | "requests" | "model"
>;
