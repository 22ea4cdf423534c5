import { chunksRouter } from "./routers/chunks.ts";
import { healthRouter } from "./routers/health.ts";
import { projectsRouter } from "./routers/projects.ts";
import { queueRouter } from "./routers/queue.ts";
import { settingsRouter } from "./routers/settings.ts";
import { specsRouter } from "./routers/specs.ts";
import { systemRouter } from "./routers/system.ts";
import { workersRouter } from "./routers/workers.ts";
import { router } from "./trpc.ts";

/**
 * The whole tRPC API. Each domain is a plain object `satisfies TRPCRouterRecord` in
 * `routers/<domain>.ts`, composed here. The workers/queue/settings/system procedures need
 * the orchestrator (`orchestratorProcedure`).
 */
export const appRouter = router({
  health: healthRouter,
  projects: projectsRouter,
  specs: specsRouter,
  chunks: chunksRouter,
  workers: workersRouter,
  queue: queueRouter,
  settings: settingsRouter,
  system: systemRouter,
});

export type AppRouter = typeof appRouter;
