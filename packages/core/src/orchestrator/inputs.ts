import { MERGE_STRATEGIES } from "@glm-workers/db/enums";
import { z } from "zod";
import { modelIdSchema } from "../schemas.ts";

/** Input schemas of the workers/queue/settings API, shared by tRPC, REST and the web forms. */

export const idSchema = z.string().trim().min(1, "id is required").max(200);
export const prioritySchema = z.number().int().min(-1000).max(1000);

export const startWorkerInput = z.object({
  specId: idSchema,
  priority: prioritySchema.optional(),
  /** This run's model instead of the spec's (the server checks it against its list). */
  model: modelIdSchema.optional(),
});
export type StartWorkerInput = z.infer<typeof startWorkerInput>;

export const workerIdInput = z.object({ id: idSchema });

export const queueAddInput = startWorkerInput;

export const queuePatchInput = z.object({ priority: prioritySchema });

export const queueReorderInput = z.object({
  ids: z.array(idSchema).max(10_000),
});

/** `queue.move` / `POST /api/queue/:id/move`: the 1-based place the item moves to. */
export const queueMoveInput = z.object({ position: z.number().int().min(1) }).strict();

export const settingsPatchInput = z
  .object({
    maxWorkers: z.number().int().min(1).max(64).optional(),
    queuePaused: z.boolean().optional(),
  })
  .refine((v) => v.maxWorkers !== undefined || v.queuePaused !== undefined, {
    message: "nothing to change: give maxWorkers or queuePaused",
  });

export const eventsInput = z.object({
  workerId: idSchema.optional(),
  /** Resume after this event id (tRPC `lastEventId` / SSE `Last-Event-ID`). */
  lastEventId: z.string().regex(/^\d+$/, "lastEventId must be a number").nullish(),
});

export const logsInput = z.object({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(5000).default(500),
});

/** `queue.list` / `GET /api/queue`: the whole queue, or one page of it (`limit` from `offset`). */
export const queuePageInput = z
  .object({
    limit: z.coerce.number().int().min(1).max(10_000).optional(),
    offset: z.coerce.number().int().min(0).default(0),
  })
  .strict();

/** `workers.diff`: the whole run against its base, or one chunk's commit. */
export const diffInput = z.object({
  id: idSchema,
  chunkId: idSchema.optional(),
});

export const mergeInput = z
  .object({
    id: idSchema,
    strategy: z.enum(MERGE_STRATEGIES).default("squash"),
    /** The commit message (squash and merge); default: the spec's title and its chunks' titles. */
    message: z.string().trim().min(1, "message is empty").max(20_000).optional(),
    /** Keep the run's branch after the merge (its worktree is removed either way). */
    keepBranch: z.boolean().default(false),
  })
  .strict();
export type MergeInput = z.input<typeof mergeInput>;

export const retryInput = z.object({ id: idSchema, priority: prioritySchema.optional() }).strict();
