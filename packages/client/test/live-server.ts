import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Orchestrator } from "@glm-workers/core/orchestrator";
import type { Database } from "@glm-workers/db/client";
import { openDatabase } from "@glm-workers/db/client";
import { silentLogger } from "../../../apps/server/src/logger.ts";
import { startOrchestrator } from "../../../apps/server/src/runtime.ts";
import { type RunningServer, startServer } from "../../../apps/server/src/server.ts";
import { type Sandbox, sandbox, testEnv } from "../../../apps/server/test/helpers.ts";
import type { GlmWorkersClient } from "../src/index.ts";

/** A listening server (simulated agent) with its orchestrator, in this process, on loopback. */
export interface LiveServer {
  url: string;
  box: Sandbox;
  orchestrator: Orchestrator;
  close(): Promise<void>;
}

export async function startLiveServer(overrides: Record<string, string> = {}): Promise<LiveServer> {
  const box = sandbox();
  const env = testEnv(box, { MAX_WORKERS: "2", SIMULATED_CHUNK_MS: "200", ...overrides });
  const database: Database = await openDatabase({ url: env.DATABASE_URL });
  const orchestrator = await startOrchestrator(env, database, silentLogger);
  const server: RunningServer = await startServer({
    env,
    database,
    orchestrator,
    logger: silentLogger,
    cwd: box.dir,
  });
  return {
    url: server.url,
    box,
    orchestrator,
    async close() {
      await server.close();
      await orchestrator.close({ force: true });
      await database.close();
      box.cleanup();
    },
  };
}

/** A project in `dir` and a spec with `chunks` chunks, made through the client; the spec's id. */
export async function makeSpec(
  client: GlmWorkersClient,
  dir: string,
  title: string,
  chunks: number,
): Promise<string> {
  const directory = join(dir, "projects", title);
  mkdirSync(directory, { recursive: true });
  const project = await client.projects.create.mutate({ name: title, directory });
  const spec = await client.specs.create.mutate({
    projectId: project.id,
    title,
    content: `# ${title}`,
    chunks: Array.from({ length: chunks }, (_, i) => ({ title: `${title} ${i + 1}` })),
  });
  return spec.id;
}
