import type { TRPCRouterRecord } from "@trpc/server";
import { gatewayHealth } from "../rest/health.ts";
import { publicProcedure } from "../trpc.ts";

/** Same answer as `GET /api/health`. */
export const healthRouter = {
  check: publicProcedure.query(({ ctx }) => ({
    ok: true as const,
    version: ctx.version,
    executor: ctx.env.EXECUTOR,
    executorLabel: ctx.executorLabel,
    gateway: gatewayHealth(ctx.gateway),
  })),
} satisfies TRPCRouterRecord;
