import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { executorLabel as labelOf, RunPool } from "@glm-workers/core";
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

/** The agent settings of this server, from its configuration (never from an API caller). */
export function executorConfig(env: Env): ExecutorConfig {
  const keys: Record<string, string> = {};
  if (env.ZAI_API_KEY) keys.ZAI_API_KEY = env.ZAI_API_KEY;
  // opencode's built-in Z.ai/Zhipu providers read ZHIPU_API_KEY
  if (env.GLM_API_KEY) keys.ZHIPU_API_KEY = env.GLM_API_KEY;
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

/** Builds the run pool and the orchestrator, recovers interrupted runs and starts the queue. */
export async function startOrchestrator(env: Env, database: Database, logger: Logger) {
  const pool = new RunPool({ maxThreads: 64 });
  const orchestrator = new Orchestrator({
    db: database.db,
    write: database.write,
    pool,
    bus: new EventBus(),
    executor: executorConfig(env),
    executorLabel: labelOf,
    maxWorkers: env.MAX_WORKERS,
    chunkTimeoutMs: env.CHUNK_TIMEOUT_MS,
    retentionMs: env.EVENT_RETENTION_DAYS * 24 * 3600_000,
    log: (level, msg) => logger[level](msg),
  });
  await orchestrator.init();
  return orchestrator;
}
