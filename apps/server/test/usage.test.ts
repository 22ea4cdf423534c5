import { executorLabel } from "@glm-workers/core";
import { emptyUsage, usageSchema } from "@glm-workers/core/events";
import {
  EventBus,
  Orchestrator,
  type RunHandleLike,
  type RunLauncher,
  type WorkerEvent,
} from "@glm-workers/core/orchestrator";
import type { RunResult, ThreadToMain } from "@glm-workers/core/protocol";
import { waitFor } from "@glm-workers/core/testkit";
import { type Database, openDatabase } from "@glm-workers/db/client";
import { createTRPCClient, httpBatchLink } from "@trpc/client";
import { afterEach, expect, test } from "vitest";
import { silentLogger } from "../src/logger.ts";
import type { AppRouter } from "../src/router.ts";
import { executorConfig } from "../src/runtime.ts";
import { type RunningServer, startServer } from "../src/server.ts";
import { type Json, type Sandbox, sandbox, testEnv } from "./helpers.ts";

/**
 * The usage API: worker views, spec and chunk usage, project totals and the summary, over REST
 * and tRPC. Runs are played by a launcher without threads; usage comes in as the gateway
 * reports it, through `Orchestrator.recordUsage`.
 */

/** Keeps every run open until the test ends it; `say` speaks as the run's thread. */
class HeldLauncher implements RunLauncher {
  readonly runs = new Map<string, { say(msg: ThreadToMain): void; end(): void }>();
  start(
    snapshot: { spec: { id: string }; chunks: unknown[] },
    handlers: { onMessage: (msg: ThreadToMain) => void },
  ): RunHandleLike {
    let resolve: (r: RunResult) => void = () => {};
    const result = new Promise<RunResult>((r) => {
      resolve = r;
    });
    const n = snapshot.chunks.length;
    const progress = { current: n, total: n, passed: n, failed: 0 };
    this.runs.set(snapshot.spec.id, {
      say: handlers.onMessage,
      end: () => resolve({ outcome: "completed", error: null, progress }),
    });
    handlers.onMessage({ type: "ready", at: Date.now() });
    return {
      result,
      pause: () => handlers.onMessage({ type: "paused", at: Date.now() }),
      resume: () => handlers.onMessage({ type: "resumed", at: Date.now() }),
      abort: (reason) => resolve({ outcome: "aborted", error: reason, progress }),
    };
  }
  async close() {}
}

let box: Sandbox | undefined;
let server: RunningServer | undefined;
let database: Database | undefined;
let orchestrator: Orchestrator | undefined;

afterEach(async () => {
  await server?.close();
  await orchestrator?.close({ force: true });
  await database?.close();
  box?.cleanup();
  server = orchestrator = database = box = undefined;
});

async function boot() {
  box = sandbox();
  const env = testEnv(box, { MAX_WORKERS: "2" });
  database = await openDatabase({ url: env.DATABASE_URL });
  const launcher = new HeldLauncher();
  const events: WorkerEvent[] = [];
  const bus = new EventBus();
  bus.subscribe((e) => events.push(e));
  orchestrator = new Orchestrator({
    db: database.db,
    write: database.write,
    pool: launcher,
    bus,
    executor: executorConfig(env),
    executorLabel,
    maxWorkers: env.MAX_WORKERS,
  });
  await orchestrator.init();
  server = await startServer({ env, database, orchestrator, logger: silentLogger, cwd: box.dir });
  const url = server.url;
  const rest = async (path: string, init: { method?: string; body?: unknown } = {}) => {
    const res = await fetch(`${url}${path}`, {
      method: init.method ?? "GET",
      headers: { "content-type": "application/json", origin: url },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    return { status: res.status, json: (await res.json()) as Json };
  };
  const trpc = createTRPCClient<AppRouter>({
    links: [httpBatchLink({ url: `${url}/trpc`, fetch, headers: { origin: url } })],
  });
  return { env, launcher, events, orchestrator, rest, trpc, projectDir: box.projectDir };
}

const ZERO = emptyUsage();
const request = {
  inputTokens: 120_000,
  outputTokens: 2_000,
  reasoningTokens: 500,
  cacheReadTokens: 100_000,
  requests: 1,
  model: null,
};
/** One `request` on glm-4.7: 20k uncached × 0.60 + 100k cached × 0.11 + 2k out × 2.20 micro-USD. */
const ONE = {
  inputTokens: 120_000,
  outputTokens: 2_000,
  reasoningTokens: 500,
  cacheReadTokens: 100_000,
  requests: 1,
  costUsd: 0.0274,
};
const times = (n: number, cost = 0.0274) => ({
  inputTokens: 120_000 * n,
  outputTokens: 2_000 * n,
  reasoningTokens: 500 * n,
  cacheReadTokens: 100_000 * n,
  requests: n,
  costUsd: cost,
});

test("usage on worker views, chunks, specs, projects and the summary, the same over REST and tRPC", async () => {
  const { env, launcher, orchestrator: o, rest, trpc, projectDir, events } = await boot();
  expect(env.OPENCODE_MODEL).toBe("zai-coding-plan/glm-4.7");
  const project = await rest("/api/projects", {
    method: "POST",
    body: { name: "p", directory: projectDir },
  });
  const spec = await rest(`/api/projects/${project.json.id}/specs`, {
    method: "POST",
    body: { title: "s", content: "", chunks: [{ title: "a" }, { title: "b" }] },
  });
  expect(spec.status).toBe(201);
  expect(spec.json.usage).toEqual(ZERO);
  expect(spec.json.chunks[0].usage).toEqual({ executing: null, reviewing: null });
  const [a, b] = spec.json.chunks.map((c: { id: string }) => c.id) as [string, string];

  const started = await rest("/api/workers", { method: "POST", body: { specId: spec.json.id } });
  expect(started.status).toBe(201);
  expect(started.json.worker.usage).toEqual(ZERO);
  const id: string = started.json.worker.id;
  const run = launcher.runs.get(spec.json.id);
  if (!run) throw new Error("the run did not start");

  const at = Date.now();
  run.say({ type: "chunk", event: "started", chunk: { id: a, status: "running" }, at });
  run.say({ type: "step", chunkId: a, step: "executing", at });
  await o.recordUsage(id, request);
  await o.recordUsage(id, request);
  run.say({ type: "step", chunkId: a, step: "reviewing", at });
  await o.recordUsage(id, request);

  const worker = await rest(`/api/workers/${id}`);
  expect(worker.json.usage).toEqual(times(3, 0.0822));
  expect(Object.keys(worker.json.usage).sort()).toEqual([
    "cacheReadTokens",
    "costUsd",
    "inputTokens",
    "outputTokens",
    "reasoningTokens",
    "requests",
  ]);
  expect(usageSchema.strict().parse(worker.json.usage)).toEqual(worker.json.usage);
  const list = await rest("/api/workers");
  expect(list.json.workers.find((w: { id: string }) => w.id === id).usage).toEqual(
    times(3, 0.0822),
  );
  expect(await trpc.workers.get.query({ id })).toMatchObject({ usage: times(3, 0.0822) });
  expect((await trpc.workers.list.query()).workers[0]?.usage).toEqual(times(3, 0.0822));

  const detail = await rest(`/api/specs/${spec.json.id}`);
  expect(detail.json.usage).toEqual(times(3, 0.0822));
  expect(detail.json.chunks.map((c: { id: string; usage: unknown }) => [c.id, c.usage])).toEqual([
    [a, { executing: times(2, 0.0548), reviewing: ONE }],
    [b, { executing: null, reviewing: null }],
  ]);
  expect(await trpc.specs.get.query({ id: spec.json.id })).toMatchObject({
    usage: detail.json.usage,
    chunks: detail.json.chunks,
  });
  expect((await trpc.chunks.list.query({ specId: spec.json.id }))[0]?.usage).toEqual(
    detail.json.chunks[0].usage,
  );

  const proj = await rest(`/api/projects/${project.json.id}`);
  expect(proj.json).toMatchObject({ id: project.json.id, name: "p", usage: times(3, 0.0822) });
  expect((await trpc.projects.get.query({ id: project.json.id })).usage).toEqual(proj.json.usage);

  const summary = await rest("/api/usage");
  expect(summary.status).toBe(200);
  // the simulated executor has no gateway: its state is null
  expect(summary.json).toEqual({
    last5h: times(3, 0.0822),
    total: times(3, 0.0822),
    gateway: null,
  });
  expect(await trpc.system.usage.query()).toEqual(summary.json);

  // the event that carried it, as the SSE feed and the subscription send it
  const last = events.filter((e) => e.type === "usage_updated").at(-1);
  expect(last).toMatchObject({
    workerId: id,
    specId: spec.json.id,
    chunkId: a,
    step: "reviewing",
    usage: times(3, 0.0822),
    chunkUsage: ONE,
    specUsage: times(3, 0.0822),
  });

  // a second run of the spec adds up on the spec, its chunks and the project
  run.end();
  await waitFor("the first run to finish", () => o.activeCount === 0);
  const again = await rest("/api/workers", { method: "POST", body: { specId: spec.json.id } });
  const second = launcher.runs.get(spec.json.id);
  second?.say({ type: "step", chunkId: a, step: "executing", at: Date.now() });
  await o.recordUsage(again.json.worker.id, { ...request, model: "zai-coding-plan/glm-4.5-air" });
  const after = await rest(`/api/specs/${spec.json.id}`);
  expect(after.json.chunks[0].usage.executing.requests).toBe(3);
  expect(after.json.usage.requests).toBe(4);
  // glm-4.5-air: 20k × 0.20 + 100k × 0.03 + 2k × 1.10 micro-USD
  expect(after.json.usage.costUsd).toBeCloseTo(0.0822 + 0.0092, 9);
  expect((await rest(`/api/workers/${again.json.worker.id}`)).json.usage).toEqual(times(1, 0.0092));
  expect((await rest(`/api/usage`)).json.last5h.requests).toBe(4);
});

test("a worker of an unpriced model has a null cost; a spec without runs has zeros", async () => {
  const { launcher, orchestrator: o, rest, projectDir } = await boot();
  const project = await rest("/api/projects", {
    method: "POST",
    body: { name: "p", directory: projectDir },
  });
  const spec = await rest(`/api/projects/${project.json.id}/specs`, {
    method: "POST",
    body: { title: "s", chunks: [{ title: "a" }] },
  });
  expect((await rest(`/api/specs/${spec.json.id}`)).json.usage).toEqual(ZERO);
  expect((await rest(`/api/projects/${project.json.id}`)).json.usage).toEqual(ZERO);
  expect((await rest("/api/usage")).json).toEqual({ last5h: ZERO, total: ZERO, gateway: null });
  const started = await rest("/api/workers", { method: "POST", body: { specId: spec.json.id } });
  expect(launcher.runs.has(spec.json.id)).toBe(true);
  await o.recordUsage(started.json.worker.id, { ...request, model: "acme/unpriced" });
  expect((await rest(`/api/workers/${started.json.worker.id}`)).json.usage).toEqual({
    ...ONE,
    costUsd: null,
  });
  expect((await rest("/api/usage")).json.total.costUsd).toBeNull();
});
