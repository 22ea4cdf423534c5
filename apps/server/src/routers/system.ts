import type { TRPCRouterRecord } from "@trpc/server";
import { gatewayHealth } from "../rest/health.ts";
import { orchestratorProcedure, publicProcedure } from "../trpc.ts";

export const systemRouter = {
  /** Versions, executor and slot usage, for the nav and the dashboard header. */
  info: orchestratorProcedure.query(({ ctx }) => ({
    version: ctx.version,
    executor: ctx.env.EXECUTOR,
    executorLabel: ctx.executorLabel,
    activeCount: ctx.orchestrator.activeCount,
    maxWorkers: ctx.orchestrator.maxWorkers,
    queuePaused: ctx.orchestrator.queuePaused,
    /** The models a spec or a run may choose (`GLM_MODELS`), and the one used when none is. */
    models: ctx.env.GLM_MODELS,
    defaultModel: ctx.env.OPENCODE_MODEL,
  })),
  /** Same answer as `GET /api/usage`: model usage of the last 5 hours and overall, and the gateway. */
  usage: publicProcedure.query(async ({ ctx }) => ({
    ...(await ctx.catalog.usage.summary()),
    gateway: gatewayHealth(ctx.gateway),
  })),
} satisfies TRPCRouterRecord;
