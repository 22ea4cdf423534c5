import { settingsPatchInput } from "@glm-workers/core/orchestrator";
import type { TRPCRouterRecord } from "@trpc/server";
import { orchestratorProcedure } from "../trpc.ts";

export const settingsRouter = {
  get: orchestratorProcedure.query(({ ctx }) => ({
    maxWorkers: ctx.orchestrator.maxWorkers,
    queuePaused: ctx.orchestrator.queuePaused,
    executor: ctx.env.EXECUTOR,
  })),
  update: orchestratorProcedure.input(settingsPatchInput).mutation(async ({ ctx, input }) => {
    if (input.maxWorkers !== undefined) await ctx.orchestrator.setMaxWorkers(input.maxWorkers);
    if (input.queuePaused !== undefined) await ctx.orchestrator.setQueuePaused(input.queuePaused);
    return {
      maxWorkers: ctx.orchestrator.maxWorkers,
      queuePaused: ctx.orchestrator.queuePaused,
      executor: ctx.env.EXECUTOR,
    };
  }),
} satisfies TRPCRouterRecord;
