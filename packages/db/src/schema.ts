import { sql } from "drizzle-orm";
import {
  index,
  integer,
  primaryKey,
  sqliteTable,
  text,
  uniqueIndex,
} from "drizzle-orm/sqlite-core";
import {
  CHUNK_STATUSES,
  EXECUTOR_KINDS,
  LANDING_KINDS,
  REVIEW_STATUSES,
  SPEC_STATUSES,
  WORKER_EVENT_TYPES,
  WORKER_STATUSES,
  WORKER_STEPS,
} from "./enums.ts";

/** All ids are text (UUID v4 unless stated); all times are epoch milliseconds. */

export {
  CHUNK_STATUSES,
  type ChunkStatus,
  REVIEW_STATUSES,
  type ReviewStatus,
  SPEC_STATUSES,
  type SpecStatus,
  WORKER_STATUSES,
  WORKER_STEPS,
  type WorkerStatus,
  type WorkerStep,
} from "./enums.ts";

export const projects = sqliteTable("projects", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  directory: text("directory").notNull(),
  description: text("description"),
  config: text("config", { mode: "json" }).$type<Record<string, unknown>>().notNull().default({}),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

export const specs = sqliteTable(
  "specs",
  {
    id: text("id").primaryKey(),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    title: text("title").notNull(),
    content: text("content").notNull().default(""),
    status: text("status", { enum: SPEC_STATUSES }).notNull().default("draft"),
    branch: text("branch"),
    /** The opencode model id (`provider/model`) its runs use; null: the server's default. */
    model: text("model"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("idx_specs_project").on(t.projectId, t.createdAt)],
);

export const chunks = sqliteTable(
  "chunks",
  {
    id: text("id").primaryKey(),
    specId: text("spec_id")
      .notNull()
      .references(() => specs.id, { onDelete: "cascade" }),
    title: text("title").notNull(),
    description: text("description").notNull().default(""),
    order: integer("order").notNull(),
    status: text("status", { enum: CHUNK_STATUSES }).notNull().default("pending"),
    outputSummary: text("output_summary"),
    error: text("error"),
    reviewStatus: text("review_status", { enum: REVIEW_STATUSES }),
    reviewFeedback: text("review_feedback"),
    dependencies: text("dependencies", { mode: "json" }).$type<string[]>().notNull().default([]),
    fixOf: text("fix_of"),
    commitHash: text("commit_hash"),
    startedAt: integer("started_at"),
    completedAt: integer("completed_at"),
  },
  (t) => [index("idx_chunks_spec_order").on(t.specId, t.order)],
);

export const workers = sqliteTable(
  "workers",
  {
    id: text("id").primaryKey(),
    specId: text("spec_id")
      .notNull()
      .references(() => specs.id, { onDelete: "cascade" }),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    status: text("status", { enum: WORKER_STATUSES }).notNull().default("idle"),
    executor: text("executor", { enum: EXECUTOR_KINDS }).notNull().default("simulated"),
    currentChunkId: text("current_chunk_id"),
    currentStep: text("current_step", { enum: WORKER_STEPS }),
    /** A short live state of the current step (`retrying in 8 s: rate limited`), else null. */
    stepDetail: text("step_detail"),
    /** The model this run uses, resolved when it was claimed (override, spec, server default). */
    model: text("model"),
    progressCurrent: integer("progress_current").notNull().default(0),
    progressTotal: integer("progress_total").notNull().default(0),
    progressPassed: integer("progress_passed").notNull().default(0),
    progressFailed: integer("progress_failed").notNull().default(0),
    workdir: text("workdir"),
    branch: text("branch"),
    /** The branch checked out in the project directory when the run's branch was made. */
    baseBranch: text("base_branch"),
    /** The commit the run's branch started from (what its diff is against). */
    baseCommit: text("base_commit"),
    /** How the run's work was landed (merged one of three ways, or discarded); null: not yet. */
    landedHow: text("landed_how", { enum: LANDING_KINDS }),
    /** The commit on the base branch that holds the work (null when discarded). */
    landedCommit: text("landed_commit"),
    landedAt: integer("landed_at"),
    /** What the run's branch changes against its base, counted when the run ended. */
    changesFiles: integer("changes_files"),
    changesAdditions: integer("changes_additions"),
    changesDeletions: integer("changes_deletions"),
    startedAt: integer("started_at"),
    finishedAt: integer("finished_at"),
    error: text("error"),
    leaseOwner: text("lease_owner"),
    leaseExpiresAt: integer("lease_expires_at"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("idx_workers_status").on(t.status), index("idx_workers_spec").on(t.specId)],
);

export const workerQueue = sqliteTable(
  "worker_queue",
  {
    id: text("id").primaryKey(),
    specId: text("spec_id")
      .notNull()
      .references(() => specs.id, { onDelete: "cascade" }),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    priority: integer("priority").notNull().default(0),
    addedAt: integer("added_at").notNull(),
    /** The model asked for when the run was queued (overrides the spec's); null: none. */
    model: text("model"),
    /** Why the item still waits (no slot, project busy, memory); null when it is next in line. */
    waitReason: text("wait_reason"),
  },
  (t) => [
    uniqueIndex("uq_queue_spec").on(t.specId),
    index("idx_queue_priority").on(sql`${t.priority} DESC`, sql`${t.addedAt} ASC`),
  ],
);

export const workerEvents = sqliteTable(
  "worker_events",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    workerId: text("worker_id"),
    specId: text("spec_id"),
    type: text("type", { enum: WORKER_EVENT_TYPES }).notNull(),
    payload: text("payload", { mode: "json" })
      .$type<Record<string, unknown>>()
      .notNull()
      .default({}),
    at: integer("at").notNull(),
  },
  (t) => [index("idx_events_worker").on(t.workerId, t.id), index("idx_events_at").on(t.at)],
);

/**
 * Usage counters, added to with `+=` as model requests finish: tokens by kind, requests, and the
 * API-equivalent cost in micro-USD of the requests whose model has a known price
 * (`priced_requests` of them; the cost is unknown when there are requests but none is priced).
 */
const usageCounters = () => ({
  inputTokens: integer("input_tokens").notNull().default(0),
  outputTokens: integer("output_tokens").notNull().default(0),
  reasoningTokens: integer("reasoning_tokens").notNull().default(0),
  cacheReadTokens: integer("cache_read_tokens").notNull().default(0),
  requests: integer("requests").notNull().default(0),
  pricedRequests: integer("priced_requests").notNull().default(0),
  costMicros: integer("cost_micros").notNull().default(0),
});

/** A run's usage (every request it made); gone with its worker. */
export const runUsage = sqliteTable("run_usage", {
  workerId: text("worker_id")
    .primaryKey()
    .references(() => workers.id, { onDelete: "cascade" }),
  ...usageCounters(),
  updatedAt: integer("updated_at").notNull(),
});

/** The usage of one step (executing, reviewing) of one chunk in one run. */
export const chunkUsage = sqliteTable(
  "chunk_usage",
  {
    chunkId: text("chunk_id")
      .notNull()
      .references(() => chunks.id, { onDelete: "cascade" }),
    step: text("step", { enum: WORKER_STEPS }).notNull(),
    workerId: text("worker_id")
      .notNull()
      .references(() => workers.id, { onDelete: "cascade" }),
    ...usageCounters(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.chunkId, t.step, t.workerId] })],
);

/**
 * One row per reported model request (or batch of them), with its time: what the summary's
 * time windows ("the last 5 hours") are counted from. A log: it keeps the ids of runs that were
 * deleted since, so the summary still counts what they used.
 */
export const usageRequests = sqliteTable(
  "usage_requests",
  {
    id: integer("id").primaryKey(),
    at: integer("at").notNull(),
    workerId: text("worker_id"),
    chunkId: text("chunk_id"),
    step: text("step", { enum: WORKER_STEPS }),
    model: text("model"),
    ...usageCounters(),
  },
  (t) => [index("idx_usage_requests_at").on(t.at)],
);

export const settings = sqliteTable("settings", {
  key: text("key").primaryKey(),
  value: text("value", { mode: "json" }).$type<unknown>().notNull(),
  updatedAt: integer("updated_at").notNull(),
});

export type Project = typeof projects.$inferSelect;
export type NewProject = typeof projects.$inferInsert;
export type Spec = typeof specs.$inferSelect;
export type NewSpec = typeof specs.$inferInsert;
export type Chunk = typeof chunks.$inferSelect;
export type NewChunk = typeof chunks.$inferInsert;
export type WorkerRow = typeof workers.$inferSelect;
export type NewWorkerRow = typeof workers.$inferInsert;
export type QueueItem = typeof workerQueue.$inferSelect;
export type NewQueueItem = typeof workerQueue.$inferInsert;
export type WorkerEventRow = typeof workerEvents.$inferSelect;
export type NewWorkerEventRow = typeof workerEvents.$inferInsert;
export type SettingRow = typeof settings.$inferSelect;
export type RunUsageRow = typeof runUsage.$inferSelect;
export type ChunkUsageRow = typeof chunkUsage.$inferSelect;
export type UsageRequestRow = typeof usageRequests.$inferSelect;
