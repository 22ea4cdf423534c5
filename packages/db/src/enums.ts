/**
 * Every closed list of names the product stores or publishes, defined once. The drizzle schema,
 * the zod event protocol (`events.ts`), the core package and the web app all reuse these.
 * This module imports nothing, so a browser bundle can take it.
 */

export const SPEC_STATUSES = [
  "draft",
  "ready",
  "running",
  "completed",
  "review",
  "failed",
] as const;
export type SpecStatus = (typeof SPEC_STATUSES)[number];

export const CHUNK_STATUSES = ["pending", "running", "completed", "failed", "cancelled"] as const;
export type ChunkStatus = (typeof CHUNK_STATUSES)[number];

export const REVIEW_STATUSES = ["pass", "needs_fix", "fail"] as const;
export type ReviewStatus = (typeof REVIEW_STATUSES)[number];

export const WORKER_STATUSES = [
  "idle",
  "running",
  "paused",
  "completed",
  "failed",
  "stopped",
] as const;
export type WorkerStatus = (typeof WORKER_STATUSES)[number];

/** Statuses that hold a worker slot (idle = claimed, thread not started yet). */
export const ACTIVE_WORKER_STATUSES = [
  "idle",
  "running",
  "paused",
] as const satisfies readonly WorkerStatus[];
export const FINISHED_WORKER_STATUSES = [
  "completed",
  "failed",
  "stopped",
] as const satisfies readonly WorkerStatus[];
export type ActiveWorkerStatus = (typeof ACTIVE_WORKER_STATUSES)[number];
export type FinishedWorkerStatus = (typeof FINISHED_WORKER_STATUSES)[number];

export const WORKER_STEPS = ["executing", "reviewing"] as const;
export type WorkerStep = (typeof WORKER_STEPS)[number];

export const EXECUTOR_KINDS = ["simulated", "opencode", "command"] as const;
export type ExecutorKind = (typeof EXECUTOR_KINDS)[number];

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const TOOL_STATUSES = ["started", "completed", "failed"] as const;
export type ToolStatus = (typeof TOOL_STATUSES)[number];

/** What happened to a chunk in a `chunk_updated` event. */
export const CHUNK_EVENTS = ["started", "finished", "inserted", "cancelled", "updated"] as const;
export type ChunkEvent = (typeof CHUNK_EVENTS)[number];

/** Why a queued item has not started yet. */
export const WAIT_REASONS = ["no_slot", "project_busy", "memory", "paused_queue", "quota"] as const;
export type WaitReason = (typeof WAIT_REASONS)[number];

/** Why a worker's thread (re)started. */
export const START_REASONS = ["started", "recovered", "resumed"] as const;
export type StartReason = (typeof START_REASONS)[number];

/** How a finished run's branch can be merged into the branch it started from. */
export const MERGE_STRATEGIES = ["squash", "merge", "rebase"] as const;
export type MergeStrategy = (typeof MERGE_STRATEGIES)[number];

/** What became of a finished run's work: merged one of three ways, or thrown away. */
export const LANDING_KINDS = ["squashed", "merged", "rebased", "discarded"] as const;
export type LandingKind = (typeof LANDING_KINDS)[number];

/** Settings the orchestrator keeps across restarts. */
export const SETTING_KEYS = ["maxWorkers", "queuePaused"] as const;
export type SettingKey = (typeof SETTING_KEYS)[number];

/** Events that report a worker's state; each carries the worker's full view. */
export const WORKER_STATE_EVENT_TYPES = [
  "worker_started",
  "worker_progress",
  "worker_paused",
  "worker_resumed",
  "worker_completed",
  "worker_failed",
  "worker_stopped",
  "worker_landed",
] as const;
/** Events about no single worker (their `workerId` is null). */
export const GLOBAL_EVENT_TYPES = ["queue_updated", "settings_updated"] as const;
/** What a run produces while it works: log lines, tool calls, chunk changes. */
export const RUN_OUTPUT_EVENT_TYPES = ["log", "tool", "chunk_updated"] as const;
/** A run's model usage changed (tokens, requests, API-equivalent cost). */
export const USAGE_EVENT_TYPES = ["usage_updated"] as const;

/** Event names published on the bus, the SSE feed and tRPC subscriptions. */
export const WORKER_EVENT_TYPES = [
  ...WORKER_STATE_EVENT_TYPES,
  ...GLOBAL_EVENT_TYPES,
  ...RUN_OUTPUT_EVENT_TYPES,
  ...USAGE_EVENT_TYPES,
] as const;
export type WorkerEventType = (typeof WORKER_EVENT_TYPES)[number];
export type GlobalEventType = (typeof GLOBAL_EVENT_TYPES)[number];
