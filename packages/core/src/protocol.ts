import {
  CHUNK_EVENTS,
  CHUNK_STATUSES,
  EXECUTOR_KINDS,
  LOG_LEVELS,
  REVIEW_STATUSES,
  TOOL_STATUSES,
  WORKER_STEPS,
} from "@glm-workers/db/enums";
import { chunkPatchSchema, type Progress, progressSchema } from "@glm-workers/db/events";
import { z } from "zod";

/**
 * The typed MessagePort protocol between the main thread (orchestrator, single DB writer)
 * and a Piscina worker thread running one spec. Both sides validate every message with
 * these schemas.
 */

export const executorKindSchema = z.enum(EXECUTOR_KINDS);
export type ExecutorKind = z.infer<typeof executorKindSchema>;

export const chunkStatusSchema = z.enum(CHUNK_STATUSES);
export const reviewStatusSchema = z.enum(REVIEW_STATUSES);
export const workerStepSchema = z.enum(WORKER_STEPS);

/** A chunk as the thread sees it: a snapshot taken by the main thread at start. */
export const chunkSnapshotSchema = z.object({
  id: z.string(),
  title: z.string(),
  description: z.string(),
  order: z.number().int(),
  status: chunkStatusSchema,
  dependencies: z.array(z.string()),
  fixOf: z.string().nullable(),
  reviewStatus: reviewStatusSchema.nullable(),
  commitHash: z.string().nullable(),
});
export type ChunkSnapshot = z.infer<typeof chunkSnapshotSchema>;

/** Executor settings chosen by the server (never by an API caller). */
export const executorConfigSchema = z.object({
  kind: executorKindSchema,
  /** Simulated: base duration per chunk in ms. */
  simulatedChunkMs: z.number().int().nonnegative().default(4000),
  /** opencode: model id such as `zai-coding-plan/glm-4.7` (the run's model). */
  model: z.string().optional(),
  /**
   * opencode: the OpenAI-compatible endpoint every model request goes to (the model's provider
   * gets this `baseURL`; a repository's own config cannot change it).
   */
  baseURL: z.string().url().optional(),
  /** The run this executor serves (set by the engine; opencode keeps a run's data apart). */
  runId: z.string().optional(),
  /** opencode: path of the binary; resolved from the `opencode-ai` package when absent. */
  opencodeBin: z.string().optional(),
  /** opencode: extra provider configuration merged into OPENCODE_CONFIG_CONTENT. */
  opencodeConfig: z.record(z.string(), z.unknown()).optional(),
  /** opencode: isolated home/config root for the agent. */
  opencodeHome: z.string().optional(),
  /** Extra environment for the agent process (API keys etc.). */
  env: z.record(z.string(), z.string()).default({}),
  /** command: argv template; `{prompt}`, `{cwd}` and `{promptFile}` are substituted. */
  command: z.array(z.string()).optional(),
});
export type ExecutorConfig = z.infer<typeof executorConfigSchema>;

/** Everything the thread needs to run one spec; it never reads the DB. */
export const runSnapshotSchema = z.object({
  workerId: z.string(),
  project: z.object({ id: z.string(), name: z.string(), directory: z.string() }),
  spec: z.object({
    id: z.string(),
    title: z.string(),
    content: z.string(),
    branch: z.string().nullable(),
  }),
  chunks: z.array(chunkSnapshotSchema),
  executor: executorConfigSchema,
  options: z.object({
    chunkTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(15 * 60_000),
    /** Use a git worktree when the project is a git repo. */
    useWorktree: z.boolean().default(true),
    /** Existing worktree/branch to reuse when resuming after a restart. */
    workdir: z.string().nullable().default(null),
    branch: z.string().nullable().default(null),
    /** The base an earlier run on `branch` recorded (a retry keeps diffing against it). */
    baseBranch: z.string().nullable().default(null),
    baseCommit: z.string().nullable().default(null),
    /**
     * Directory under which per-run git worktrees are created. Absent/null: inside the
     * repository's git directory (`<git-common-dir>/glm-workers/worktrees`), invisible to
     * `git status` of the main checkout.
     */
    worktreeRoot: z.string().nullable().optional(),
    /** Start paused (a run restored in `paused` state). */
    startPaused: z.boolean().default(false),
  }),
});
export type RunSnapshot = z.infer<typeof runSnapshotSchema>;
export type RunSnapshotInput = z.input<typeof runSnapshotSchema>;

// ---- main → thread -------------------------------------------------------

export const mainToThreadSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("pause") }),
  z.object({ type: z.literal("resume") }),
  z.object({ type: z.literal("abort"), reason: z.string().default("aborted") }),
]);
export type MainToThread = z.infer<typeof mainToThreadSchema>;
export type MainToThreadInput = z.input<typeof mainToThreadSchema>;

// ---- thread → main -------------------------------------------------------

export type { ChunkPatch } from "@glm-workers/db/events";
export type { Progress };
/** Chunk changes and progress counts have the event protocol's shapes (db package). */
export { chunkPatchSchema, progressSchema };

export const logLevelSchema = z.enum(LOG_LEVELS);

export const runOutcomeSchema = z.enum(["completed", "failed", "aborted"]);
export type RunOutcome = z.infer<typeof runOutcomeSchema>;

export const threadToMainSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("ready"), at: z.number() }),
  z.object({
    type: z.literal("workspace"),
    workdir: z.string(),
    branch: z.string().nullable(),
    isGit: z.boolean(),
    baseBranch: z.string().nullable().default(null),
    baseCommit: z.string().nullable().default(null),
  }),
  z.object({ type: z.literal("paused"), at: z.number() }),
  z.object({ type: z.literal("resumed"), at: z.number() }),
  z.object({
    type: z.literal("step"),
    chunkId: z.string(),
    step: workerStepSchema,
    /** Root pid of the agent process tree for this step (the pool's hard-abort fallback). */
    pid: z.number().int().positive().optional(),
    at: z.number(),
  }),
  /** A process the run started outside a chunk step (the worktree's setup command): its tree's root. */
  z.object({ type: z.literal("process"), pid: z.number().int().positive(), at: z.number() }),
  z.object({
    type: z.literal("chunk"),
    /** started | finished | inserted (a new fix chunk) | cancelled | updated */
    event: z.enum(CHUNK_EVENTS),
    chunk: chunkPatchSchema,
    at: z.number(),
  }),
  z.object({ type: z.literal("progress"), progress: progressSchema, at: z.number() }),
  /** What the current step is doing beyond its name (`retrying in 8 s: …`); null clears it. */
  z.object({
    type: z.literal("state"),
    chunkId: z.string().nullable(),
    text: z.string().max(500).nullable(),
    at: z.number(),
  }),
  z.object({
    type: z.literal("log"),
    chunkId: z.string().nullable(),
    level: logLevelSchema,
    line: z.string(),
    at: z.number(),
  }),
  z.object({
    type: z.literal("tool"),
    chunkId: z.string().nullable(),
    name: z.string(),
    status: z.enum(TOOL_STATUSES),
    detail: z.string().optional(),
    at: z.number(),
  }),
  z.object({
    type: z.literal("done"),
    outcome: runOutcomeSchema,
    error: z.string().nullable(),
    progress: progressSchema,
    at: z.number(),
  }),
  z.object({
    type: z.literal("error"),
    message: z.string(),
    stack: z.string().optional(),
    at: z.number(),
  }),
]);
export type ThreadToMain = z.infer<typeof threadToMainSchema>;
export type ThreadToMainType = ThreadToMain["type"];

/** What the Piscina task resolves with. */
export type RunResult = { outcome: RunOutcome; error: string | null; progress: Progress };

/** Validates a task result on the main side. */
export const runResultSchema = z.object({
  outcome: runOutcomeSchema,
  error: z.string().nullable(),
  progress: progressSchema,
});
