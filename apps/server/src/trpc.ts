import { OrchestratorError } from "@glm-workers/core/errors";
import type { GatewayState } from "@glm-workers/core/gateway";
import type { Orchestrator } from "@glm-workers/core/orchestrator";
import type { Database } from "@glm-workers/db/client";
import type { Repositories } from "@glm-workers/db/repositories";
import { initTRPC, TRPCError } from "@trpc/server";
import { z } from "zod";
import type { Env } from "./env.ts";
import {
  ApiError,
  type ApiIssue,
  describeError,
  summarizeIssues,
  trpcCodeOf,
  zodIssues,
} from "./errors.ts";
import type { Logger } from "./logger.ts";
import type { Catalog } from "./services/catalog.ts";

/**
 * Everything a procedure can reach. Built once per app by `createApp` (see app.ts); add new
 * long-lived services (the orchestrator, …) here and in `AppDeps`.
 */
export type AppContext = {
  env: Env;
  database: Database;
  repos: Repositories;
  /** Projects/specs/chunks operations shared with the REST routes. */
  catalog: Catalog;
  logger: Logger;
  /** The server's package version. */
  version: string;
  /** Human label of the configured executor ("Simulated agent …"). */
  executorLabel: string;
  /** Slots and queue; null when the app was built without one (then `orchestratorProcedure` answers 503). */
  orchestrator: Orchestrator | null;
  /** The GLM gateway, when the agent is opencode. */
  gateway: { state(): GatewayState } | null;
};

function isZodError(value: unknown): value is z.ZodError {
  return (
    value instanceof z.ZodError ||
    (value instanceof Error &&
      value.name === "ZodError" &&
      Array.isArray((value as { issues?: unknown }).issues))
  );
}

/** Turns a domain error (db, orchestrator, zod, ApiError) into the matching TRPCError. */
export function toTRPCError(err: unknown): TRPCError {
  if (err instanceof TRPCError) return err;
  const described = describeError(err);
  const code = trpcCodeOf(described.status);
  return new TRPCError({
    code,
    message: code === "INTERNAL_SERVER_ERROR" ? "internal server error" : described.message,
    cause: err,
  });
}

const t = initTRPC.context<AppContext>().create({
  isDev: false,
  sse: {
    ping: { enabled: true, intervalMs: 10_000 },
    client: { reconnectAfterInactivityMs: 20_000 },
  },
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    const zodError = error.code === "BAD_REQUEST" && isZodError(cause) ? cause : null;
    let issues: ApiIssue[] | null = null;
    if (zodError) issues = zodIssues(zodError);
    else if (cause instanceof ApiError && cause.issues) issues = cause.issues;
    const message =
      error.code === "INTERNAL_SERVER_ERROR"
        ? "internal server error"
        : issues
          ? summarizeIssues(issues)
          : shape.message;
    return {
      ...shape,
      message,
      data: {
        ...shape.data,
        /** zod's flattened form (`formErrors`, `fieldErrors`) for input errors, else null. */
        zodError: zodError ? z.flattenError(zodError) : null,
        /** Every input problem with a dotted path, else null. */
        issues,
        /** A more specific code (`MERGE_CONFLICT`, `DIRTY_WORKTREE`, …), else null. */
        reason: cause instanceof OrchestratorError ? (cause.reason ?? null) : null,
        /** The paths the error is about (conflicting files…), else null. */
        files: cause instanceof OrchestratorError ? (cause.files ?? null) : null,
      },
    };
  },
});

/** Maps errors thrown by resolvers (db, orchestrator, catalog) to their tRPC codes. */
const mapDomainErrors = t.middleware(async function mapDomainErrors({ next }) {
  const result = await next();
  if (!result.ok && result.error.code === "INTERNAL_SERVER_ERROR" && result.error.cause) {
    const mapped = toTRPCError(result.error.cause);
    if (mapped.code !== "INTERNAL_SERVER_ERROR") throw mapped;
  }
  return result;
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure.use(mapDomainErrors);

/** For procedures that need the orchestrator: narrows `ctx.orchestrator`, 503 without one. */
export const orchestratorProcedure = publicProcedure.use(function requireOrchestrator({
  ctx,
  next,
}) {
  const { orchestrator } = ctx;
  if (!orchestrator) {
    throw new TRPCError({ code: "SERVICE_UNAVAILABLE", message: "no orchestrator is running" });
  }
  return next({ ctx: { ...ctx, orchestrator } });
});
