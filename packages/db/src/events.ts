import { z } from "zod";
import {
  CHUNK_EVENTS,
  CHUNK_STATUSES,
  EXECUTOR_KINDS,
  GLOBAL_EVENT_TYPES,
  type GlobalEventType,
  LANDING_KINDS,
  LOG_LEVELS,
  REVIEW_STATUSES,
  SETTING_KEYS,
  START_REASONS,
  TOOL_STATUSES,
  WAIT_REASONS,
  WORKER_STATUSES,
  WORKER_STEPS,
  type WorkerEventType,
} from "./enums.ts";

/**
 * The one typed event protocol: every event the orchestrator publishes, as stored in
 * `worker_events` and as the bus, the SSE feed, the tRPC subscription and the web store see it.
 *
 * An event is the stored envelope (`id`, `workerId`, `specId`, `type`, `payload`, `at`) with the
 * payload's fields repeated at top level, so an SSE consumer reads `data.worker`,
 * `data.progress`, `data.error` or `data.queue` directly. Imports only zod and `enums.ts`.
 */

export const progressSchema = z.object({
  current: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
  passed: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
});
export type Progress = z.infer<typeof progressSchema>;

/** Fields of a chunk that changed; `id` always present. */
export const chunkPatchSchema = z.object({
  id: z.string(),
  status: z.enum(CHUNK_STATUSES).optional(),
  title: z.string().optional(),
  description: z.string().optional(),
  order: z.number().int().optional(),
  fixOf: z.string().nullable().optional(),
  dependencies: z.array(z.string()).optional(),
  outputSummary: z.string().nullable().optional(),
  error: z.string().nullable().optional(),
  reviewStatus: z.enum(REVIEW_STATUSES).nullable().optional(),
  reviewFeedback: z.string().nullable().optional(),
  commitHash: z.string().nullable().optional(),
  startedAt: z.number().nullable().optional(),
  completedAt: z.number().nullable().optional(),
});
export type ChunkPatch = z.infer<typeof chunkPatchSchema>;

/**
 * Model usage: tokens by kind, model requests, and the estimated API-equivalent cost in USD (what
 * the same tokens would cost at the model's pay-as-you-go price; the coding plan itself is
 * flat-rate). `costUsd` covers the requests whose model has a known price: 0 without usage, null
 * when there is usage but no price is known for any of it. `inputTokens` counts all input
 * (`cacheReadTokens` of it cached), `outputTokens` all output (`reasoningTokens` of it reasoning,
 * billed as output).
 */
export const usageSchema = z.object({
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  reasoningTokens: z.number().int().nonnegative(),
  cacheReadTokens: z.number().int().nonnegative(),
  requests: z.number().int().nonnegative(),
  costUsd: z.number().nonnegative().nullable(),
});
export type Usage = z.infer<typeof usageSchema>;

/** Usage of nothing yet. */
export function emptyUsage(): Usage {
  return {
    inputTokens: 0,
    outputTokens: 0,
    reasoningTokens: 0,
    cacheReadTokens: 0,
    requests: 0,
    costUsd: 0,
  };
}

/** A chunk's usage per step, over every run of its spec; null: the step used no model yet. */
export const chunkUsageSchema = z.object({
  executing: usageSchema.nullable(),
  reviewing: usageSchema.nullable(),
});
export type ChunkUsage = z.infer<typeof chunkUsageSchema>;

/** The usage summary of the whole server: the last 5 hours (exact, per request) and all time. */
export const usageSummarySchema = z.object({
  last5h: usageSchema,
  total: usageSchema,
});
export type UsageSummary = z.infer<typeof usageSummarySchema>;

/** What became of a finished run's work; `commit` is the base branch's new commit (null: discarded). */
export const landedSchema = z.object({
  how: z.enum(LANDING_KINDS),
  commit: z.string().nullable(),
  at: z.number(),
});
export type Landed = z.infer<typeof landedSchema>;

/** What a run's branch changes against the commit it started from. */
export const changesSchema = z.object({
  files: z.number().int().nonnegative(),
  additions: z.number().int().nonnegative(),
  deletions: z.number().int().nonnegative(),
});
export type Changes = z.infer<typeof changesSchema>;

/** The public shape of a worker (one spec run), as the REST API, tRPC and the dashboard see it. */
export const workerViewSchema = z.object({
  id: z.string(),
  specId: z.string(),
  projectId: z.string(),
  projectName: z.string(),
  specTitle: z.string(),
  status: z.enum(WORKER_STATUSES),
  currentChunkId: z.string().nullable(),
  currentChunkTitle: z.string().nullable(),
  currentStep: z.enum(WORKER_STEPS).nullable(),
  /**
   * A short live state of the current step, e.g. `retrying in 8 s: rate limited`. Events stored
   * before the field existed read as null (so do `model` and the queue item's `model`).
   */
  stepDetail: z.string().nullable().default(null),
  progress: progressSchema,
  startedAt: z.number().nullable(),
  finishedAt: z.number().nullable(),
  error: z.string().nullable(),
  executor: z.enum(EXECUTOR_KINDS),
  executorLabel: z.string(),
  /** The model id (`provider/model`) the run uses, recorded when it was claimed. */
  model: z.string().nullable().default(null),
  branch: z.string().nullable(),
  workdir: z.string().nullable(),
  /** The branch checked out in the project when the run's branch was made (what a merge goes into). */
  baseBranch: z.string().nullable().default(null),
  /** The commit the run's branch started from. */
  baseCommit: z.string().nullable().default(null),
  /** Null until the run's work is merged or discarded. */
  landed: landedSchema.nullable().default(null),
  /** `+additions −deletions in files`, counted when the run ended; null: not counted (no git, running). */
  changes: changesSchema.nullable().default(null),
  /** The run's model usage so far (events stored before the field existed read as none). */
  usage: usageSchema.default(emptyUsage),
});
export type WorkerView = z.infer<typeof workerViewSchema>;

/** The most queue items a `queue_updated` event carries (the head of the queue). */
export const QUEUE_EVENT_ITEMS = 100;

/** A waiting spec; `position` is its 1-based place in the queue. */
export const queueItemViewSchema = z.object({
  id: z.string(),
  specId: z.string(),
  projectId: z.string(),
  projectName: z.string(),
  specTitle: z.string(),
  priority: z.number().int(),
  addedAt: z.number(),
  position: z.number().int().positive(),
  waitReason: z.enum(WAIT_REASONS).nullable(),
  waitDetail: z.string().nullable(),
  /** The model asked for when it was queued (null: the spec's, else the server's default). */
  model: z.string().nullable().default(null),
});
export type QueueItemView = z.infer<typeof queueItemViewSchema>;

const worker = { worker: workerViewSchema };

/** The payload of each event type; these fields are also repeated at the event's top level. */
export const eventPayloadShapes = {
  worker_started: { ...worker, reason: z.enum(START_REASONS) },
  worker_progress: { ...worker, progress: progressSchema },
  worker_paused: worker,
  worker_resumed: { ...worker, reason: z.enum(START_REASONS) },
  worker_completed: worker,
  worker_failed: { ...worker, error: z.string().min(1) },
  worker_stopped: { ...worker, reason: z.string() },
  worker_landed: { ...worker, how: z.enum(LANDING_KINDS) },
  queue_updated: {
    /**
     * The head of the queue in order: every item when at most QUEUE_EVENT_ITEMS wait, else the
     * first QUEUE_EVENT_ITEMS (the rest are read page by page through the queue API).
     */
    queue: z.array(queueItemViewSchema),
    /** Items queued in all (events stored before the field existed read as `queue.length`). */
    total: z.number().int().nonnegative().optional(),
    paused: z.boolean(),
    /** Why the product held the queue (a refused key…); null when the user paused it or it runs. */
    holdReason: z.string().nullable().default(null),
  },
  log: { chunkId: z.string().nullable(), level: z.enum(LOG_LEVELS), line: z.string() },
  tool: {
    chunkId: z.string().nullable(),
    name: z.string(),
    status: z.enum(TOOL_STATUSES),
    detail: z.string().nullable(),
  },
  chunk_updated: { event: z.enum(CHUNK_EVENTS), chunk: chunkPatchSchema },
  usage_updated: {
    /** The chunk and step the usage was attributed to; null when the run had no current chunk. */
    chunkId: z.string().nullable(),
    step: z.enum(WORKER_STEPS).nullable(),
    /** The run's usage after the change (its worker view's `usage`). */
    usage: usageSchema,
    /** This chunk step's usage over every run of the spec after the change; null without a chunk. */
    chunkUsage: usageSchema.nullable(),
    /** The spec's usage over all its runs after the change. */
    specUsage: usageSchema,
  },
  settings_updated: {
    /** The setting that changed, and the orchestrator's settings after the change. */
    key: z.enum(SETTING_KEYS),
    /** As stored: `queuePaused` a boolean, `maxWorkers` the value and the configured one. */
    value: z.union([
      z.boolean(),
      z.object({ value: z.number().int(), configured: z.number().int() }),
    ]),
    maxWorkers: z.number().int().positive(),
    queuePaused: z.boolean(),
  },
} as const satisfies Record<WorkerEventType, z.ZodRawShape>;

type Shapes = typeof eventPayloadShapes;
type EventType = keyof Shapes;

/** Events about one worker carry its id; queue and settings events carry null. */

function variant<T extends EventType>(type: T) {
  const shape = eventPayloadShapes[type] as Shapes[T];
  const global = (GLOBAL_EVENT_TYPES as readonly string[]).includes(type);
  return z.object({
    ...shape,
    id: z.number().int().positive(),
    workerId: (global ? z.null() : z.string()) as T extends GlobalEventType
      ? z.ZodNull
      : z.ZodString,
    specId: z.string().nullable(),
    type: z.literal(type),
    payload: z.object(shape),
    at: z.number(),
  });
}

export const workerEventSchema = z.discriminatedUnion("type", [
  variant("worker_started"),
  variant("worker_progress"),
  variant("worker_paused"),
  variant("worker_resumed"),
  variant("worker_completed"),
  variant("worker_failed"),
  variant("worker_stopped"),
  variant("worker_landed"),
  variant("queue_updated"),
  variant("log"),
  variant("tool"),
  variant("chunk_updated"),
  variant("usage_updated"),
  variant("settings_updated"),
]);
/** A published event. Narrow on `type` to reach its fields. */
export type WorkerEvent = z.infer<typeof workerEventSchema>;
export type WorkerEventOf<T extends EventType> = Extract<WorkerEvent, { type: T }>;
export type EventPayload<T extends EventType> = WorkerEventOf<T>["payload"];

/** An event to store: its envelope and payload (ids and top-level copies are added on publish). */
export type NewEvent = {
  [T in EventType]: {
    type: T;
    workerId: WorkerEventOf<T>["workerId"];
    specId: string | null;
    payload: EventPayload<T>;
    at?: number;
  };
}[EventType];

/** The stored row of an event (`worker_events`). */
export interface StoredEvent {
  id: number;
  workerId: string | null;
  specId: string | null;
  type: EventType;
  payload: Record<string, unknown>;
  at: number;
}

/**
 * The published form of a stored event: the envelope plus the payload's fields at top level.
 * Rows written through the store hold payloads of their type's shape (the store's `NewEvent`
 * type guarantees it), so no parsing is needed on the hot path; `parseWorkerEvent` checks.
 */
export function toWorkerEvent(row: StoredEvent): WorkerEvent {
  return { ...row.payload, ...row } as WorkerEvent;
}

/** Strict check of an event received from elsewhere (a client, a test). */
export function parseWorkerEvent(value: unknown): WorkerEvent {
  return workerEventSchema.parse(value);
}
