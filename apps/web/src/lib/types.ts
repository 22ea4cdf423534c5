import type { trpc } from "./trpc.ts";

type Output<T extends (...args: never[]) => Promise<unknown>> = Awaited<ReturnType<T>>;

/** Row shapes as the API returns them (inferred from the server router, never redeclared). */
export type Project = Output<typeof trpc.projects.get.query>;
/** A spec with its chunks in order (`specs.get`). */
export type SpecDetail = Output<typeof trpc.specs.get.query>;
export type Spec = Output<typeof trpc.specs.update.mutate>;
export type Chunk = SpecDetail["chunks"][number];

export type ChunkStatus = Chunk["status"];
export type ReviewStatus = NonNullable<Chunk["reviewStatus"]>;

/** A worker (one spec run) as `workers.list` returns it. */
export type Worker = Output<typeof trpc.workers.list.query>["workers"][number];
export type WorkerStatus = Worker["status"];
/** A waiting spec as `queue.list` returns it (ordered; `position` is 1-based). */
export type QueueItem = Output<typeof trpc.queue.list.query>["queue"][number];
export type WaitReason = QueueItem["waitReason"];
export type StartResult = Output<typeof trpc.workers.start.mutate>;
/** One event of `workers.onEvent` (the `data` of its tracked envelope): the shared protocol. */
export type { WorkerEvent, WorkerEventOf, WorkerEventType } from "@glm-workers/core/events";
