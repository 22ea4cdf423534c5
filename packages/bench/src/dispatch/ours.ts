// glm-workers' own dispatch: one-chunk specs through the real orchestrator, libsql store and
// Piscina worker threads, with the bench-only instant executor (no agent process).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { RunPool } from "@glm-workers/core";
import { benchWorkerFile } from "@glm-workers/core/bench";
import { EventBus, Orchestrator } from "@glm-workers/core/orchestrator";
import { openDatabase } from "@glm-workers/db/client";
import { createRepositories } from "@glm-workers/db/repositories";

export interface OursResult {
  name: string;
  jobs: number;
  wallMs: number;
  perSecond: number;
  latencyMs: number[];
  /** Events published (and stored) while measuring. */
  events: number;
  /** Write operations and the transactions (group-commit batches) that held them. */
  writes: number;
  batches: number;
}

/**
 * Queues `jobs` one-chunk specs at once (over `slots` plain-directory projects, so the
 * per-project limit never binds) and waits until every run completed. Latency per job: the
 * enqueue call → its `worker_completed` event on the bus (published after the commit).
 */
export async function runOurs(opts: {
  jobs: number;
  slots: number;
  dir: string;
}): Promise<OursResult> {
  const { jobs, slots, dir } = opts;
  const database = await openDatabase({ url: `file:${join(dir, "dispatch.db")}` });
  const repos = createRepositories(database);
  const projectIds: string[] = [];
  for (let p = 0; p < slots; p++) {
    const directory = join(dir, `project-${p}`);
    mkdirSync(directory, { recursive: true });
    projectIds.push((await repos.projects.create({ name: `project ${p}`, directory })).id);
  }
  const specIds: string[] = [];
  // specs are made before the clock starts (a job system's payloads exist before they are queued)
  const batch = 200;
  for (let i = 0; i < jobs; i += batch) {
    const made = await Promise.all(
      Array.from({ length: Math.min(batch, jobs - i) }, (_, k) =>
        repos.specs.create({
          projectId: projectIds[(i + k) % slots] as string,
          title: `job ${i + k}`,
          chunks: [{ title: "no-op", description: "instant" }],
        }),
      ),
    );
    for (const m of made) specIds.push(m.spec.id);
  }
  const bus = new EventBus();
  const enqueuedAt = new Map<string, number>();
  const latencyMs: number[] = [];
  let events = 0;
  let done = 0;
  let t0 = 0;
  let allDone: () => void = () => {};
  const finished = new Promise<void>((r) => {
    allDone = r;
  });
  bus.subscribe((event) => {
    if (t0 === 0) return;
    events++;
    if (event.type !== "worker_completed" && event.type !== "worker_failed") return;
    const at = enqueuedAt.get(event.worker.specId);
    if (at === undefined) return;
    if (event.type === "worker_failed") throw new Error(`a bench run failed: ${event.error}`);
    latencyMs.push(performance.now() - at);
    if (++done === jobs) allDone();
  });
  const pool = new RunPool({ maxThreads: slots, workerFile: benchWorkerFile() });
  const orchestrator = new Orchestrator({
    db: database.db,
    write: database.write,
    pool,
    bus,
    executor: { kind: "simulated", simulatedChunkMs: 0, env: {} },
    executorLabel: () => "instant (bench)",
    maxWorkers: slots,
    memoryProbe: () => Number.POSITIVE_INFINITY,
  });
  await orchestrator.init();
  const w0 = { ...database.stats };
  t0 = performance.now();
  await Promise.all(
    specIds.map((id) => {
      enqueuedAt.set(id, performance.now());
      return orchestrator.enqueue(id);
    }),
  );
  await finished;
  const wallMs = performance.now() - t0;
  const w1 = { ...database.stats };
  await orchestrator.close();
  await database.close();
  return {
    name: "glm-workers (orchestrator + libsql + threads)",
    jobs,
    wallMs,
    perSecond: jobs / (wallMs / 1000),
    latencyMs,
    events,
    writes: w1.writes - w0.writes,
    batches: w1.batches - w0.batches,
  };
}
