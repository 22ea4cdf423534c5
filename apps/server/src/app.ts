import type { GatewayState } from "@glm-workers/core/gateway";
import type { Orchestrator } from "@glm-workers/core/orchestrator";
import type { Database } from "@glm-workers/db/client";
import { createRepositories, type Repositories } from "@glm-workers/db/repositories";
import { usageReads } from "@glm-workers/db/store";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { type Env, executorLabel } from "./env.ts";
import { ApiError } from "./errors.ts";
import { createLogger, type Logger } from "./logger.ts";
import { authGuard, loginRoutes } from "./middleware/auth.ts";
import { handleError, handleNotFound } from "./middleware/errors.ts";
import { hostGuard, originGuard, securityHeaders } from "./middleware/security.ts";
import { chunksRoutes } from "./rest/chunks.ts";
import { healthRoutes } from "./rest/health.ts";
import { metricsRoutes } from "./rest/metrics.ts";
import { projectsRoutes } from "./rest/projects.ts";
import { specsRoutes } from "./rest/specs.ts";
import { usageRoutes } from "./rest/usage.ts";
import { workersRoutes } from "./rest/workers.ts";
import { appRouter } from "./router.ts";
import { createCatalog } from "./services/catalog.ts";
import { mountWebApp } from "./static.ts";
import type { AppContext } from "./trpc.ts";
import { readServerVersion } from "./version.ts";

/** Largest accepted request body. */
export const MAX_BODY_BYTES = 1024 * 1024;

export interface AppDeps {
  env: Env;
  database: Database;
  /** Default: `createRepositories(database)`. */
  repos?: Repositories;
  /** Slots and queue. Without one, the workers/queue/settings/system API answers 503. */
  orchestrator?: Orchestrator;
  /** The GLM gateway (opencode executor): its state is in `/api/health`. */
  gateway?: { state(): GatewayState } | null;
  logger?: Logger;
  /** Default: the server package's version. */
  version?: string;
  /** Base of relative project directories (default: process.cwd()). */
  cwd?: string;
  /** Extra REST route groups mounted under `/api` (one Hono app per domain, see `rest/`). */
  restRoutes?: readonly Hono[];
  /** Origins allowed on mutations besides the same origin (default: the vite dev server). */
  devOrigins?: readonly string[];
}

/** The context every tRPC procedure gets; built once per app. */
export function createContext(deps: AppDeps): AppContext {
  const repos = deps.repos ?? createRepositories(deps.database);
  return {
    env: deps.env,
    database: deps.database,
    repos,
    catalog: createCatalog(repos, {
      cwd: deps.cwd ?? process.cwd(),
      models: { models: deps.env.GLM_MODELS },
      usage: usageReads(deps.database.db),
    }),
    logger: deps.logger ?? createLogger(deps.env.LOG_LEVEL),
    version: deps.version ?? readServerVersion(),
    executorLabel: executorLabel(deps.env),
    orchestrator: deps.orchestrator ?? null,
    gateway: deps.gateway ?? null,
  };
}

function payloadTooLarge(): never {
  throw new ApiError(
    413,
    "PAYLOAD_TOO_LARGE",
    `request body is larger than ${MAX_BODY_BYTES} bytes`,
  );
}

/**
 * The whole HTTP surface: security middleware, tRPC at `/trpc`, REST at `/api`, the login page
 * when `AUTH_TOKEN` is set, and the built web app at `/`.
 */
export function createApp(deps: AppDeps): Hono {
  const ctx = createContext(deps);
  const { env, logger } = ctx;
  const app = new Hono();
  const security = {
    host: env.HOST,
    ...(deps.devOrigins ? { devOrigins: deps.devOrigins } : {}),
  };

  app.onError(handleError(logger));
  app.notFound(handleNotFound());

  app.use("*", securityHeaders());
  app.use("*", hostGuard(security));
  app.use("*", originGuard(security));
  app.use("*", authGuard(env.AUTH_TOKEN));
  app.use("*", bodyLimit({ maxSize: MAX_BODY_BYTES, onError: payloadTooLarge }));

  if (env.AUTH_TOKEN) app.route("/", loginRoutes(env.AUTH_TOKEN));

  // fetchRequestHandler directly: @hono/trpc-server would overwrite `ctx.env` with Hono's bindings.
  app.all("/trpc/*", function trpcHandler(c) {
    return fetchRequestHandler({
      endpoint: "/trpc",
      req: c.req.raw,
      router: appRouter,
      createContext: () => ctx,
      onError({ error, path }) {
        if (error.code === "INTERNAL_SERVER_ERROR") {
          logger.error(`tRPC ${path ?? "?"} failed`, { error: error.cause ?? error });
        }
      },
    });
  });

  const api = new Hono();
  api.route(
    "/",
    healthRoutes({
      version: ctx.version,
      executor: env.EXECUTOR,
      executorLabel: ctx.executorLabel,
      gateway: ctx.gateway,
    }),
  );
  api.route("/", metricsRoutes(ctx.orchestrator ?? undefined));
  api.route("/", projectsRoutes(ctx.catalog));
  api.route("/", specsRoutes(ctx.catalog));
  api.route("/", chunksRoutes(ctx.catalog));
  api.route("/", usageRoutes(ctx.catalog, ctx.gateway));
  if (ctx.orchestrator) api.route("/", workersRoutes(ctx.orchestrator, ctx.catalog));
  for (const routes of deps.restRoutes ?? []) api.route("/", routes);
  app.route("/api", api);

  if (!mountWebApp(app, env.WEB_DIST)) {
    logger.debug(`web app not built (${env.WEB_DIST}); serving the API only`);
  }
  return app;
}
