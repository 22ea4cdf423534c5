import type { trpc } from "./trpc.ts";

type Output<T extends (...args: never[]) => Promise<unknown>> = Awaited<ReturnType<T>>;

/** Row shapes as the API returns them (inferred from the server router, never redeclared). */
export type Project = Output<typeof trpc.projects.create.mutate>;
/** A project with the model usage of all its runs (`projects.get`). */
export type ProjectDetail = Output<typeof trpc.projects.get.query>;
/** A spec with its chunks in order (`specs.get`). */
export type SpecDetail = Output<typeof trpc.specs.get.query>;
export type Spec = Output<typeof trpc.specs.update.mutate>;
type SpecChunk = SpecDetail["chunks"][number];
/** A chunk as the chunk list edits it (its usage is kept apart, see `ChunkUsage`). */
export type Chunk = Omit<SpecChunk, "usage">;
/** A chunk's model usage per step (`executing`, `reviewing`; null: none yet). */
export type ChunkUsage = SpecChunk["usage"];

export type ChunkStatus = Chunk["status"];
export type ReviewStatus = NonNullable<Chunk["reviewStatus"]>;

/** A worker (one spec run) as `workers.list` returns it. */
export type Worker = Output<typeof trpc.workers.list.query>["workers"][number];
export type WorkerStatus = Worker["status"];
/** Tokens, requests and the API-equivalent cost of a run, a chunk step or a spec. */
export type Usage = Worker["usage"];
/** The server's usage summary (`system.usage`): the last 5 hours and overall. */
export type UsageSummary = Output<typeof trpc.system.usage.query>;
/** A waiting spec as `queue.list` returns it (ordered; `position` is 1-based). */
export type QueueItem = Output<typeof trpc.queue.list.query>["queue"][number];
export type WaitReason = QueueItem["waitReason"];
export type StartResult = Output<typeof trpc.workers.start.mutate>;
/** One event of `workers.onEvent` (the `data` of its tracked envelope): the shared protocol. */
export type { WorkerEvent, WorkerEventOf, WorkerEventType } from "@glm-workers/core/events";

/** A run's diff against the commit it started from, or one chunk's commit (`workers.diff`). */
export type RunDiff = Output<typeof trpc.workers.diff.query>;
export type RunDiffFile = RunDiff["files"][number];
/** Files a run shares with its base branch and with other unlanded runs (`workers.conflicts`). */
export type RunConflicts = Output<typeof trpc.workers.conflicts.query>;
export type MergeResult = Output<typeof trpc.workers.merge.mutate>;
export type MergeStrategy = MergeResult["strategy"];
export type RetryResult = Output<typeof trpc.workers.retry.mutate>;
/** How a run's work was landed (merged or discarded), when and as which commit. */
export type Landed = NonNullable<Worker["landed"]>;
