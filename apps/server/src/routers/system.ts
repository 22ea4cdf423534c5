import type { TRPCRouterRecord } from "@trpc/server";
import { orchestratorProcedure } from "../trpc.ts";

export const systemRouter = {
  /** Versions, executor and slot usage, for the nav and the dashboard header. */
  info: orchestratorProcedure.query(({ ctx }) => ({
    version: ctx.version,
    executor: ctx.env.EXECUTOR,
    executorLabel: ctx.executorLabel,
    activeCount: ctx.orchestrator.activeCount,
    maxWorkers: ctx.orchestrator.maxWorkers,
    queuePaused: ctx.orchestrator.queuePaused,
  })),
} satisfies TRPCRouterRecord;
