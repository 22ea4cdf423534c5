import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Database, openDatabase } from "@glm-workers/db/client";
import { createRepositories, type Repositories } from "@glm-workers/db/repositories";
import { executorLabel } from "../src/executors/index.ts";
import { EventBus } from "../src/orchestrator/bus.ts";
import { Orchestrator, type OrchestratorOptions } from "../src/orchestrator/orchestrator.ts";
import type { WorkerEvent } from "../src/orchestrator/types.ts";
import { RunPool } from "../src/pool.ts";
import { removeDir, tempDir, waitFor } from "../src/testkit/index.ts";

export { removeDir, waitFor };

export interface Harness {
  dir: string;
  dbUrl: string;
  database: Database;
  repos: Repositories;
  orchestrator: Orchestrator;
  bus: EventBus;
  events: WorkerEvent[];
  /** Closes the orchestrator (graceful unless forced) and the database. */
  stop(opts?: { force?: boolean }): Promise<void>;
}

export async function openHarness(
  opts: { dir?: string; maxWorkers?: number; chunkMs?: number } & Partial<OrchestratorOptions> = {},
): Promise<Harness> {
  const dir = opts.dir ?? tempDir("orch");
  const dbUrl = `file:${join(dir, "test.db")}`;
  const database = await openDatabase({ url: dbUrl });
  const repos = createRepositories(database);
  const bus = new EventBus();
  const events: WorkerEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const pool = opts.pool ?? new RunPool({ maxThreads: 8 });
  const orchestrator = new Orchestrator({
    db: database.db,
    write: database.write,
    pool,
    bus,
    executor: { kind: "simulated", simulatedChunkMs: opts.chunkMs ?? 400, env: {} },
    executorLabel,
    maxWorkers: opts.maxWorkers ?? 2,
    worktreeRoot: join(dir, "worktrees"),
    ...opts,
  });
  await orchestrator.init();
  return {
    dir,
    dbUrl,
    database,
    repos,
    orchestrator,
    bus,
    events,
    async stop(stopOpts = {}) {
      await orchestrator.close(stopOpts);
      await database.close();
    },
  };
}

/** A project in its own plain directory, with one spec of `n` chunks. */
export async function makeSpec(h: Harness, name: string, n = 2, extra = "") {
  const directory = join(h.dir, "projects", name);
  mkdirSync(directory, { recursive: true });
  const project = await h.repos.projects.create({ name, directory });
  const created = await h.repos.specs.create({
    projectId: project.id,
    title: `Spec ${name}`,
    content: `# ${name}\nBuild the thing.`,
    chunks: Array.from({ length: n }, (_, i) => ({
      title: `${name} chunk ${i + 1}`,
      description: `Write part ${i + 1} of ${name}. ${extra}`,
    })),
  });
  return { project, spec: created.spec, chunks: created.chunks };
}
