import {
  idSchema,
  queueAddInput,
  queueMoveInput,
  queuePageInput,
  queuePatchInput,
  queueReorderInput,
} from "@glm-workers/core/orchestrator";
import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { orchestratorProcedure } from "../trpc.ts";

export const queueRouter = {
  /** The whole queue, or one page (`limit` items from `offset`); `total`: items queued in all. */
  list: orchestratorProcedure.input(queuePageInput.optional()).query(async ({ ctx, input }) => ({
    queue: await ctx.orchestrator.listQueue(input ?? {}),
    total: await ctx.orchestrator.queueLength(),
    paused: ctx.orchestrator.queuePaused,
    holdReason: ctx.orchestrator.queueHoldReason,
  })),
  add: orchestratorProcedure.input(queueAddInput).mutation(async ({ ctx, input }) => {
    await ctx.catalog.specs.checkRunModel(input.specId, input.model);
    return ctx.orchestrator.enqueue(input.specId, input.priority ?? 0, input.model);
  }),
  setPriority: orchestratorProcedure
    .input(queuePatchInput.extend({ id: idSchema }))
    .mutation(({ ctx, input }) => ctx.orchestrator.setPriority(input.id, input.priority)),
  remove: orchestratorProcedure
    .input(z.object({ id: idSchema }))
    .mutation(async ({ ctx, input }) => {
      await ctx.orchestrator.removeFromQueue(input.id);
      return { ok: true as const };
    }),
  reorder: orchestratorProcedure
    .input(queueReorderInput)
    .mutation(({ ctx, input }) => ctx.orchestrator.reorder(input.ids)),
  /** Moves one item to a 1-based position (clamped to the queue); the others keep their order. */
  move: orchestratorProcedure
    .input(queueMoveInput.extend({ id: idSchema }))
    .mutation(({ ctx, input }) => ctx.orchestrator.moveInQueue(input.id, input.position)),
  setPaused: orchestratorProcedure
    .input(z.object({ paused: z.boolean() }))
    .mutation(async ({ ctx, input }) => {
      await ctx.orchestrator.setQueuePaused(input.paused);
      return { paused: ctx.orchestrator.queuePaused };
    }),
} satisfies TRPCRouterRecord;
