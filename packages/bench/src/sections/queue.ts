// Queue at scale: the compiled server with its slots full of long simulated runs and thousands
// of specs waiting behind them. Measured from outside at two queue lengths (1k and 10k, quick:
// 100 and 500): enqueue over HTTP, claim (a slot frees → the next queued spec runs, seen on the
// SSE feed), reorder (one item from the back moved to the top, the dashboard's call), listing
// (REST first page and the dashboard's tRPC snapshot), and the dashboard itself in headless
// Chromium: navigation start → running cards and the queue on screen, with heap and DOM size.
import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { stats } from "@glm-workers/core/bench";
import { openDatabase } from "@glm-workers/db/client";
import { chunks, projects, specs, workerQueue } from "@glm-workers/db/schema";
import { type BrowserContext, chromium } from "playwright-core";
import { type BenchContext, sleep } from "../context.ts";
import { cpuSeconds, mb, rssBytes } from "../proc.ts";
import type { CurvePoint } from "../report.ts";
import { type ServerProcess, startServerProcess } from "../server-process.ts";

interface Sizes {
  /** Queue lengths the operations are measured at (ascending). */
  levels: [number, number];
  /** Runs holding every slot (MAX_WORKERS). */
  running: number;
  /** Enqueues in flight while the queue is filled over HTTP. */
  concurrency: number;
  /** The last `window` enqueues before a level is reached, one at a time: that level's samples. */
  window: number;
  /** How long each HTTP fill (up to a level's window) may take before the rest is written directly. */
  fillBudgetMs: number;
  claims: number;
  reorders: number;
  lists: number;
  /** Dashboard loads at each level. */
  loads: [number, number];
}

const FULL: Sizes = {
  levels: [1000, 10_000],
  running: 50,
  concurrency: 8,
  window: 100,
  fillBudgetMs: 10_000,
  claims: 20,
  reorders: 50,
  lists: 50,
  loads: [2, 5],
};

const QUICK: Sizes = {
  levels: [100, 500],
  running: 10,
  concurrency: 8,
  window: 50,
  fillBudgetMs: 5_000,
  claims: 20,
  reorders: 20,
  lists: 20,
  loads: [2, 3],
};

/** Per-operation time caps (a series stops early once past its cap and its minimum count). */
const CAP = { list: 5_000, reorder: 10_000, claim: 30_000, dashboard: 60_000 };
const MIN = { list: 10, reorder: 5, claim: 10, loads: 3 };

const CHROMIUM_PATH = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

// ---- small helpers ------------------------------------------------------------------

const fmt = (ms: number) =>
  ms === 0
    ? "0"
    : ms >= 100
      ? ms.toFixed(0)
      : ms >= 10
        ? ms.toFixed(1)
        : ms >= 1
          ? ms.toFixed(2)
          : ms.toFixed(3);
const int = (n: number) => Math.round(n).toLocaleString("en-US");
const f1 = (n: number) => n.toFixed(1);

interface Measured {
  samples: number[];
  /** Server CPU (all its threads) per sample, ms. */
  cpuMs: number;
  note: string;
}

/**
 * Calls `fn` up to `max` times; stops early once `capMs` has passed and at least `min` samples
 * exist. `fn` returns its own sample (ms), so setup inside it can stay out of the timing.
 */
async function repeat(
  server: ServerProcess,
  max: number,
  capMs: number,
  min: number,
  fn: (i: number) => Promise<number>,
): Promise<{ samples: number[]; cpuMs: number }> {
  const samples: number[] = [];
  const c0 = cpuSeconds(server.pid);
  const t0 = performance.now();
  for (let i = 0; i < max; i++) {
    if (i >= min && performance.now() - t0 > capMs) break;
    samples.push(await fn(i));
  }
  const cpuMs = samples.length > 0 ? ((cpuSeconds(server.pid) - c0) * 1000) / samples.length : 0;
  return { samples, cpuMs };
}

interface QueueItemJson {
  id: string;
  specId: string;
  projectId: string;
  waitReason: string | null;
  waitDetail: string | null;
}

/** One request may take this long before the section gives up on it (a hung server). */
const REQUEST_TIMEOUT_MS = 120_000;

/** fetch with the timeout, and the cause in the message when the request itself fails. */
async function request(server: ServerProcess, path: string, init: RequestInit = {}) {
  try {
    return await fetch(`${server.url}${path}`, {
      ...init,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (err) {
    const e = err as Error & { cause?: { message?: string } };
    throw new Error(
      `${init.method ?? "GET"} ${path}: ${e.message} (${e.cause?.message ?? e.name})`,
    );
  }
}

/** GET text of a path, timed until the body is read. */
async function getText(server: ServerProcess, path: string): Promise<{ ms: number; text: string }> {
  const t0 = performance.now();
  const res = await request(server, path);
  const text = await res.text();
  const ms = performance.now() - t0;
  if (!res.ok) throw new Error(`GET ${path} → ${res.status}: ${text.slice(0, 300)}`);
  return { ms, text };
}

/** Every queued id in order, page by page when the API pages (or all at once when it does not). */
async function allQueueIds(server: ServerProcess): Promise<string[]> {
  const PAGE = 1000;
  const ids: string[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const { queue } = await server.api<{ queue: QueueItemJson[] }>(
      `/api/queue?limit=${PAGE}&offset=${offset}`,
    );
    if (queue.length > PAGE) return queue.map((q) => q.id); // the limit was ignored: the whole queue
    ids.push(...queue.map((q) => q.id));
    if (queue.length < PAGE) return ids;
  }
}

// ---- the SSE feed (claims) -----------------------------------------------------------

interface FeedEvent {
  type: string;
  workerId: string | null;
  projectId: string | null;
  /** Server clock (ms) the event was stored at. */
  at: number;
  /** Our clock (performance.now) when it arrived. */
  t: number;
}

/** `/api/workers/events` filtered to starts and stops, read with fetch and parsed by hand. */
class EventFeed {
  readonly events: FeedEvent[] = [];
  readonly #abort = new AbortController();
  #wake: (() => void) | null = null;

  static async open(server: ServerProcess): Promise<EventFeed> {
    const feed = new EventFeed();
    const res = await fetch(
      `${server.url}/api/workers/events?types=worker_started,worker_stopped`,
      {
        headers: { accept: "text/event-stream" },
        signal: feed.#abort.signal,
      },
    );
    if (!res.ok || !res.body) throw new Error(`event feed → ${res.status}`);
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    let connected: () => void = () => {};
    const ready = new Promise<void>((r) => {
      connected = r;
    });
    void (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        for (let cut = buffer.indexOf("\n\n"); cut >= 0; cut = buffer.indexOf("\n\n")) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          if (block.startsWith(": connected")) connected();
          feed.#onBlock(block);
        }
      }
    })().catch(() => {});
    await ready;
    return feed;
  }

  #onBlock(block: string): void {
    const data = block
      .split("\n")
      .filter((l) => l.startsWith("data:"))
      .map((l) => l.slice(5).trimStart())
      .join("\n");
    if (!data) return;
    const e = JSON.parse(data) as {
      type: string;
      workerId: string | null;
      at: number;
      worker?: { projectId?: string };
      payload?: { worker?: { projectId?: string } };
    };
    this.events.push({
      type: e.type,
      workerId: e.workerId,
      projectId: e.worker?.projectId ?? e.payload?.worker?.projectId ?? null,
      at: e.at,
      t: performance.now(),
    });
    this.#wake?.();
  }

  /** The first event at or after index `from` that matches; throws after `timeoutMs`. */
  async waitFor(
    match: (e: FeedEvent) => boolean,
    from: number,
    timeoutMs: number,
  ): Promise<FeedEvent> {
    const end = performance.now() + timeoutMs;
    let i = from;
    for (;;) {
      for (; i < this.events.length; i++) {
        const e = this.events[i];
        if (e && match(e)) return e;
      }
      const left = end - performance.now();
      if (left <= 0) throw new Error("no matching event on the feed in time");
      await new Promise<void>((r) => {
        const timer = setTimeout(r, Math.min(left, 1000));
        this.#wake = () => {
          clearTimeout(timer);
          r();
        };
      });
      this.#wake = null;
    }
  }

  close(): void {
    this.#abort.abort();
  }
}

// ---- fixture: projects and specs written before the server starts ----------------------

interface Fixture {
  dbUrl: string;
  runSpecs: string[];
  queueProject: string;
  /** Specs of the queue project not queued yet (popped as they are enqueued). */
  spare: string[];
}

/**
 * `running` projects with one spec each (the runs that hold the slots: one run per plain
 * directory at a time) and one more project whose specs wait in the queue. Specs, chunks and
 * projects go straight into the database: this section measures the queue, not spec creation.
 */
async function writeFixture(dir: string, running: number, queueSpecs: number): Promise<Fixture> {
  const dbUrl = `file:${join(dir, "glm-workers.db")}`;
  const database = await openDatabase({ url: dbUrl, migrate: true });
  try {
    const now = Date.now();
    const project = (name: string) => {
      const directory = join(dir, "projects", name);
      mkdirSync(directory, { recursive: true });
      return { id: randomUUID(), name, directory, createdAt: now, updatedAt: now };
    };
    const runProjects = Array.from({ length: running }, (_, i) => project(`run-${i + 1}`));
    const queueProject = project("queue");
    await database.write((tx) => tx.insert(projects).values([...runProjects, queueProject]));
    const spec = (projectId: string, title: string) => ({
      id: randomUUID(),
      projectId,
      title,
      content: "",
      status: "ready" as const,
      createdAt: now,
      updatedAt: now,
    });
    const all = [
      ...runProjects.map((p) => spec(p.id, `${p.name} long run`)),
      ...Array.from({ length: queueSpecs }, (_, i) =>
        spec(queueProject.id, `queued spec ${i + 1}`),
      ),
    ];
    const ROWS = 500;
    for (let i = 0; i < all.length; i += ROWS) {
      const part = all.slice(i, i + ROWS);
      await database.write(async (tx) => {
        await tx.insert(specs).values(part);
        await tx.insert(chunks).values(
          part.map((s) => ({
            id: randomUUID(),
            specId: s.id,
            title: "Do the work",
            description: "One long simulated chunk.",
            order: 0,
          })),
        );
      });
    }
    return {
      dbUrl,
      runSpecs: all.slice(0, running).map((s) => s.id),
      queueProject: queueProject.id,
      spare: all.slice(running).map((s) => s.id),
    };
  } finally {
    await database.close();
  }
}

/**
 * Writes `specIds` into worker_queue directly, with the same columns the product's enqueue
 * writes and the wait reason the admission pass gives every waiting item, so nothing changes
 * on its next pass. Used only for what the HTTP fill had no time for (said in the report).
 */
async function insertQueued(
  fx: Fixture,
  specIds: readonly string[],
  waitReason: string | null,
): Promise<void> {
  const database = await openDatabase({ url: fx.dbUrl, migrate: false });
  try {
    // one millisecond apart, like enqueues that came one after another, ending now
    const base = Date.now() - specIds.length;
    for (let i = 0; i < specIds.length; i += 500) {
      const part = specIds.slice(i, i + 500);
      await database.write((tx) =>
        tx.insert(workerQueue).values(
          part.map((specId, k) => ({
            id: randomUUID(),
            specId,
            projectId: fx.queueProject,
            priority: 0,
            addedAt: base + i + k,
            model: null,
            waitReason,
          })),
        ),
      );
    }
  } finally {
    await database.close();
  }
}

// ---- the run ------------------------------------------------------------------------

interface EnqueueSample {
  /** Queue length when the request was sent. */
  len: number;
  ms: number;
  /** Requests in flight in that fill (1: a level's window). */
  conc: number;
}

interface QueueState {
  server: ServerProcess;
  fx: Fixture;
  feed: EventFeed;
  /** Items queued right now (only this section changes the queue). */
  queued: number;
  enqueues: EnqueueSample[];
  httpEnqueued: number;
  directInserted: number;
  /** Wall time of the concurrent fills and the enqueues they made (for their rate). */
  httpFillMs: number;
  httpFillCount: number;
  /** Server CPU per enqueue in each level's window. */
  windowCpuMs: Map<number, number>;
  /** Runs of the run projects still running (the first claim stops one of them). */
  runIds: string[];
  /** The queue project's current run (claimed from the queue), stopped by the next claim. */
  queueRun: string | null;
  /** Starting the runs that hold the slots, until all were running (ms). */
  runsStartMs: number;
}

/** Enqueues over HTTP with `concurrency` in flight until `target` is queued or `budgetMs` passes. */
async function fillHttp(
  st: QueueState,
  target: number,
  concurrency: number,
  budgetMs: number,
): Promise<{ n: number; ms: number; cpuMs: number }> {
  const end = performance.now() + budgetMs;
  const t0 = performance.now();
  const c0 = cpuSeconds(st.server.pid);
  const before = st.httpEnqueued;
  let inFlight = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (st.queued + inFlight < target && performance.now() < end) {
        const specId = st.fx.spare.pop();
        if (!specId) throw new Error("fixture ran out of specs");
        inFlight++;
        const len = st.queued;
        const s0 = performance.now();
        await st.server.api("/api/queue", { body: { specId } });
        st.enqueues.push({ len, ms: performance.now() - s0, conc: concurrency });
        inFlight--;
        st.queued++;
        st.httpEnqueued++;
      }
    }),
  );
  const n = st.httpEnqueued - before;
  const cpuMs = n > 0 ? ((cpuSeconds(st.server.pid) - c0) * 1000) / n : 0;
  return { n, ms: performance.now() - t0, cpuMs };
}

/** The wait reason the product stores for an item waiting behind full slots (from the API). */
async function storedWaitReason(st: QueueState): Promise<string | null> {
  const { queue } = await st.server.api<{ queue: QueueItemJson[] }>(
    `/api/queue?limit=1&offset=${st.queued - 1}`,
  );
  const last = queue.at(-1);
  if (!last?.waitReason) return null;
  return last.waitDetail ? `${last.waitReason}: ${last.waitDetail}` : last.waitReason;
}

/**
 * Brings the queue to exactly `level`: over HTTP with `concurrency` in flight while the budget
 * lasts, the rest up to the window written directly, then the window over HTTP one at a time.
 */
async function reachLevel(st: QueueState, level: number, sizes: Sizes) {
  const windowStart = Math.max(st.queued, level - sizes.window);
  const fill = await fillHttp(st, windowStart, sizes.concurrency, sizes.fillBudgetMs);
  st.httpFillMs += fill.ms;
  st.httpFillCount += fill.n;
  if (st.queued < windowStart) {
    const reason = await storedWaitReason(st);
    const n = windowStart - st.queued;
    const ids = st.fx.spare.splice(-n, n);
    await insertQueued(st.fx, ids, reason);
    st.queued += n;
    st.directInserted += n;
  }
  const window = await fillHttp(st, level, 1, Number.POSITIVE_INFINITY);
  st.windowCpuMs.set(level, window.cpuMs);
}

interface LevelResult {
  level: number;
  enqueue: Measured;
  claim: Measured;
  claimServer: number[];
  stopHttp: number[];
  reorder: Measured;
  listRest: Measured;
  listTrpc: Measured;
  loads: PageLoad[];
  dashboardError: string | null;
  /** The top level only: one move with one item more than the level. */
  limit: LimitProbe | null;
  serverRssMb: number;
}

/** What the dashboard asked for when it last loaded (else the call as the web app made it when written). */
const DEFAULT_SNAPSHOT = "/trpc/workers.list,queue.list?batch=1&input=%7B%7D";

/** Queue items in a tRPC answer, batched (an array of results) or not. */
function trpcQueueItems(text: string): number {
  const body = JSON.parse(text) as unknown;
  const results = (Array.isArray(body) ? body : [body]) as Array<{
    result?: { data?: { queue?: unknown[] } };
  }>;
  for (const r of results) {
    const q = r.result?.data?.queue;
    if (q) return q.length;
  }
  return 0;
}

async function measureLists(
  st: QueueState,
  sizes: Sizes,
  snapshotPath: string,
): Promise<[Measured, Measured]> {
  let restItems = 0;
  let restBytes = 0;
  const rest = await repeat(st.server, sizes.lists, CAP.list, MIN.list, async () => {
    const { ms, text } = await getText(st.server, "/api/queue?limit=50&offset=0");
    restBytes = text.length;
    restItems = (JSON.parse(text) as { queue: unknown[] }).queue.length;
    return ms;
  });
  let trpcItems = 0;
  let trpcBytes = 0;
  const trpc = await repeat(st.server, sizes.lists, CAP.list, MIN.list, async () => {
    const { ms, text } = await getText(st.server, snapshotPath);
    trpcBytes = text.length;
    trpcItems = trpcQueueItems(text);
    return ms;
  });
  return [
    {
      ...rest,
      note: `asked for 50, got ${int(restItems)} items (${f1(restBytes / 1024)} KiB)${restItems > 50 ? ": the limit is ignored, the whole queue comes back" : ""}`,
    },
    {
      ...trpc,
      note: `the page's own snapshot request \`${decodeURIComponent(snapshotPath)}\`: ${int(trpcItems)} queue items (${f1(trpcBytes / 1024)} KiB)`,
    },
  ];
}

async function measureReorder(st: QueueState, sizes: Sizes): Promise<Measured> {
  let ids = await allQueueIds(st.server);
  let lastMoved = "";
  const r = await repeat(st.server, sizes.reorders, CAP.reorder, MIN.reorder, async () => {
    // a random item from the back half to the top; the rest keep their order
    const k = Math.floor(ids.length / 2 + Math.random() * (ids.length / 2));
    const moved = ids[k] as string;
    const t0 = performance.now();
    const res = await request(st.server, `/api/queue/${moved}/move`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ position: 1 }),
    });
    const text = await res.text();
    const ms = performance.now() - t0;
    if (!res.ok) throw new Error(`move → ${res.status}: ${text.slice(0, 300)}`);
    ids = [moved, ...ids.slice(0, k), ...ids.slice(k + 1)];
    lastMoved = moved;
    return ms;
  });
  const { queue } = await st.server.api<{ queue: QueueItemJson[] }>("/api/queue?limit=1");
  const top =
    queue[0]?.id === lastMoved
      ? "the last moved item is first"
      : "**the last moved item is NOT first**";
  return {
    ...r,
    note: `\`POST /api/queue/:id/move {"position":1}\` (the dashboard's move; the full-order \`/api/queue/reorder\` is still there for short queues); afterwards ${top}`,
  };
}

interface LimitProbe {
  queued: number;
  status: number;
  ms: number;
  message: string;
}

/** One more item, then one move to the top: does the dashboard's move still go through? */
async function probeReorderLimit(st: QueueState): Promise<LimitProbe> {
  await fillHttp(st, st.queued + 1, 1, Number.POSITIVE_INFINITY);
  const ids = await allQueueIds(st.server);
  const last = ids.at(-1) as string;
  const t0 = performance.now();
  const res = await request(st.server, `/api/queue/${last}/move`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ position: 1 }),
  });
  const text = await res.text();
  const ms = performance.now() - t0;
  let message = "";
  if (!res.ok) {
    try {
      message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? text;
    } catch {
      message = text;
    }
  }
  return { queued: ids.length, status: res.status, ms, message: message.slice(0, 200) };
}

/**
 * Stops the run holding a slot and waits on the SSE feed for the next queued spec to start:
 * sample = `worker_stopped` received → `worker_started` (of the queue project) received.
 */
async function measureClaims(
  st: QueueState,
  sizes: Sizes,
): Promise<{ claim: Measured; server: number[]; stopHttp: number[] }> {
  const server: number[] = [];
  const stopHttp: number[] = [];
  const r = await repeat(st.server, sizes.claims, CAP.claim, MIN.claim, async () => {
    const victim = st.queueRun ?? st.runIds.shift();
    if (!victim) throw new Error("no running run left to stop");
    const from = st.feed.events.length;
    const t0 = performance.now();
    await st.server.api(`/api/workers/${victim}/stop`, { method: "POST" });
    stopHttp.push(performance.now() - t0);
    const stopped = await st.feed.waitFor(
      (e) => e.type === "worker_stopped" && e.workerId === victim,
      from,
      30_000,
    );
    const started = await st.feed.waitFor(
      (e) => e.type === "worker_started" && e.projectId === st.fx.queueProject,
      from,
      30_000,
    );
    st.queueRun = started.workerId;
    st.queued--;
    server.push(started.at - stopped.at);
    return started.t - stopped.t;
  });
  return {
    claim: {
      ...r,
      note: "stop the run in a slot (REST), then `worker_stopped` → the next queued spec's `worker_started`, both received on `/api/workers/events` (SSE)",
    },
    server,
    stopHttp,
  };
}

async function measureLevel(
  ctx: BenchContext,
  st: QueueState,
  level: number,
  sizes: Sizes,
  browser: BrowserContext,
  loadCount: number,
  top: boolean,
): Promise<LevelResult> {
  const mine = st.enqueues.filter(
    (e) => e.conc === 1 && e.len >= level - sizes.window && e.len < level,
  );
  const enqueue: Measured = {
    samples: mine.map((e) => e.ms),
    cpuMs: st.windowCpuMs.get(level) ?? Number.NaN,
    note: `the last ${int(mine.length)} POST \`/api/queue\` before the queue reached ${int(level)}, one at a time`,
  };
  // the page first: it sees exactly `level` queued and every slot running
  let loads: PageLoad[] = [];
  let dashboardError: string | null = null;
  try {
    loads = await measureDashboard(ctx, browser, st.server, loadCount);
  } catch (err) {
    dashboardError = err instanceof Error ? (err.message.split("\n")[0] ?? "") : String(err);
  }
  const snapshotPath = loads.find((l) => l.snapshot)?.snapshot?.name ?? DEFAULT_SNAPSHOT;
  const [listRest, listTrpc] = await measureLists(st, sizes, snapshotPath);
  const reorder = await measureReorder(st, sizes);
  const limit = top ? await probeReorderLimit(st) : null;
  const claims = await measureClaims(st, sizes);
  return {
    level,
    enqueue,
    claim: claims.claim,
    claimServer: claims.server,
    stopHttp: claims.stopHttp,
    reorder,
    listRest,
    listTrpc,
    loads,
    dashboardError,
    limit,
    serverRssMb: mb(rssBytes(st.server.pid)),
  };
}

// ---- the dashboard --------------------------------------------------------------------

/** Installed before the app's scripts: marks the moment the cards and the queue are in the DOM. */
const PAGE_PROBE = `(() => {
  const expected = __RUNNING__;
  const st = { ready: false, done: false, readyAt: 0, frameAt: 0, longTasks: [], frames: [] };
  window.__queueBench = st;
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) st.longTasks.push({ start: e.startTime, ms: e.duration });
    }).observe({ type: "longtask", buffered: true });
  } catch {}
  // long animation frames: where a slow frame's time went (scripts, forced layout, rendering)
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        st.frames.push({
          start: e.startTime,
          ms: e.duration,
          renderStart: e.renderStart,
          styleAndLayoutStart: e.styleAndLayoutStart,
          scripts: e.scripts.map((x) => ({
            invoker: (x.invoker || "").split(location.origin).join(""),
            fn: x.sourceFunctionName,
            file: (x.sourceURL || "").split("/").pop(),
            ms: x.duration,
            forced: x.forcedStyleAndLayoutDuration,
          })),
        });
      }
    }).observe({ type: "long-animation-frame", buffered: true });
  } catch {}
  const check = () => {
    if (st.ready) return;
    const cards = document.querySelector('[data-testid="worker-cards"]');
    if (!cards || cards.querySelectorAll('[data-testid="worker-card"]').length < expected) return;
    if (!document.querySelector('[data-testid="queue-item"]')) return;
    st.ready = true;
    st.readyAt = performance.now();
    performance.mark("queue-bench-ready");
    observer.disconnect();
    // the frame that shows it: after the next animation frame's rendering
    requestAnimationFrame(() => setTimeout(() => {
      st.frameAt = performance.now();
      performance.mark("queue-bench-frame");
      st.done = true;
    }, 0));
  };
  const observer = new MutationObserver(check);
  observer.observe(document, { childList: true, subtree: true });
})();`;

const PAGE_READ = `(() => {
  const st = window.__queueBench;
  const requests = performance.getEntriesByType("resource")
    .filter((e) => e.name.includes("/trpc/") && !e.name.includes("onEvent"))
    .map((e) => ({ name: e.name.replace(location.origin, ""), start: e.startTime, end: e.responseEnd, bytes: e.decodedBodySize }));
  return {
    readyAt: st.readyAt,
    frameAt: st.frameAt,
    longTasks: st.longTasks.filter((t) => t.start < st.frameAt),
    frames: st.frames,
    rows: document.querySelectorAll('[data-testid="queue-item"]').length,
    cards: document.querySelectorAll('[data-testid="worker-card"]').length,
    nodes: document.getElementsByTagName("*").length,
    countText: (document.querySelector('[data-testid="queue-count"]') || {}).textContent || "",
    requests,
  };
})()`;

interface PageLoad {
  readyAt: number;
  frameAt: number;
  longTasks: Array<{ start: number; ms: number }>;
  /** Long animation frames (≥ 50 ms) seen until the page was read (and, first load, idled). */
  frames: LongFrame[];
  rows: number;
  cards: number;
  nodes: number;
  countText: string;
  requests: Array<{ name: string; start: number; end: number; bytes: number }>;
  /** CDP Performance.getMetrics, durations in ms, heap in bytes. */
  heapUsed: number;
  /** The first load of a level only (a forced GC waits for the busy page). */
  heapAfterGc: number | null;
  scriptMs: number;
  layoutMs: number;
  styleMs: number;
  taskMs: number;
  /** The snapshot request (the one carrying queue.list), if found. */
  snapshot: { start: number; end: number; bytes: number; name: string } | null;
  /** The first load of a level only: what the page does afterwards while nobody touches it. */
  idle: IdleCost | null;
  /** The long frames of that idle watch. */
  idleFrames: LongFrame[];
  /** This load from opening the tab until it was closed again (ms, our clock). */
  cycleMs: number;
}

interface LongFrame {
  start: number;
  ms: number;
  /** When rendering (rAF, style, layout, paint) began; 0 when the frame did not render. */
  renderStart: number;
  styleAndLayoutStart: number;
  scripts: Array<{ invoker: string; fn: string; file: string; ms: number; forced: number }>;
}

/** Main-thread time the open page spends per second of idling (CDP metric deltas, ms/s). */
interface IdleCost {
  seconds: number;
  taskMs: number;
  scriptMs: number;
  layoutMs: number;
  styleMs: number;
  layouts: number;
}

type CdpMetrics = { metrics: Array<{ name: string; value: number }> };

/** How long the first load of each level is watched afterwards. */
const IDLE_WATCH_MS = 3_000;

/** A fresh Chromium profile with the page probe installed in every tab. */
async function launchBrowser(ctx: BenchContext, running: number): Promise<BrowserContext> {
  const context = await chromium.launchPersistentContext(ctx.tempDir("queue-chromium"), {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
  });
  for (const p of context.pages()) await p.close();
  await context.addInitScript({ content: PAGE_PROBE.replace("__RUNNING__", String(running)) });
  return context;
}

/** Opens `/workers` in a new tab `count` times (fewer once past the cap) and reads each load. */
async function measureDashboard(
  ctx: BenchContext,
  context: BrowserContext,
  server: ServerProcess,
  count: number,
): Promise<PageLoad[]> {
  const loads: PageLoad[] = [];
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    if (i >= MIN.loads && performance.now() - t0 > CAP.dashboard) break;
    const c0 = performance.now();
    const page = await context.newPage();
    try {
      const cdp = await context.newCDPSession(page);
      await cdp.send("Performance.enable");
      await page.goto(`${server.url}/workers`, { waitUntil: "commit" });
      await page.waitForFunction("window.__queueBench && window.__queueBench.done", undefined, {
        timeout: 180_000,
        polling: 50,
      });
      // the metrics first, as close to *shown* as we get (the page keeps working after it)
      const { metrics } = (await cdp.send("Performance.getMetrics")) as CdpMetrics;
      const metric = (name: string) => metrics.find((m) => m.name === name)?.value ?? 0;
      const read = (await page.evaluate(PAGE_READ)) as Omit<
        PageLoad,
        | "heapUsed"
        | "heapAfterGc"
        | "scriptMs"
        | "layoutMs"
        | "styleMs"
        | "taskMs"
        | "snapshot"
        | "idle"
        | "cycleMs"
        | "idleFrames"
      >;
      let idle: IdleCost | null = null;
      let heapAfterGc: number | null = null;
      let idleFrames: LongFrame[] = [];
      if (i === 0) {
        // the page left alone: its clock ticks every second, and every row shows a duration
        const w0 = performance.now();
        await sleep(IDLE_WATCH_MS);
        const later = (await cdp.send("Performance.getMetrics")) as CdpMetrics;
        const seconds = (performance.now() - w0) / 1000;
        const delta = (name: string) =>
          (later.metrics.find((m) => m.name === name)?.value ?? 0) - metric(name);
        idle = {
          seconds,
          taskMs: (delta("TaskDuration") * 1000) / seconds,
          scriptMs: (delta("ScriptDuration") * 1000) / seconds,
          layoutMs: (delta("LayoutDuration") * 1000) / seconds,
          styleMs: (delta("RecalcStyleDuration") * 1000) / seconds,
          layouts: delta("LayoutCount") / seconds,
        };
        const all = (await page.evaluate("window.__queueBench.frames")) as LongFrame[];
        idleFrames = all.filter((f) => f.start > read.frameAt);
        // entries arrive after their frame: the long one that ends at *shown* only shows up now
        read.frames = all.filter((f) => f.start <= read.frameAt);
        // a forced GC waits for the busy page too: once per level is enough
        await cdp.send("HeapProfiler.collectGarbage");
        heapAfterGc = ((await cdp.send("Runtime.getHeapUsage")) as { usedSize: number }).usedSize;
      }
      const snapshot = read.requests.find((r) => r.name.includes("queue.list")) ?? null;
      loads.push({
        ...read,
        heapUsed: metric("JSHeapUsedSize"),
        heapAfterGc,
        scriptMs: metric("ScriptDuration") * 1000,
        layoutMs: metric("LayoutDuration") * 1000,
        styleMs: metric("RecalcStyleDuration") * 1000,
        taskMs: metric("TaskDuration") * 1000,
        snapshot,
        frames: read.frames.filter((f) => f.start <= read.frameAt),
        idle,
        idleFrames,
        cycleMs: 0,
      });
    } finally {
      await page.close();
    }
    const load = loads.at(-1);
    if (load) {
      load.cycleMs = performance.now() - c0;
      ctx.progress(
        `queue: dashboard load ${i + 1}: shown ${fmt(load.frameAt)} ms, ${int(load.rows)} rows, tab open ${f1(load.cycleMs / 1000)} s`,
      );
    }
  }
  return loads;
}

// ---- the section ----------------------------------------------------------------------

const RUN_STARTS_IN_FLIGHT = 8;

async function startRuns(st: QueueState, running: number): Promise<void> {
  let next = 0;
  const ids: string[] = [];
  await Promise.all(
    Array.from({ length: RUN_STARTS_IN_FLIGHT }, async () => {
      while (next < st.fx.runSpecs.length) {
        const specId = st.fx.runSpecs[next++] as string;
        const r = await st.server.api<{ status: string; worker?: { id: string } }>("/api/workers", {
          body: { specId },
        });
        if (r.status !== "started" || !r.worker)
          throw new Error(`run of ${specId} was ${r.status}`);
        ids.push(r.worker.id);
      }
    }),
  );
  const deadline = performance.now() + 120_000;
  for (;;) {
    const { workers } = await st.server.api<{ workers: Array<{ id: string; status: string }> }>(
      "/api/workers",
    );
    const up = workers.filter((w) => w.status === "running").length;
    if (up >= running) break;
    if (performance.now() > deadline) throw new Error(`only ${up}/${running} runs running`);
    await sleep(250);
  }
  st.runIds = ids;
}

function statsRow(op: string, level: number, m: Measured): (string | number)[] {
  const s = stats(m.samples);
  return [
    op,
    int(level),
    s.n,
    fmt(s.min),
    fmt(s.median),
    fmt(s.p99),
    fmt(s.max),
    Number.isNaN(m.cpuMs) ? "–" : fmt(m.cpuMs),
    m.note,
  ];
}

/** p50 at the two levels, the ratio, and the exponent k of a fit ratio = (items ratio)^k. */
function growth(op: string, a: number, b: number, levels: [number, number]): string {
  const ratio = b / Math.max(a, 1e-6);
  const items = levels[1] / levels[0];
  const k = Math.log(Math.max(ratio, 1e-6)) / Math.log(items);
  const verdict =
    k < 0.15 ? "flat" : k < 0.6 ? "grows, less than linearly" : "grows about linearly or faster";
  return `${op} p50 ${fmt(a)} → ${fmt(b)} ms (×${ratio.toFixed(1)} for ×${items} items, ~n^${k.toFixed(2)}: ${verdict})`;
}

export default async function queue(ctx: BenchContext): Promise<void> {
  const sizes = ctx.quick ? QUICK : FULL;
  const t0 = performance.now();
  const dir = ctx.tempDir("queue");
  // enough specs for the fill, the claims at both levels and a margin
  const fx = await writeFixture(dir, sizes.running, sizes.levels[1] + 2 * sizes.claims + 50);
  ctx.progress(`queue: fixture written (${int(fx.spare.length)} specs)`);
  const server = await startServerProcess({
    dir,
    env: {
      MAX_WORKERS: String(sizes.running),
      SIMULATED_CHUNK_MS: "3600000",
    },
  });
  let feed: EventFeed | null = null;
  let browser: BrowserContext | null = null;
  const levels: LevelResult[] = [];
  let st: QueueState | null = null;
  try {
    feed = await EventFeed.open(server);
    const state: QueueState = {
      server,
      fx,
      feed,
      queued: 0,
      enqueues: [],
      httpEnqueued: 0,
      directInserted: 0,
      httpFillMs: 0,
      httpFillCount: 0,
      windowCpuMs: new Map(),
      runIds: [],
      queueRun: null,
      runsStartMs: 0,
    };
    st = state;
    const r0 = performance.now();
    await startRuns(state, sizes.running);
    state.runsStartMs = performance.now() - r0;
    ctx.progress(`queue: ${sizes.running} runs hold every slot`);
    browser = await launchBrowser(ctx, sizes.running);
    for (const [i, level] of sizes.levels.entries()) {
      await reachLevel(state, level, sizes);
      ctx.progress(
        `queue: ${int(state.queued)} queued (${int(state.directInserted)} written directly so far)`,
      );
      const top = i === sizes.levels.length - 1;
      levels.push(await measureLevel(ctx, state, level, sizes, browser, sizes.loads[i] ?? 1, top));
      ctx.progress(`queue: level ${int(level)} measured`);
    }
  } finally {
    feed?.close();
    await browser?.close().catch(() => {});
    await server.stop();
  }
  const runtimeS = (performance.now() - t0) / 1000;
  writeReport(ctx, sizes, st, levels, runtimeS);
  await charts(ctx, sizes, st, levels);
  writeFindings(ctx, sizes, levels);
}

function writeReport(
  ctx: BenchContext,
  sizes: Sizes,
  st: QueueState,
  levels: LevelResult[],
  runtimeS: number,
): void {
  const { report } = ctx;
  const [l1, l2] = sizes.levels;
  const fillRate = st.httpFillCount / (st.httpFillMs / 1000);
  report.heading(2, "Queue at scale");
  report.paragraph(
    `The compiled server as a child process with \`MAX_WORKERS=${sizes.running}\`: ${sizes.running} simulated runs (one per project, \`SIMULATED_CHUNK_MS=3600000\`) hold every slot, and specs of one more project wait behind them (\`no_slot\`). Everything is measured from outside over loopback HTTP at ${int(l1)} and ${int(l2)} queued items. ` +
      `**Enqueue**: POST \`/api/queue\` (the product has no batch enqueue); a level's samples are the last ${sizes.window} requests before the queue reached it, sent one at a time; the fill before them runs ${sizes.concurrency} requests in flight. ` +
      `**Claim**: a run in a slot is stopped over REST; the sample is \`worker_stopped\` → the next queued spec's \`worker_started\`, both as received on the SSE feed \`/api/workers/events\` (the server's own event clock is given as a check). ` +
      `**Reorder**: a random item from the back half moved to the top the way the dashboard moves one (the whole new order posted to \`/api/queue/reorder\`). ` +
      `**List**: the REST first page (\`GET /api/queue?limit=50\`) and the snapshot request the dashboard itself made when it loaded (taken from the page's resource timing). ` +
      `Each series stops after its sample count, or earlier once past its time cap (${CAP.list / 1000} s per list series, ${CAP.reorder / 1000} s reorder, ${CAP.claim / 1000} s claims, ${CAP.dashboard / 1000} s page loads) with at least its minimum; n says how many it got. Server CPU / op is the server process's CPU time (all threads) over the series, divided by n.`,
  );
  const direct =
    st.directInserted > 0
      ? ` Each fill had ${sizes.fillBudgetMs / 1000} s: the other ${int(st.directInserted)} items were written straight into \`worker_queue\` (the columns and wait reason the product's enqueue and admission write), so ${int(st.httpEnqueued)} items came through the API. At the fill's rate all ${int(l2)} over HTTP would take about ${f1(l2 / fillRate)} s.`
      : " Every item came through the API.";
  report.paragraph(
    `Starting the ${sizes.running} runs that hold the slots (POST \`/api/workers\`, ${RUN_STARTS_IN_FLIGHT} in flight, until all were running) took ${f1(st.runsStartMs / 1000)} s. Fill: ${int(st.httpFillCount)} enqueues over HTTP in ${f1(st.httpFillMs / 1000)} s (${f1(fillRate)}/s with ${sizes.concurrency} in flight), plus the windows one at a time.${direct} Projects, specs and chunks are written into the database before the server starts (spec creation is not what this measures).`,
  );
  const rows: (string | number)[][] = [];
  for (const lv of levels) {
    rows.push(statsRow("enqueue", lv.level, lv.enqueue));
    rows.push(statsRow("claim", lv.level, lv.claim));
    rows.push(
      statsRow("claim (server event clock)", lv.level, {
        samples: lv.claimServer,
        cpuMs: Number.NaN,
        note: "`at` of `worker_started` − `at` of `worker_stopped` (ms resolution)",
      }),
    );
    rows.push(
      statsRow("stop request", lv.level, {
        samples: lv.stopHttp,
        cpuMs: Number.NaN,
        note: "POST `/api/workers/:id/stop` round trip, the start of each claim sample",
      }),
    );
    rows.push(statsRow("reorder (move to top)", lv.level, lv.reorder));
    rows.push(statsRow("list: REST first page", lv.level, lv.listRest));
    rows.push(statsRow("list: dashboard snapshot", lv.level, lv.listTrpc));
  }
  report.table(
    [
      "operation",
      "queued",
      "n",
      "min ms",
      "p50 ms",
      "p99 ms",
      "max ms",
      "server CPU / op ms",
      "how",
    ],
    rows,
  );
  const limit = levels.find((lv) => lv.limit)?.limit;
  if (limit) {
    report.paragraph(
      `One more move, with ${int(limit.queued)} queued (one past the top level): ${limit.status < 300 ? `accepted (${limit.status}) in ${fmt(limit.ms)} ms` : `**refused, ${limit.status}**: ${limit.message}`}.`,
    );
  }
  report.paragraph(
    `Server RSS after each level: ${levels.map((lv) => `${f1(lv.serverRssMb)} MB at ${int(lv.level)}`).join(", ")}.`,
  );

  report.heading(3, `Dashboard: the workers page with the queue full and ${sizes.running} running`);
  report.paragraph(
    `Headless Chromium (${CHROMIUM_PATH}, fresh profile, 1280×900) opens \`/workers\` in a new tab per load (the first load is the only one with a cold cache). A MutationObserver installed before the app's scripts marks (\`performance.mark\`) the moment all ${sizes.running} running cards and the first queued row are in the DOM (**ready**); **shown** is after the next animation frame (its style, layout and paint). Both are \`performance.now()\` in the page, i.e. from navigation start. Heap and script/layout/style times are CDP \`Performance.getMetrics\` read right after *shown* (cumulative for the tab); the heap after a forced GC (\`Runtime.getHeapUsage\`, first load of each level) is in brackets; long tasks are those the page reported up to *shown*. *Left open*: after the first load of each level the tab is left alone for ${IDLE_WATCH_MS / 1000} s and the growth of the CDP metrics is divided by that time (ms of main-thread work per second).`,
  );
  for (const lv of levels) {
    if (lv.dashboardError) {
      report.paragraph(`**The dashboard at ${int(lv.level)} queued failed:** ${lv.dashboardError}`);
    }
  }
  const mid = (xs: number[]) => stats(xs).median;
  report.table(
    [
      "queued",
      "loads",
      "ready p50 / p99 / min ms",
      "shown p50 / p99 / min ms",
      "snapshot done at (p50 ms)",
      "snapshot KiB",
      "queue rows in DOM",
      "DOM elements",
      "JS heap MB (after GC)",
      "script / layout / style ms (p50)",
      "longest task ms (p50)",
      "left open: busy ms per s (script / layout / style)",
    ],
    levels
      .filter((lv) => lv.loads.length > 0)
      .map((lv) => {
        const ls = lv.loads;
        const ready = stats(ls.map((l) => l.readyAt));
        const shown = stats(ls.map((l) => l.frameAt));
        return [
          int(lv.level),
          ls.length,
          `${fmt(ready.median)} / ${fmt(ready.p99)} / ${fmt(ready.min)}`,
          `${fmt(shown.median)} / ${fmt(shown.p99)} / ${fmt(shown.min)}`,
          fmt(mid(ls.map((l) => l.snapshot?.end ?? 0))),
          f1(mid(ls.map((l) => (l.snapshot?.bytes ?? 0) / 1024))),
          int(mid(ls.map((l) => l.rows))),
          int(mid(ls.map((l) => l.nodes))),
          `${f1(mb(mid(ls.map((l) => l.heapUsed))))} (${gcText(ls)})`,
          `${fmt(mid(ls.map((l) => l.scriptMs)))} / ${fmt(mid(ls.map((l) => l.layoutMs)))} / ${fmt(mid(ls.map((l) => l.styleMs)))}`,
          fmt(mid(ls.map((l) => Math.max(0, ...l.longTasks.map((t) => t.ms))))),
          idleText(ls.find((l) => l.idle)?.idle ?? null),
        ];
      }),
  );
  const last = levels.at(-1);
  if (last && last.loads.length > 0) {
    report.paragraph(`Each load at ${int(last.level)} queued:`);
    report.table(
      [
        "load",
        "ready ms",
        "shown ms",
        "snapshot request ms (done at)",
        "queue rows",
        "DOM elements",
        "JS heap MB (after GC)",
        "script / layout / style ms",
        "long tasks (max ms)",
        "queue count shown",
      ],
      last.loads.map((l, i) => [
        i + 1,
        fmt(l.readyAt),
        fmt(l.frameAt),
        l.snapshot ? `${fmt(l.snapshot.end - l.snapshot.start)} (${fmt(l.snapshot.end)})` : "–",
        int(l.rows),
        int(l.nodes),
        `${f1(mb(l.heapUsed))}${l.heapAfterGc === null ? "" : ` (${f1(mb(l.heapAfterGc))})`}`,
        `${fmt(l.scriptMs)} / ${fmt(l.layoutMs)} / ${fmt(l.styleMs)}`,
        `${l.longTasks.length} (${fmt(Math.max(0, ...l.longTasks.map((t) => t.ms)))})`,
        l.countText.trim(),
      ]),
    );
    const names = [
      ...new Set(levels.flatMap((lv) => lv.loads.flatMap((l) => l.requests.map((r) => r.name)))),
    ];
    const frameLines: string[] = [];
    for (const lv of levels) {
      const first = lv.loads[0];
      if (!first) continue;
      const top = [...first.frames].sort((x, y) => y.ms - x.ms).slice(0, 3);
      for (const f of top) frameLines.push(`${int(lv.level)} queued, until shown: ${frameText(f)}`);
      if (first.idleFrames.length > 0) {
        frameLines.push(`${int(lv.level)} queued, left open: ${idleFramesText(first)}`);
      }
    }
    if (frameLines.length > 0) {
      report.paragraph(
        "Where the long frames went (first load of each level, Long Animation Frames API: a frame's scripts with their forced style/layout, then its rendering — style, layout, paint — from `renderStart`; the bundle is minified, so function names are short):",
      );
      for (const l of frameLines) report.line(`- ${l}`);
      report.line();
    }
    report.paragraph(
      `tRPC requests the page made before it was shown: ${names.map((n) => `\`${decodeURIComponent(n)}\``).join(", ") || "none seen"}.`,
    );
  }
  report.paragraph(`Section runtime: ${f1(runtimeS)} s.`);
}

async function charts(ctx: BenchContext, sizes: Sizes, st: QueueState, levels: LevelResult[]) {
  const ops: Array<[string, (lv: LevelResult) => number[]]> = [
    ["enqueue", (lv) => lv.enqueue.samples],
    ["claim", (lv) => lv.claim.samples],
    ["reorder", (lv) => lv.reorder.samples],
    ["REST page", (lv) => lv.listRest.samples],
    ["snapshot", (lv) => lv.listTrpc.samples],
    ["page shown", (lv) => lv.loads.map((l) => l.frameAt)],
  ];
  const curve = (pick: "median" | "p99"): CurvePoint[] =>
    ops.flatMap(([name, get]) =>
      levels
        .filter((lv) => get(lv).length > 0)
        .map((lv) => ({ series: name, x: lv.level, y: Math.max(0.01, stats(get(lv))[pick]) })),
    );
  const axes = { xTitle: "queued items", logX: true, logY: true };
  await ctx.report.curveChart(
    "queue-ops-p50",
    "Queue operations, p50 against queue length",
    curve("median"),
    { ...axes, yTitle: "p50 ms" },
  );
  await ctx.report.curveChart(
    "queue-ops-p99",
    "Queue operations, p99 against queue length",
    curve("p99"),
    { ...axes, yTitle: "p99 ms" },
  );
  // the concurrent fills' enqueues, by the queue length they met (buckets of a tenth of the top level)
  const width = sizes.levels[1] / 10;
  const buckets = new Map<number, number[]>();
  for (const e of st.enqueues) {
    if (e.conc === 1) continue;
    const b = Math.floor(e.len / width);
    const list = buckets.get(b) ?? [];
    list.push(e.ms);
    buckets.set(b, list);
  }
  const points: CurvePoint[] = [];
  for (const [b, ms] of [...buckets].sort((x, y) => x[0] - y[0])) {
    if (ms.length < 20) continue;
    const s = stats(ms);
    const x = (b + 0.5) * width;
    points.push({ series: "p50", x, y: s.median }, { series: "p99", x, y: s.p99 });
  }
  if (points.length >= 6) {
    await ctx.report.curveChart(
      "queue-enqueue-growth",
      `Enqueue latency during the fill (${sizes.concurrency} in flight), by queue length`,
      points,
      { xTitle: "queued items when sent", yTitle: "ms" },
    );
  }
}

function frameText(f: LongFrame): string {
  const scripts = f.scripts.reduce((a, x) => a + x.ms, 0);
  const forced = f.scripts.reduce((a, x) => a + x.forced, 0);
  const end = f.start + f.ms;
  const render = f.renderStart > 0 ? end - f.renderStart : 0;
  const styleLayout = f.styleAndLayoutStart > 0 ? end - f.styleAndLayoutStart : 0;
  const big = [...f.scripts].sort((x, y) => y.ms - x.ms)[0];
  const who = big
    ? `; longest script ${fmt(big.ms)} ms: ${big.invoker || "?"}${big.fn ? ` → ${big.fn}` : ""}${big.file ? ` (${big.file})` : ""}`
    : "";
  return `frame of ${fmt(f.ms)} ms at ${fmt(f.start)} ms: scripts ${fmt(scripts)} ms (of it forced style/layout ${fmt(forced)} ms), rendering ${fmt(render)} ms (style + layout ${fmt(styleLayout)} ms)${who}`;
}

/** The idle watch's long frames: how many, how long, and what started their scripts. */
function idleFramesText(load: PageLoad): string {
  const frames = load.idleFrames;
  const total = frames.reduce((a, f) => a + f.ms, 0);
  const byInvoker = new Map<string, number>();
  for (const f of frames)
    for (const x of f.scripts) byInvoker.set(x.invoker, (byInvoker.get(x.invoker) ?? 0) + x.ms);
  const top = [...byInvoker]
    .sort((x, y) => y[1] - x[1])
    .slice(0, 2)
    .map(([k, v]) => `${k || "?"} ${fmt(v)} ms`)
    .join(", ");
  const longest = Math.max(0, ...frames.map((f) => f.ms));
  return `${frames.length} long frames in ${f1(load.idle?.seconds ?? 0)} s, ${fmt(total)} ms in all, the longest ${fmt(longest)} ms; their scripts: ${top || "none"}`;
}

/** The heap after the forced GC of a level's first load, MB. */
function gcText(loads: readonly PageLoad[]): string {
  const gc = loads.find((l) => l.heapAfterGc !== null)?.heapAfterGc;
  return gc === undefined || gc === null ? "–" : f1(mb(gc));
}

function idleText(idle: IdleCost | null): string {
  if (!idle) return "–";
  return `${fmt(idle.taskMs)} (${fmt(idle.scriptMs)} / ${fmt(idle.layoutMs)} / ${fmt(idle.styleMs)}), ${f1(idle.layouts)} layouts/s`;
}

function writeFindings(ctx: BenchContext, sizes: Sizes, levels: LevelResult[]): void {
  const [a, b] = levels;
  const lines: string[] = [];
  const p50 = (xs: number[]) => stats(xs).median;
  if (a && b) {
    lines.push(
      growth("enqueue", p50(a.enqueue.samples), p50(b.enqueue.samples), sizes.levels),
      growth("claim", p50(a.claim.samples), p50(b.claim.samples), sizes.levels),
      growth("reorder", p50(a.reorder.samples), p50(b.reorder.samples), sizes.levels),
      growth("REST first page", p50(a.listRest.samples), p50(b.listRest.samples), sizes.levels),
      growth("dashboard snapshot", p50(a.listTrpc.samples), p50(b.listTrpc.samples), sizes.levels),
    );
    if (a.loads.length > 0 && b.loads.length > 0) {
      const shown = (lv: LevelResult) => p50(lv.loads.map((l) => l.frameAt));
      lines.push(growth("dashboard shown", shown(a), shown(b), sizes.levels));
    }
  }
  for (const lv of levels) {
    const ls = lv.loads;
    if (ls.length === 0) continue;
    const ready = p50(ls.map((l) => l.readyAt));
    const shown = p50(ls.map((l) => l.frameAt));
    const snapEnd = p50(ls.map((l) => l.snapshot?.end ?? 0));
    const snapKiB = p50(ls.map((l) => (l.snapshot?.bytes ?? 0) / 1024));
    const longest = p50(ls.map((l) => Math.max(0, ...l.longTasks.map((t) => t.ms))));
    const idle = ls.find((l) => l.idle)?.idle ?? null;
    const idleNote = idle
      ? ` Left open, the tab's main thread stays busy ${fmt(idle.taskMs)} ms per second${idle.taskMs >= 950 ? " (it never idles; a task straddling the watch counts whole)" : ""} (script ${fmt(idle.scriptMs)}, layout ${fmt(idle.layoutMs)}, style ${fmt(idle.styleMs)} ms; ${f1(idle.layouts)} layouts/s).`
      : "";
    lines.push(
      `dashboard at ${int(lv.level)} queued (p50 of ${ls.length} loads): shown ${fmt(shown)} ms after navigation start. The snapshot request (${f1(snapKiB)} KiB) was done at ${fmt(snapEnd)} ms; building the page from it until the cards and the queue were in the DOM took ${fmt(ready - snapEnd)} ms more, and the first frame after that (style, layout, paint) ${fmt(shown - ready)} ms. CDP for the tab up to then: script ${fmt(p50(ls.map((l) => l.scriptMs)))} ms, layout ${fmt(p50(ls.map((l) => l.layoutMs)))} ms, style ${fmt(p50(ls.map((l) => l.styleMs)))} ms; longest task ${fmt(longest)} ms. ${int(p50(ls.map((l) => l.rows)))} queue rows in the DOM for ${int(lv.level)} queued (${int(p50(ls.map((l) => l.nodes)))} elements, ${f1(mb(p50(ls.map((l) => l.heapUsed))))} MB JS heap, ${gcText(ls)} MB after a forced GC).${idleNote}`,
    );
  }
  if (lines.length === 0) return;
  ctx.report.paragraph(
    `What grows with the queue (p50 at ${int(sizes.levels[0])} → ${int(sizes.levels[1])}):`,
  );
  for (const l of lines) ctx.report.line(`- ${l}`);
  ctx.report.line();
}
