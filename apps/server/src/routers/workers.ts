import {
  diffInput,
  eventsInput,
  idSchema,
  mergeInput,
  retryInput,
  startWorkerInput,
  WORKER_EVENT_TYPES,
} from "@glm-workers/core/orchestrator";
import type { TRPCRouterRecord } from "@trpc/server";
import { tracked } from "@trpc/server";
import { z } from "zod";
import { orchestratorProcedure } from "../trpc.ts";

export const workersRouter = {
  list: orchestratorProcedure
    .input(z.object({ recent: z.number().int().min(0).max(200).optional() }).optional())
    .query(async ({ ctx, input }) => {
      const o = ctx.orchestrator;
      const workers = await o.listWorkers(
        input?.recent !== undefined ? { recent: input.recent } : {},
      );
      return { workers, activeCount: o.activeCount, maxWorkers: o.maxWorkers };
    }),
  get: orchestratorProcedure
    .input(z.object({ id: idSchema }))
    .query(({ ctx, input }) => ctx.orchestrator.getWorker(input.id)),
  start: orchestratorProcedure.input(startWorkerInput).mutation(async ({ ctx, input }) => {
    await ctx.catalog.specs.checkRunModel(input.specId, input.model);
    return ctx.orchestrator.start(input.specId, input.priority ?? 0, input.model);
  }),
  pause: orchestratorProcedure
    .input(z.object({ id: idSchema }))
    .mutation(({ ctx, input }) => ctx.orchestrator.pause(input.id)),
  resume: orchestratorProcedure
    .input(z.object({ id: idSchema }))
    .mutation(({ ctx, input }) => ctx.orchestrator.resume(input.id)),
  stop: orchestratorProcedure
    .input(z.object({ id: idSchema }))
    .mutation(({ ctx, input }) => ctx.orchestrator.stop(input.id)),
  /** The run's changes against the commit it started from (`chunkId`: that chunk's commit). */
  diff: orchestratorProcedure
    .input(diffInput)
    .query(({ ctx, input }) => ctx.orchestrator.diff(input.id, input.chunkId)),
  /** Paths the run changed that its base branch or other unlanded runs changed too. */
  conflicts: orchestratorProcedure
    .input(z.object({ id: idSchema }))
    .query(({ ctx, input }) => ctx.orchestrator.conflicts(input.id)),
  /** Merges a finished run into the branch it started from; a refusal changes nothing. */
  merge: orchestratorProcedure
    .input(mergeInput)
    .mutation(({ ctx, input }) => ctx.orchestrator.merge(input.id, input)),
  /** Throws a finished run's work away (worktree and branch). */
  discard: orchestratorProcedure
    .input(z.object({ id: idSchema }))
    .mutation(async ({ ctx, input }) => ({
      discarded: true as const,
      worker: await ctx.orchestrator.discard(input.id),
    })),
  /** A new run of a failed or stopped run's spec from its first unfinished chunk. */
  retry: orchestratorProcedure
    .input(retryInput)
    .mutation(({ ctx, input }) => ctx.orchestrator.retry(input.id, input.priority ?? 0)),
  pauseAll: orchestratorProcedure.mutation(({ ctx }) => ctx.orchestrator.pauseAll()),
  stopAll: orchestratorProcedure.mutation(({ ctx }) => ctx.orchestrator.stopAll()),
  logs: orchestratorProcedure
    .input(
      z.object({
        id: idSchema,
        after: z.number().int().min(0).optional(),
        limit: z.number().int().min(1).max(5000).optional(),
      }),
    )
    .query(({ ctx, input }) =>
      input.after === undefined
        ? ctx.orchestrator.logTail(input.id, input.limit ?? 200)
        : ctx.orchestrator.logs(input.id, input.after, input.limit ?? 500),
    ),
  /** Every worker/queue event after `lastEventId`; reconnecting clients resume without gaps. */
  onEvent: orchestratorProcedure
    .input(eventsInput.extend({ types: z.array(z.enum(WORKER_EVENT_TYPES)).optional() }))
    .subscription(async function* ({ ctx, input, signal }) {
      const events = ctx.orchestrator.stream({
        workerId: input.workerId,
        types: input.types,
        lastEventId: input.lastEventId ? Number(input.lastEventId) : null,
        signal,
      });
      for await (const event of events) {
        yield tracked(String(event.id), event);
      }
    }),
} satisfies TRPCRouterRecord;
