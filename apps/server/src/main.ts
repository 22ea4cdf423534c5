import { openDatabase } from "@glm-workers/db/client";
import { EnvError, loadEnv } from "./env.ts";
import { createLogger } from "./logger.ts";
import { startRuntime } from "./runtime.ts";
import { startServer } from "./server.ts";

/** Entry point: configuration → database (migrated) → app → listen; clean exit on signals. */
async function main(): Promise<void> {
  let env: ReturnType<typeof loadEnv>;
  try {
    env = loadEnv();
  } catch (err) {
    const message = err instanceof EnvError ? err.message : String(err);
    process.stderr.write(`${message}\n`);
    process.exit(1);
  }
  const logger = createLogger(env.LOG_LEVEL);
  const database = await openDatabase({ url: env.DATABASE_URL, migrate: true });
  const { orchestrator, gateway } = await startRuntime(env, database, logger);
  const running = await startServer({ env, logger, database, orchestrator, gateway });
  logger.info(`glm-workers listening on ${running.url}`, {
    executor: env.EXECUTOR,
    database: env.DATABASE_URL,
  });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      // A second signal: forceful. Threads and agents end now; the runs stay `running` in the
      // database and the next start resumes them (their owner process is gone).
      logger.warn(`${signal} received again, stopping now`);
      void orchestrator.close({ force: true }).finally(() => process.exit(1));
      return;
    }
    stopping = true;
    logger.info(`${signal} received, shutting down`);
    const force = setTimeout(() => {
      logger.warn("shutdown took too long; exiting");
      process.exit(1);
    }, 10_000);
    force.unref();
    // Graceful: stop taking requests, checkpoint running workers (they resume after the next
    // start), then close the database after its last write.
    (async () => {
      await running.close();
      await orchestrator.close({ timeoutMs: 8_000 });
      await gateway?.close();
      await database.close();
    })().then(
      () => {
        clearTimeout(force);
        process.exit(0);
      },
      (err: unknown) => {
        logger.error("shutdown failed", { error: err instanceof Error ? err : String(err) });
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
}

main().catch((err: unknown) => {
  const error = err instanceof Error ? err : new Error(String(err));
  process.stderr.write(`glm-workers failed to start: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
