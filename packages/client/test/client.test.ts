import { join } from "node:path";
import { removeDir, tempDir, waitFor } from "@glm-workers/core/testkit";
import { type Database, openDatabase } from "@glm-workers/db/client";
import { afterEach, expect, test } from "vitest";
import {
  type ServerProcess,
  startServerProcess,
} from "../../../apps/server/test/process-helpers.ts";
import {
  createGlmWorkersClient,
  type GlmWorkersClient,
  type GlmWorkersClientError,
  isGlmWorkersClientError,
  TRPCClientError,
  type TrackedWorkerEvent,
} from "../src/index.ts";
import { type LiveServer, makeSpec, startLiveServer } from "./live-server.ts";

/** The vanilla client against real servers on loopback (in this process, and a real process). */

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function live(overrides: Record<string, string> = {}): Promise<LiveServer> {
  const server = await startLiveServer(overrides);
  cleanups.push(() => server.close());
  return server;
}

/** `fetch` that records each request's URL and headers. */
function recordingFetch() {
  const requests: Array<{ url: string; headers: Headers }> = [];
  const f: typeof fetch = (input, init) => {
    requests.push({ url: String(input), headers: new Headers(init?.headers) });
    return fetch(input, init);
  };
  return { requests, fetch: f };
}

/** Subscribes to every event; resolves once the server has the subscription open. */
async function subscribe(client: GlmWorkersClient, input: { lastEventId?: string } = {}) {
  const seen: TrackedWorkerEvent[] = [];
  const errors: unknown[] = [];
  let sub: { unsubscribe(): void } | undefined;
  await new Promise<void>((resolve) => {
    sub = client.workers.onEvent.subscribe(input, {
      onStarted: () => resolve(),
      onData: (e) => {
        seen.push(e);
      },
      onError: (err) => {
        errors.push(err);
      },
    });
  });
  cleanups.push(() => sub?.unsubscribe());
  return { seen, errors, unsubscribe: () => sub?.unsubscribe() };
}

async function failure(call: Promise<unknown>): Promise<GlmWorkersClientError> {
  const err = await call.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TRPCClientError);
  return err as GlmWorkersClientError;
}

test("lists, starts, pauses, resumes and stops workers; queries and mutations go batched", async () => {
  const server = await live({ SIMULATED_CHUNK_MS: "1500" });
  const rec = recordingFetch();
  const client = createGlmWorkersClient({ url: server.url, fetch: rec.fetch });

  const empty = await client.workers.list.query();
  expect(empty).toMatchObject({ workers: [], activeCount: 0, maxWorkers: 2 });
  const specId = await makeSpec(client, server.box.dir, "lifecycle", 3);

  const started = await client.workers.start.mutate({ specId });
  if (started.status !== "started") throw new Error(`not started: ${started.status}`);
  const id = started.worker.id;
  expect(started.worker).toMatchObject({ specId, status: "running", specTitle: "lifecycle" });

  // Three queries at once: one HTTP request to /trpc/workers.get,workers.list,system.info.
  const before = rec.requests.length;
  const [one, all, info] = await Promise.all([
    client.workers.get.query({ id }),
    client.workers.list.query(),
    client.system.info.query(),
  ]);
  expect(rec.requests.length - before).toBe(1);
  expect(new URL(rec.requests.at(-1)?.url ?? "").pathname).toBe(
    "/trpc/workers.get,workers.list,system.info",
  );
  expect(one.id).toBe(id);
  expect(all.workers.map((w) => w.id)).toEqual([id]);
  expect(info.executor).toBe("simulated");

  expect((await client.workers.pause.mutate({ id })).status).toBe("paused");
  expect((await client.workers.get.query({ id })).status).toBe("paused");
  expect((await client.workers.resume.mutate({ id })).status).toBe("running");
  const stopped = await client.workers.stop.mutate({ id });
  expect(stopped.status).toBe("stopped");
  const after = await client.workers.list.query();
  expect(after.workers.find((w) => w.id === id)?.status).toBe("stopped");
  expect(after.activeCount).toBe(0);
});

test("the subscription delivers a run's progress events until worker_completed", async () => {
  const server = await live({ SIMULATED_CHUNK_MS: "100" });
  const client = createGlmWorkersClient({ url: server.url });
  const specId = await makeSpec(client, server.box.dir, "progress", 3);
  const events = await subscribe(client);

  const started = await client.workers.start.mutate({ specId });
  if (started.status !== "started") throw new Error(`not started: ${started.status}`);
  const id = started.worker.id;
  await waitFor(
    "worker_completed",
    () => events.seen.some((e) => e.data.type === "worker_completed" && e.data.workerId === id),
    { timeoutMs: 20_000 },
  );

  const mine = events.seen.filter((e) => e.data.workerId === id).map((e) => e.data);
  expect(mine[0]?.type).toBe("worker_started");
  expect(mine.at(-1)?.type).toBe("worker_completed");
  const progress = mine.flatMap((e) => (e.type === "worker_progress" ? [e.progress] : []));
  expect(progress.length).toBeGreaterThan(0);
  expect(progress.at(-1)).toMatchObject({ current: 3, total: 3, passed: 3, failed: 0 });
  // The tracked id is the event id; ids only grow.
  for (const e of events.seen) expect(e.id).toBe(String(e.data.id));
  const ids = events.seen.map((e) => e.data.id);
  expect(ids).toEqual([...ids].sort((a, b) => a - b));
  expect(new Set(ids).size).toBe(ids.length);
  expect(events.errors).toEqual([]);
});

test("errors are TRPCClientErrors with the server's code; the token goes on every request", async () => {
  const server = await live({ AUTH_TOKEN: "client-test-token" });
  const client = createGlmWorkersClient({ url: server.url, token: "client-test-token" });

  const missing = await failure(client.workers.get.query({ id: "no-such-worker" }));
  expect(isGlmWorkersClientError(missing)).toBe(true);
  expect(missing.data).toMatchObject({ code: "NOT_FOUND", httpStatus: 404 });

  const bad = await failure(client.workers.start.mutate({ specId: "" }));
  expect(bad.data).toMatchObject({ code: "BAD_REQUEST", httpStatus: 400 });
  expect(bad.data?.issues).toEqual([expect.objectContaining({ path: "specId" })]);

  const specId = await makeSpec(client, server.box.dir, "twice", 1);
  await client.queue.setPaused.mutate({ paused: true });
  await client.workers.start.mutate({ specId });
  const twice = await failure(client.workers.start.mutate({ specId }));
  expect(twice.data?.code).toBe("CONFLICT");

  // The subscription sends the token too (the server answers 401 to an SSE request without it).
  const events = await subscribe(client);
  await client.queue.setPaused.mutate({ paused: false });
  await waitFor("queue_updated over SSE", () =>
    events.seen.some((e) => e.data.type === "queue_updated"),
  );

  // Without the token: 401 on both links, in tRPC's error shape (`data.code`).
  const anonymous = createGlmWorkersClient({ url: server.url });
  const denied = await failure(anonymous.workers.list.query());
  expect(denied.data?.code).toBe("UNAUTHORIZED");
  expect(denied.data?.httpStatus).toBe(401);
  const refused = await new Promise<unknown>((resolve) => {
    const sub = anonymous.workers.onEvent.subscribe({}, { onError: resolve });
    cleanups.push(() => sub.unsubscribe());
  });
  expect(refused).toBeInstanceOf(TRPCClientError);
  expect((refused as Error).message).toMatch(/401/);
});

test("across a server restart the subscription resumes from the last event id: no gap, no repeat", async () => {
  const dir = tempDir("client-restart");
  cleanups.push(() => removeDir(dir));
  const env = {
    DATABASE_URL: `file:${join(dir, "glm.db")}`,
    WEB_DIST: join(dir, "no-web-dist"),
    EXECUTOR: "simulated",
    SIMULATED_CHUNK_MS: "300",
    MAX_WORKERS: "1",
    LOG_LEVEL: "info",
  };
  let server: ServerProcess = await startServerProcess(env);
  cleanups.push(async () => {
    await server.stop("SIGKILL");
  });
  const port = new URL(server.url).port;

  // Each SSE request: its Last-Event-ID and the last event id the client had received then.
  // While `gate` is closed, SSE requests wait for it.
  const sse: Array<{ header: string | null; lastReceived: string | undefined }> = [];
  let received: TrackedWorkerEvent[] = [];
  let gate: Promise<void> = Promise.resolve();
  let openGate = () => {};
  const client = createGlmWorkersClient({
    url: server.url,
    fetch: async (input, init) => {
      if (new URL(String(input)).pathname === "/trpc/workers.onEvent") {
        const header = new Headers(init?.headers).get("last-event-id");
        sse.push({ header, lastReceived: received.at(-1)?.id });
        await gate;
      }
      return fetch(input, init);
    },
  });
  const specId = await makeSpec(client, dir, "restart", 6);
  const events = await subscribe(client);
  received = events.seen;
  const started = await client.workers.start.mutate({ specId });
  if (started.status !== "started") throw new Error(`not started: ${started.status}`);
  const id = started.worker.id;
  await waitFor("two chunks done", () =>
    events.seen.some((e) => e.data.type === "worker_progress" && e.data.progress.current >= 2),
  );

  // Kill the server mid-run. Its successor (same database, same port) recovers the run and
  // writes events while the client is still away: the client must get them from the backlog.
  gate = new Promise((resolve) => {
    openGate = resolve;
  });
  await server.stop("SIGKILL");
  const lastBefore = events.seen.at(-1)?.id;
  server = await startServerProcess({ ...env, PORT: port });
  const database: Database = await openDatabase({ url: env.DATABASE_URL, migrate: false });
  cleanups.push(() => database.close());
  const storedIds = async (from: number) =>
    (
      await database.client.execute({
        sql: "SELECT id FROM worker_events WHERE id >= ? ORDER BY id",
        args: [from],
      })
    ).rows.map((r) => Number(r.id));
  await waitFor(
    "the restarted server to write events",
    async () => (await storedIds(Number(lastBefore) + 1)).length > 0,
  );
  const seenAtRestart = events.seen.length;
  openGate();

  await waitFor(
    "worker_completed after the restart",
    () => events.seen.some((e) => e.data.type === "worker_completed" && e.data.workerId === id),
    { timeoutMs: 30_000 },
  );
  events.unsubscribe();

  // The first request had no Last-Event-ID; the reconnect sent the last id it had received.
  expect(sse[0]).toEqual({ header: null, lastReceived: undefined });
  expect(sse.length).toBeGreaterThan(1);
  for (const request of sse.slice(1)) expect(request.header).toBe(request.lastReceived);
  expect(sse[1]?.header).toBe(lastBefore);
  // What arrived is exactly what was stored from the first event on: no gap, no duplicate.
  const seenIds = events.seen.map((e) => Number(e.id));
  const stored = await storedIds(seenIds[0] ?? 0);
  expect(seenIds).toEqual(stored.slice(0, seenIds.length));
  // The run went on after the restart, and what the new server wrote before the client was back
  // came through.
  const afterRestart = events.seen.slice(seenAtRestart).map((e) => e.data);
  expect(afterRestart[0]?.id).toBe(Number(lastBefore) + 1);
  expect(afterRestart.some((e) => e.type === "worker_progress" && e.workerId === id)).toBe(true);
  expect(events.errors).toEqual([]);
}, 90_000);
