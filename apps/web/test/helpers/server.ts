import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { removeDir, tempDir } from "@glm-workers/core/testkit";
import { build } from "vite";
import { openDatabase } from "../../../../packages/db/src/client.ts";
import { loadEnv } from "../../../server/src/env.ts";
import { silentLogger } from "../../../server/src/logger.ts";
import { startOrchestrator } from "../../../server/src/runtime.ts";
import { type RunningServer, startServer } from "../../../server/src/server.ts";

const webDir = resolve(import.meta.dirname, "../..");

export interface E2eServer {
  url: string;
  /** A real directory projects can point at. */
  projectDir: string;
  server: RunningServer;
  /** The server's orchestrator (tests use it for what no UI does, e.g. the gateway's usage). */
  orchestrator: Awaited<ReturnType<typeof startOrchestrator>>;
  close(): Promise<void>;
}

/** Builds the web app into a temp dir (quietly). */
export async function buildWeb(outDir: string): Promise<void> {
  await build({
    configFile: join(webDir, "vite.config.ts"),
    root: webDir,
    logLevel: "silent",
    build: { outDir, emptyOutDir: true, sourcemap: false },
  });
}

export interface E2eServerOptions {
  /** Extra server configuration (e.g. `MAX_WORKERS`, `SIMULATED_CHUNK_MS`). */
  env?: Record<string, string>;
}

/**
 * A fresh build of the web app served by the real server on 127.0.0.1 (random port), with its
 * own temp database and the orchestrator (simulated executor unless `env` says otherwise), as
 * `main.ts` wires it. `close()` stops the server and the runs and removes every temp file.
 */
export async function startE2eServer(options: E2eServerOptions = {}): Promise<E2eServer> {
  const root = tempDir("web-e2e");
  const webDist = join(root, "web");
  const projectDir = join(root, "project");
  await mkdir(projectDir);
  await buildWeb(webDist);
  const env = loadEnv(
    {
      PORT: "0",
      HOST: "127.0.0.1",
      DATABASE_URL: `file:${join(root, "e2e.db")}`,
      WEB_DIST: webDist,
      LOG_LEVEL: "error",
      EXECUTOR: "simulated",
      ...options.env,
    },
    { cwd: root },
  );
  const database = await openDatabase({ url: env.DATABASE_URL, migrate: true });
  const orchestrator = await startOrchestrator(env, database, silentLogger);
  const server = await startServer({ env, database, orchestrator, logger: silentLogger });
  return {
    url: server.url,
    projectDir,
    server,
    orchestrator,
    async close() {
      await server.close();
      await orchestrator.close({ force: true });
      await database.close();
      removeDir(root);
    },
  };
}
