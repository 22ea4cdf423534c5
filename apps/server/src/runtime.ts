import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { executorLabel as labelOf, RunPool } from "@glm-workers/core";
import { type GlmGateway, startGlmGateway } from "@glm-workers/core/gateway";
import { EventBus, Orchestrator } from "@glm-workers/core/orchestrator";
import type { ExecutorConfig } from "@glm-workers/core/protocol";
import type { Database } from "@glm-workers/db/client";
import type { Env } from "./env.ts";
import type { Logger } from "./logger.ts";

/** Where the server keeps files besides the database (opencode home, worktrees of non-git runs). */
export function dataDirOf(env: Env): string {
  if (env.DATABASE_URL.startsWith("file:")) {
    return dirname(fileURLToPath(new URL(env.DATABASE_URL.replace(/^file:(?!\/\/)/, "file://"))));
  }
  return join(process.cwd(), "data");
}

/** The GLM key of this server (it stays in the server: agents get a gateway token). */
export function glmKey(env: Env): string | null {
  return env.GLM_API_KEY ?? env.ZAI_API_KEY ?? null;
}

/**
 * The agent settings of this server, from its configuration (never from an API caller). With
 * the opencode executor the model requests go through the GLM gateway: no key in here at all,
 * each run gets its gateway URL and token when it starts.
 */
export function executorConfig(env: Env): ExecutorConfig {
  const keys: Record<string, string> = {};
  if (env.EXECUTOR !== "opencode") {
    if (env.ZAI_API_KEY) keys.ZAI_API_KEY = env.ZAI_API_KEY;
    // opencode's built-in Z.ai/Zhipu providers read ZHIPU_API_KEY
    if (env.GLM_API_KEY) keys.ZHIPU_API_KEY = env.GLM_API_KEY;
  }
  return {
    kind: env.EXECUTOR,
    simulatedChunkMs: env.SIMULATED_CHUNK_MS,
    /** The server's default model; each run gets the one recorded on its worker row. */
    model: env.OPENCODE_MODEL,
    baseURL: env.GLM_BASE_URL,
    opencodeHome: join(dataDirOf(env), "opencode"),
    env: keys,
    ...(env.AGENT_COMMAND ? { command: env.AGENT_COMMAND } : {}),
  };
}

/** The loopback GLM gateway every agent's model requests go through (opencode executor only). */
export async function startGateway(
  env: Env,
  logger: Logger,
  orchestrator: () => Orchestrator | null,
): Promise<GlmGateway | null> {
  const key = glmKey(env);
  if (env.EXECUTOR !== "opencode" || !key) return null;
  return startGlmGateway({
    upstream: env.GLM_BASE_URL,
    apiKey: key,
    concurrency: env.GLM_CONCURRENCY,
    quotaWaitMs: env.GLM_QUOTA_WAIT_MS,
    retryBudgetMs: env.GLM_RETRY_BUDGET_MS,
    isPaused: (runId) => orchestrator()?.isPaused(runId) ?? false,
    runPriority: (runId) => orchestrator()?.priorityOf(runId) ?? 0,
    onRetry: (runId, text) => orchestrator()?.setStepDetail(runId, text),
    onHold: (hold) => void orchestrator()?.setGatewayHold(hold),
    onFatal: (_runId, message) => void orchestrator()?.holdQueue(message),
    onUsage: (runId, usage) => void orchestrator()?.recordUsage(runId, { ...usage, model: null }),
    log: (level, msg) => logger[level](msg),
  });
}

/** Builds the run pool and the orchestrator (and the gateway it uses; see `startRuntime`). */
export async function startOrchestrator(env: Env, database: Database, logger: Logger) {
  return (await startRuntime(env, database, logger)).orchestrator;
}

/** Builds the run pool, the GLM gateway and the orchestrator, recovers interrupted runs and starts the queue. */
export async function startRuntime(env: Env, database: Database, logger: Logger) {
  const pool = new RunPool({ maxThreads: 64 });
  let late: Orchestrator | null = null;
  const gateway = await startGateway(env, logger, () => late);
  const bus = new EventBus();
  // a run that pauses or resumes changes which waiting requests may go
  if (gateway) {
    bus.subscribe((e) => {
      if (e.type === "worker_paused" || e.type === "worker_resumed") gateway.wake();
    });
  }
  const orchestrator = new Orchestrator({
    db: database.db,
    write: database.write,
    pool,
    bus,
    executor: executorConfig(env),
    ...(gateway ? { gateway } : {}),
    executorLabel: labelOf,
    maxWorkers: env.MAX_WORKERS,
    chunkTimeoutMs: env.CHUNK_TIMEOUT_MS,
    retentionMs: env.EVENT_RETENTION_DAYS * 24 * 3600_000,
    worktreeRetentionMs: env.WORKTREE_RETENTION_DAYS * 24 * 3600_000,
    log: (level, msg) => logger[level](msg),
  });
  late = orchestrator;
  await orchestrator.init();
  return { orchestrator, gateway };
}
