import {
  idSchema,
  queueAddInput,
  queuePatchInput,
  queueReorderInput,
} from "@glm-workers/core/orchestrator";
import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { orchestratorProcedure } from "../trpc.ts";

export const queueRouter = {
  list: orchestratorProcedure.query(async ({ ctx }) => ({
    queue: await ctx.orchestrator.listQueue(),
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
  setPaused: orchestratorProcedure
    .input(z.object({ paused: z.boolean() }))
    .mutation(async ({ ctx, input }) => {
      await ctx.orchestrator.setQueuePaused(input.paused);
      return { paused: ctx.orchestrator.queuePaused };
    }),
} satisfies TRPCRouterRecord;
