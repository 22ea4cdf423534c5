import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { parseWorkerEvent, WORKER_EVENT_TYPES } from "@glm-workers/core/events";
import { removeDir, tempDir, waitFor } from "@glm-workers/core/testkit";
import { EventSource } from "eventsource";
import { afterEach, describe, expect, test } from "vitest";
import { api, type ServerProcess, startServerProcess } from "./process-helpers.ts";

/** Acceptance of the workers API against a real server process, as a user with curl would see it. */

const TYPES = WORKER_EVENT_TYPES;

interface Seen {
  id: number;
  type: string;
  workerId: string | null;
  /** The event's `data`, parsed. */
  data: Record<string, unknown>;
}

function listen(url: string, lastEventId?: number) {
  const seen: Seen[] = [];
  const es = new EventSource(`${url}/api/workers/events`, {
    fetch: (input, init) =>
      fetch(input, {
        ...init,
        headers: {
          ...(init?.headers as Record<string, string>),
          ...(lastEventId !== undefined ? { "Last-Event-ID": String(lastEventId) } : {}),
        },
      }),
  });
  for (const type of TYPES) {
    es.addEventListener(type, (e) => {
      const data = JSON.parse(e.data) as Record<string, unknown> & { workerId: string | null };
      seen.push({ id: Number(e.lastEventId), type, workerId: data.workerId, data });
    });
  }
  const opened = new Promise<void>((resolve, reject) => {
    es.onopen = () => resolve();
    es.onerror = (err) => reject(err);
  });
  return { es, seen, opened };
}

let dir: string;
const servers: ServerProcess[] = [];
const sources: EventSource[] = [];

afterEach(async () => {
  for (const es of sources.splice(0)) es.close();
  for (const s of servers.splice(0)) await s.stop("SIGKILL");
  removeDir(dir);
});

async function boot(env: Record<string, string> = {}) {
  const s = await startServerProcess({
    DATABASE_URL: `file:${join(dir, "glm.db")}`,
    MAX_WORKERS: "2",
    EXECUTOR: "simulated",
    SIMULATED_CHUNK_MS: "700",
    LOG_LEVEL: "info",
    ...env,
  });
  servers.push(s);
  return s;
}

async function makeSpecs(url: string, names: string[], chunks = 2, description = "") {
  const ids: string[] = [];
  for (const name of names) {
    const directory = join(dir, "projects", name);
    mkdirSync(directory, { recursive: true });
    const p = await api<{ id: string }>(url, "POST", "/api/projects", { name, directory });
    expect(p.status).toBe(201);
    const s = await api<{ spec?: { id: string }; id?: string }>(
      url,
      "POST",
      `/api/projects/${p.json.id}/specs`,
      {
        title: `Spec ${name}`,
        content: `# ${name}`,
        chunks: Array.from({ length: chunks }, (_, i) => ({
          title: `${name} ${i + 1}`,
          description: `part ${i + 1} ${description}`.trim(),
        })),
      },
    );
    expect(s.status).toBe(201);
    ids.push((s.json.spec?.id ?? s.json.id) as string);
  }
  return ids;
}

type Worker = {
  id: string;
  specId: string;
  status: string;
  startedAt: number | null;
  finishedAt: number | null;
  progress: { current: number; total: number; passed: number; failed: number };
};

async function workers(url: string) {
  return (
    await api<{ workers: Worker[]; activeCount: number; maxWorkers: number }>(
      url,
      "GET",
      "/api/workers",
    )
  ).json;
}

async function workerFor(url: string, specId: string) {
  return (await workers(url)).workers.find((w) => w.specId === specId);
}

describe("workers API", () => {
  test("two run at once, the rest queue in priority order; stop starts the next; SSE sees all in order", async () => {
    dir = tempDir("api");
    const s = await boot();
    const live = listen(s.url);
    sources.push(live.es);
    await live.opened;
    const [a, b, c, d] = (await makeSpecs(s.url, ["a", "b", "c", "d"])) as [
      string,
      string,
      string,
      string,
    ];

    const ra = await api<{ status: string; worker: Worker }>(s.url, "POST", "/api/workers", {
      specId: a,
    });
    const rb = await api(s.url, "POST", "/api/workers", { specId: b });
    const rc = await api(s.url, "POST", "/api/workers", { specId: c, priority: 1 });
    const rd = await api(s.url, "POST", "/api/workers", { specId: d, priority: 3 });
    expect([ra.status, rb.status, rc.status, rd.status]).toEqual([201, 201, 202, 202]);
    expect(ra.json.status).toBe("started");
    expect(rc.json.status).toBe("queued");

    // 409 for a spec already running or queued; 404 and 400 for bad input
    expect((await api(s.url, "POST", "/api/workers", { specId: a })).status).toBe(409);
    expect((await api(s.url, "POST", "/api/queue", { specId: c })).status).toBe(409);
    expect((await api(s.url, "POST", "/api/workers", { specId: "missing" })).status).toBe(404);
    expect((await api(s.url, "POST", "/api/workers", { specId: 5 })).status).toBe(400);
    expect((await api(s.url, "GET", "/api/workers/nope")).status).toBe(404);
    expect((await api(s.url, "POST", "/api/workers/nope/pause")).status).toBe(404);

    const queue = (
      await api<{ queue: Array<{ specId: string; waitReason: string }> }>(
        s.url,
        "GET",
        "/api/queue",
      )
    ).json.queue;
    expect(queue.map((q) => q.specId)).toEqual([d, c]);
    expect(queue[0]?.waitReason).toBe("no_slot");

    // a page of the queue with the total; a move to a position; bad input refused
    type QueuePage = {
      queue: Array<{ id: string; specId: string; position: number }>;
      total: number;
    };
    const page = await api<QueuePage>(s.url, "GET", "/api/queue?limit=1&offset=1");
    expect(page.json).toMatchObject({ total: 2, queue: [{ specId: c, position: 2 }] });
    const cId = page.json.queue[0]?.id as string;
    const moved = await api<{ specId: string; position: number }>(
      s.url,
      "POST",
      `/api/queue/${cId}/move`,
      { position: 1 },
    );
    expect(moved.json).toMatchObject({ specId: c, position: 1 });
    const reordered = await api<QueuePage>(s.url, "GET", "/api/queue");
    expect(reordered.json.queue.map((q) => q.specId)).toEqual([c, d]);
    expect((await api(s.url, "POST", `/api/queue/${cId}/move`, { position: 0 })).status).toBe(400);
    expect(
      (await api(s.url, "POST", `/api/queue/${cId}/move`, { position: 1, at: "top" })).status,
    ).toBe(400);
    expect((await api(s.url, "GET", "/api/queue?limit=0")).status).toBe(400);
    expect((await api(s.url, "POST", "/api/queue/nope/move", { position: 1 })).status).toBe(404);
    await api(s.url, "POST", `/api/queue/${cId}/move`, { position: 2 }); // back: d, c
    const list = await workers(s.url);
    expect(list.activeCount).toBe(2);
    expect(list.maxWorkers).toBe(2);

    // stop a → d (higher priority) starts by itself
    const stopped = await api<Worker>(s.url, "DELETE", `/api/workers/${ra.json.worker.id}`);
    expect(stopped.status).toBe(200);
    expect(stopped.json.status).toBe("stopped");
    await waitFor("d to start", async () => (await workerFor(s.url, d))?.status === "running");

    const all = await waitFor("b, c, d to complete", async () => {
      const ws = await Promise.all([b, c, d].map((id) => workerFor(s.url, id)));
      return ws.every((w) => w?.status === "completed") ? (ws as Worker[]) : null;
    });
    // b ran at the same time as a or d
    const wb = all[0] as Worker;
    const wd = all[2] as Worker;
    expect(wd.startedAt ?? 0).toBeLessThan(wb.finishedAt ?? 0);

    // SSE: ids strictly increasing, every lifecycle event seen
    await waitFor("completion events", async () =>
      live.seen.filter((e) => e.type === "worker_completed").length >= 3 ? true : null,
    );
    const ids = live.seen.map((e) => e.id);
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    expect(new Set(ids).size).toBe(ids.length);
    for (const type of [
      "worker_started",
      "worker_progress",
      "worker_stopped",
      "worker_completed",
      "queue_updated",
      "log",
    ]) {
      expect(
        live.seen.some((e) => e.type === type),
        type,
      ).toBe(true);
    }

    // reconnect with Last-Event-ID from the middle: the replay matches what was seen live
    const middle = live.seen[Math.floor(live.seen.length / 2)] as Seen;
    const again = listen(s.url, middle.id);
    sources.push(again.es);
    await again.opened;
    const expected = live.seen.filter((e) => e.id > middle.id).map((e) => e.id);
    await waitFor("replay", async () => (again.seen.length >= expected.length ? true : null));
    expect(again.seen.map((e) => e.id).slice(0, expected.length)).toEqual(expected);
  }, 150_000);

  test("pause holds progress, also across a restart; kill -9 mid-run resumes and completes every chunk", async () => {
    dir = tempDir("api");
    let s = await boot({ SIMULATED_CHUNK_MS: "1200" });
    const [p, k] = (await makeSpecs(s.url, ["paused", "killed"], 3)) as [string, string];
    const rp = await api<{ worker: Worker }>(s.url, "POST", "/api/workers", { specId: p });
    const rk = await api<{ worker: Worker }>(s.url, "POST", "/api/workers", { specId: k });
    expect(rp.status).toBe(201);
    expect(rk.status).toBe(201);
    await new Promise((r) => setTimeout(r, 500));
    const paused = await api<Worker>(s.url, "POST", `/api/workers/${rp.json.worker.id}/pause`);
    expect(paused.status).toBe(200);
    expect(paused.json.status).toBe("paused");
    const beforeLogs = (
      await api<{ logs: unknown[] }>(s.url, "GET", `/api/workers/${rp.json.worker.id}/logs`)
    ).json.logs;
    const before = beforeLogs.length;
    await new Promise((r) => setTimeout(r, 1500));
    const held = await api<Worker>(s.url, "GET", `/api/workers/${rp.json.worker.id}`);
    expect(held.json.status).toBe("paused");
    expect(held.json.progress).toEqual(paused.json.progress);
    const afterLogs = (
      await api<{ logs: unknown[] }>(s.url, "GET", `/api/workers/${rp.json.worker.id}/logs`)
    ).json.logs;
    expect(afterLogs.slice(before)).toEqual([]);

    // kill -9 while "killed" is mid-run
    await waitFor("a chunk of the killed spec to complete", async () => {
      const spec = await api<{ chunks: Array<{ status: string }> }>(
        s.url,
        "GET",
        `/api/specs/${k}`,
      );
      return spec.json.chunks.some((c) => c.status === "completed") ? true : null;
    });
    await s.stop("SIGKILL");
    servers.splice(servers.indexOf(s), 1);

    s = await boot({ SIMULATED_CHUNK_MS: "400" });
    // the paused run stayed paused; the killed one resumed by itself and completes
    expect((await api<Worker>(s.url, "GET", `/api/workers/${rp.json.worker.id}`)).json.status).toBe(
      "paused",
    );
    const done = await waitFor("the killed run to complete", async () => {
      const w = await api<Worker>(s.url, "GET", `/api/workers/${rk.json.worker.id}`);
      return w.json.status === "completed" ? w.json : null;
    });
    expect(done.progress.passed).toBe(3);
    const killedSpec = await api<{ chunks: Array<{ status: string }> }>(
      s.url,
      "GET",
      `/api/specs/${k}`,
    );
    expect(killedSpec.json.chunks.map((c) => c.status)).toEqual([
      "completed",
      "completed",
      "completed",
    ]);

    const resumed = await api<Worker>(s.url, "POST", `/api/workers/${rp.json.worker.id}/resume`);
    expect(resumed.status).toBe(200);
    expect(resumed.json.status).toBe("running");
    await waitFor("the paused run to complete after resume", async () => {
      const w = await api<Worker>(s.url, "GET", `/api/workers/${rp.json.worker.id}`);
      return w.json.status === "completed" ? true : null;
    });
    const pausedSpec = await api<{ chunks: Array<{ status: string }> }>(
      s.url,
      "GET",
      `/api/specs/${p}`,
    );
    expect(pausedSpec.json.chunks.every((c) => c.status === "completed")).toBe(true);
    expect((await api(s.url, "POST", `/api/workers/${rp.json.worker.id}/pause`)).status).toBe(409);
  }, 150_000);

  test("SSE data carries the WorkerEvent fields at top level (worker, progress, error, queue)", async () => {
    dir = tempDir("api");
    const s = await boot({ MAX_WORKERS: "1", SIMULATED_CHUNK_MS: "300" });
    const live = listen(s.url);
    sources.push(live.es);
    await live.opened;
    const [ok] = (await makeSpecs(s.url, ["ok"], 1)) as [string];
    const [bad] = (await makeSpecs(s.url, ["bad"], 2, "[simulate:fail]")) as [string];
    await api(s.url, "POST", "/api/workers", { specId: ok });
    await api(s.url, "POST", "/api/workers", { specId: bad }); // queued behind ok
    await waitFor("both runs to end", () =>
      live.seen.some((e) => e.type === "worker_completed") &&
      live.seen.some((e) => e.type === "worker_failed")
        ? true
        : null,
    );
    // every event is the strict shared protocol, envelope included
    for (const e of live.seen) {
      expect(parseWorkerEvent(e.data)).toEqual(e.data);
      expect(e.data.id).toBe(e.id);
      expect(e.data.type).toBe(e.type);
      expect(e.data).toHaveProperty("payload");
      expect(e.data).toHaveProperty("at");
    }
    const first = (type: string) => live.seen.find((e) => e.type === type)?.data ?? {};
    expect(first("worker_started")).toMatchObject({
      workerId: expect.any(String),
      worker: { specId: ok, status: "running" },
    });
    expect(first("worker_progress")).toMatchObject({
      workerId: expect.any(String),
      progress: {
        current: expect.any(Number),
        total: 1,
        passed: expect.any(Number),
        failed: expect.any(Number),
      },
    });
    expect(first("worker_completed")).toMatchObject({
      workerId: expect.any(String),
      worker: { specId: ok, status: "completed" },
    });
    const failed = first("worker_failed");
    expect(failed).toMatchObject({ workerId: expect.any(String), worker: { specId: bad } });
    expect(failed.error).toEqual(expect.stringMatching(/failed/));
    // bad waits behind ok: some queue_updated lists it alone, with its reason
    const queued = live.seen.find(
      (e) =>
        e.type === "queue_updated" &&
        Array.isArray(e.data.queue) &&
        e.data.queue.some((q: { specId?: string }) => q.specId === bad),
    );
    expect(queued?.data).toMatchObject({ queue: [{ specId: bad, position: 1 }], paused: false });

    // a failed chunk stops the run: the second chunk was cancelled, never started
    const spec = await api<{ chunks: Array<{ status: string; error: string | null }> }>(
      s.url,
      "GET",
      `/api/specs/${bad}`,
    );
    expect(spec.json.chunks.map((c) => c.status)).toEqual(["failed", "cancelled"]);
    const started = live.seen.filter(
      (e) =>
        e.type === "chunk_updated" &&
        e.data.event === "started" &&
        e.data.workerId === failed.workerId,
    );
    expect(started).toHaveLength(1);
  }, 120_000);
});
