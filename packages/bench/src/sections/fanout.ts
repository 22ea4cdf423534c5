// Fan-out: many live subscribers (raw SSE on /api/workers/events and tRPC workers.onEvent
// through @glm-workers/client) on one compiled server while 5 simulated runs produce events.
// Measures how late each delivery is, whether every client got every event exactly once, and
// what the subscribers cost the server's CPU and event loop.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { percentile } from "@glm-workers/core/bench";
import { type BenchContext, sleep } from "../context.ts";
import { cpuSeconds } from "../proc.ts";
import { REPO_ROOT, type ServerProcess, startServerProcess } from "../server-process.ts";
import type { ClientsResult, ClientTally, Transport } from "./fanout-clients.ts";

const RUNS = 5;
const MAX_WORKERS = 5;
/**
 * Simulated execute step per chunk (the review step takes a third of it). The agent logs a line
 * at most every 80 ms and at most 40 per step, so a chunk stores ~65 events whatever its length:
 * 5 runs of one 8 s chunk last ~12 s and store ~330 events. More would not fit the section's
 * time: at 200 + 200 clients the server needs longer to deliver them than the runs take.
 */
const CHUNK_MS = 8000;

interface Metrics {
  busListeners: number;
  activeRuns: number;
  eventLoopDelayMs: { p50: number; p99: number; max: number; mean: number; samples: number };
}

interface Phase {
  /** Clients of each transport in this phase. */
  counts: Record<Transport, number>;
  /** Events stored during the window (what every client must receive). */
  events: number;
  /** Their types, by id. */
  types: Map<number, string>;
  /** From the first start request until every run had finished. */
  wallS: number;
  /** From the first start request until every client had every event (the CPU window). */
  deliveryS: number;
  serverCpuS: number;
  /** The server's main thread alone (HTTP, the event bus, serialising, the store's calls). */
  mainCpuS: number;
  clientCpuS: Record<Transport, number>;
  loop: Metrics["eventLoopDelayMs"];
  results: Record<Transport, ClientsResult>;
  statuses: string[];
  /** Start requests the server refused (status and body), though their runs may still run. */
  startErrors: string[];
  phaseS: number;
}

const TRANSPORTS: Transport[] = ["sse", "trpc"];
const LABEL: Record<Transport, string> = { sse: "SSE", trpc: "tRPC" };

export default async function fanout(ctx: BenchContext): Promise<void> {
  const { report } = ctx;
  const chunks = 1;
  const n = ctx.quick ? 20 : 200;
  // The baseline, then the SSE clients alone (with one tRPC subscriber kept, so the tRPC side is
  // the baseline's), then both: the differences split the server's CPU by transport.
  const plan: Record<Transport, number>[] = [
    { sse: 1, trpc: 1 },
    { sse: n, trpc: 1 },
    { sse: n, trpc: n },
  ];
  const phases: Phase[] = [];
  for (const counts of plan) {
    const name = `${counts.sse} SSE + ${counts.trpc} tRPC`;
    ctx.progress(`fanout: ${name}, ${RUNS} runs of ${chunks} chunk${chunks === 1 ? "" : "s"}`);
    const phase = await runPhase(ctx, counts, chunks);
    phases.push(phase);
    ctx.progress(
      `fanout: ${name} done in ${phase.phaseS.toFixed(0)} s (${phase.events} events, runs ${phase.wallS.toFixed(1)} s)`,
    );
  }
  const [base, sseOnly, both] = phases as [Phase, Phase, Phase];
  const phaseName = (p: Phase) => `${p.counts.sse} + ${p.counts.trpc}`;
  const f1 = (x: number) => x.toFixed(1);
  const pct = (cpuS: number, p: Phase) => `${((cpuS / p.deliveryS) * 100).toFixed(0)} %`;
  const cpu = (cpuS: number, p: Phase) => `${f1(cpuS)} s (${pct(cpuS, p)})`;
  const delivered = (p: Phase, t: Transport) =>
    p.results[t].clients.reduce((m, c) => m + c.received, 0);
  const all = (r: ClientsResult) => [...r.storeStamped, ...r.threadStamped];

  report.heading(2, "Fan-out");
  report.paragraph(
    `${n} raw SSE clients (\`GET /api/workers/events\` read with the \`eventsource\` package) and ${n} tRPC subscriptions (\`workers.onEvent\` through \`createGlmWorkersClient\`: httpSubscriptionLink over SSE, as the dashboard subscribes) on loopback, against the compiled server as a child process (simulated executor, MAX_WORKERS=${MAX_WORKERS}, SIMULATED_CHUNK_MS=${CHUNK_MS}) while ${RUNS} runs of ${chunks} chunk${chunks === 1 ? "" : "s"} go at once. The clients of each transport live in a child process of their own, so the server's CPU is read apart from theirs. Three phases, each a fresh server with the same runs: SSE + tRPC clients ${plan.map((c) => `${c.sse} + ${c.trpc}`).join(", then ")}. Every client subscribes (its listener is on the server's event bus) before the runs start; every event stored from the first start request until the runs have finished is measured, at every client.`,
  );
  report.paragraph(
    "**Latency** is the client's receive time minus the event's `at`, both `Date.now()` on this machine (1 ms resolution). `at` is not a commit time. For `log`, `tool`, `chunk_updated` (and pause/resume) it is stamped in the run's worker thread when the message is made, so it also counts the crossing to the main thread, the wait in the run's sink for the batch in flight, and the group commit (**thread-stamped**). For the others (`worker_progress`, `worker_started`, `queue_updated`, `usage_updated`, …) it is `Date.now()` inside the write transaction just before the INSERT, so it counts the rest of that transaction, the commit, and everything after (**store-stamped**: the closest to commit → client the product allows). Every figure is an upper bound of commit → client. **Spread** is receive time minus the earliest receive of the same event among that process's clients: what fanning out to many connections adds.",
  );

  report.table(
    [
      "phase (SSE + tRPC)",
      "transport",
      "events stored",
      "deliveries due",
      "delivered",
      "missing: skipped / late",
      "duplicate",
      "out of order",
      "reconnects",
      "clients with every event once",
    ],
    phases.flatMap((p) =>
      TRANSPORTS.map((t) => {
        const c = p.results[t].clients;
        const sum = (f: (x: ClientTally) => number) => c.reduce((m, x) => m + f(x), 0);
        const exact = c.filter((x) => x.missing === 0 && x.duplicates === 0).length;
        return [
          phaseName(p),
          `${LABEL[t]} × ${c.length}`,
          p.events,
          p.events * c.length,
          sum((x) => x.received),
          `${sum((x) => x.skipped)} / ${sum((x) => x.late)}`,
          sum((x) => x.duplicates),
          sum((x) => x.outOfOrder),
          sum((x) => x.reconnects),
          `${exact}/${c.length}`,
        ];
      }),
    ),
  );

  const lost = phases.flatMap((p) => {
    const ids = new Set(
      TRANSPORTS.flatMap((t) => Object.keys(p.results[t].missingIds).map(Number)),
    );
    return [...ids]
      .sort((a, b) => a - b)
      .map((id) => [
        phaseName(p),
        id,
        p.types.get(id) ?? "?",
        ...TRANSPORTS.map(
          (t) => `${p.results[t].missingIds[id] ?? 0}/${p.results[t].clients.length}`,
        ),
      ]);
  });
  report.paragraph(
    `Each client is checked against the events the store holds for the window (read back through the feed's own replay with \`Last-Event-ID\`). A missing event is **skipped** when the client got a later one (its stream delivers in id order, so it will never come) and **late** when it is newer than anything the client got: after the runs, every client is given up to 60 s to receive the newest stored event (the slowest phase needed ${f1(Math.max(...phases.flatMap((p) => TRANSPORTS.map((t) => p.results[t].waitedMs))) / 1000)} s more once the store had been read back).${lost.length === 0 ? " No client missed any event." : ""}`,
  );
  if (lost.length > 0) {
    report.table(
      [
        "phase (SSE + tRPC)",
        "event id",
        "type",
        "SSE clients missing it",
        "tRPC clients missing it",
      ],
      lost.slice(0, 30),
    );
  }

  report.table(
    [
      "phase (SSE + tRPC)",
      "transport",
      "deliveries",
      "p50 ms",
      "p99 ms",
      "max ms",
      "store-stamped p50 / p99",
      "thread-stamped p50 / p99",
      "spread p50 / p99",
    ],
    phases.flatMap((p) =>
      TRANSPORTS.map((t) => {
        const r = p.results[t];
        const a = summary(all(r));
        const ss = summary(r.storeStamped);
        const ts = summary(r.threadStamped);
        const sp = summary(r.spread);
        return [
          phaseName(p),
          `${LABEL[t]} × ${r.clients.length}`,
          a.n,
          a.p50,
          a.p99,
          a.max,
          `${ss.p50} / ${ss.p99}`,
          `${ts.p50} / ${ts.p99}`,
          r.clients.length > 1 ? `${sp.p50} / ${sp.p99}` : "–",
        ];
      }),
    ),
  );

  report.table(
    [
      "phase (SSE + tRPC)",
      "events",
      "runs' wall s",
      "until delivered s",
      "deliveries / s",
      "server CPU s (share)",
      "server main thread",
      "event-loop delay p50 / p99 / max ms",
      "SSE clients' process",
      "tRPC clients' process",
      "runs",
    ],
    phases.map((p) => [
      phaseName(p),
      p.events,
      f1(p.wallS),
      f1(p.deliveryS),
      ((delivered(p, "sse") + delivered(p, "trpc")) / p.deliveryS).toFixed(0),
      cpu(p.serverCpuS, p),
      cpu(p.mainCpuS, p),
      `${p.loop.p50} / ${p.loop.p99} / ${p.loop.max}`,
      cpu(p.clientCpuS.sse, p),
      cpu(p.clientCpuS.trpc, p),
      tallyStatuses(p.statuses) +
        (p.startErrors.length > 0 ? `; ${p.startErrors.length} start request(s) refused` : ""),
    ]),
  );
  for (const p of phases.filter((x) => x.startErrors.length > 0)) {
    report.paragraph(
      `**Phase ${phaseName(p)}: ${p.startErrors.length} of ${RUNS} start requests (\`POST /api/workers\`, sent together) were refused**, though ${p.statuses.length} runs then ran (${tallyStatuses(p.statuses)}): ${[...new Set(p.startErrors)].join("; ")}.`,
    );
  }
  // Main-thread CPU per extra delivery, phase against phase (same runs, so the rest cancels).
  const perDelivery = (from: Phase, to: Phase, t: Transport) => {
    const extra = delivered(to, t) - delivered(from, t);
    return extra > 0 ? f1(((to.mainCpuS - from.mainCpuS) / extra) * 1e6) : "–";
  };
  const sseChars = both.results.sse.meanDataChars;
  report.paragraph(
    `"Until delivered" runs from the first start request until every client had the newest event, which can be well after the runs ended when the server falls behind; deliveries per second and CPU are over that span. CPU is CPU seconds used, and their share of the span (100 % = one core); the phases do the same work, so their CPU seconds compare directly. The server process is its main thread plus its Piscina run threads (not the simulated agents, which are child processes); the main thread alone is read from \`/proc/<pid>/task/<pid>/stat\`. Event-loop delay is the server's own \`/api/metrics\`, reset just before the runs and read once everything was delivered. With ${both.counts.sse + both.counts.trpc} clients the server used ${cpu(both.serverCpuS, both)} of CPU against ${cpu(base.serverCpuS, base)} with 2, its main thread ${cpu(both.mainCpuS, both)} against ${cpu(base.mainCpuS, base)}. Per delivery, the main thread spent **${perDelivery(base, sseOnly, "sse")} µs** for an SSE client (phase ${phaseName(sseOnly)} against ${phaseName(base)}) and **${perDelivery(sseOnly, both, "trpc")} µs** for a tRPC subscriber (${phaseName(both)} against ${phaseName(sseOnly)}). Nothing is shared between subscribers: each has its own bus listener and buffer, and serialises, frames and writes every event through its own Web Streams pipeline (Hono's \`streamSSE\` on the feed, tRPC's SSE producer on the subscription).${sseChars === null ? "" : ` An SSE event's \`data\` averaged ${sseChars.toFixed(0)} characters; it carries the payload twice (its fields at top level and again under \`payload\`).`} The client processes share the machine's cores with the server, so their own receive delay is in every latency above.`,
  );

  await report.latencyChart(
    "fanout-latency",
    "Fan-out: event at → client receive, per delivery (transport @ SSE+tRPC clients)",
    phases.flatMap((p) =>
      TRANSPORTS.filter((t) => p !== sseOnly || t === "sse").map((t) => ({
        name: `${LABEL[t]} @ ${p.counts.sse}+${p.counts.trpc}`,
        // the log scale needs a positive value; 0 ms (same millisecond) is drawn at 0.5
        samples: all(p.results[t]).map((v) => Math.max(v, 0.5)),
      })),
    ),
    { logY: true },
  );
  report.paragraph(
    `Phases took ${phases.map((p) => `${f1(p.phaseS)} s`).join(", ")} (server start, set-up, connecting, the runs, collecting).`,
  );
}

async function runPhase(
  ctx: BenchContext,
  counts: Record<Transport, number>,
  chunks: number,
): Promise<Phase> {
  const p0 = performance.now();
  const server = await startServerProcess({
    env: {
      MAX_WORKERS: String(MAX_WORKERS),
      SIMULATED_CHUNK_MS: String(CHUNK_MS),
    },
  });
  const children: ChildProcess[] = [];
  try {
    const specIds = await setUpSpecs(ctx, server, chunks);
    const before = await call<Metrics>(server, "/api/metrics");
    const clients = TRANSPORTS.map((t) => spawnClients(server.url, t, counts[t]));
    children.push(...clients.map((c) => c.child));
    await Promise.all(clients.map((c) => c.ready));
    // Every subscription is on the bus (not just connected) before anything happens.
    await until(
      async () =>
        (await call<Metrics>(server, "/api/metrics")).busListeners >=
        before.busListeners + counts.sse + counts.trpc,
      30_000,
      "subscriptions on the event bus",
    );
    const startId = (await storedIds(server.url, 0)).at(-1)?.id ?? 0;
    ctx.progress(
      `fanout: ${counts.sse}+${counts.trpc} clients subscribed after ${((performance.now() - p0) / 1000).toFixed(1)} s`,
    );

    await call(server, "/api/metrics/event-loop/reset", { method: "POST" });
    const cpu0 = cpuReadings(server.pid, children);
    const t0 = performance.now();
    const t0Wall = Date.now();
    // A refused start is the product's answer, kept for the report; the window goes on.
    const starts = await Promise.allSettled(
      specIds.map((specId) => call(server, "/api/workers", { body: { specId } })),
    );
    const startErrors = starts.flatMap((r) =>
      r.status === "rejected"
        ? [r.reason instanceof Error ? r.reason.message : String(r.reason)]
        : [],
    );
    ctx.progress("fanout: runs started");
    const statuses = await waitFinished(server, specIds.length);
    const wallS = (performance.now() - t0) / 1000;

    const maxSeen = Math.max(...(await Promise.all(clients.map((c) => c.maxId()))));
    const stored = await storedIds(server.url, startId, maxSeen);
    const results = await Promise.all(clients.map((c) => c.finish(stored.map((e) => e.id))));
    // The clients return once each has the newest event: delivery is over, the server idles
    // (the CPU read now also holds the read-back of the store, one replay: small).
    const cpu1 = cpuReadings(server.pid, children);
    const deliveryS = (Math.max(...results.map((r) => r.lastReceivedAt)) - t0Wall) / 1000;
    const metrics = await call<Metrics>(server, "/api/metrics");
    const used = (i: number) => (cpu1[i] ?? 0) - (cpu0[i] ?? 0);
    return {
      counts,
      events: stored.length,
      types: new Map(stored.map((e) => [e.id, e.type])),
      wallS,
      deliveryS,
      serverCpuS: used(0),
      mainCpuS: used(1),
      // the clients' processes have exited by now: they report their own CPU time
      clientCpuS: {
        sse: (results[0]?.cpuS ?? 0) - (cpu0[2] ?? 0),
        trpc: (results[1]?.cpuS ?? 0) - (cpu0[3] ?? 0),
      },
      loop: metrics.eventLoopDelayMs,
      results: { sse: results[0] as ClientsResult, trpc: results[1] as ClientsResult },
      statuses,
      startErrors,
      phaseS: (performance.now() - p0) / 1000,
    };
  } catch (err) {
    const tail = server.output().slice(-2000);
    const cause = err instanceof Error && err.cause ? ` (${String(err.cause)})` : "";
    const exit = `server exit ${server.child.exitCode ?? "-"} signal ${server.child.signalCode ?? "-"}`;
    throw new Error(
      `${err instanceof Error ? err.stack : String(err)}${cause}\n${exit}\nserver output:\n${tail}`,
    );
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    await server.stop();
  }
}

/** A git project with one spec per run, each of `chunks` plain chunks. */
async function setUpSpecs(ctx: BenchContext, server: ServerProcess, chunks: number) {
  const dir = ctx.tempDir("fanout-repo");
  const git = (...args: string[]) =>
    execFileSync(
      "git",
      ["-C", dir, "-c", "user.name=bench", "-c", "user.email=bench@localhost", ...args],
      { stdio: "ignore" },
    );
  git("init", "-q", "-b", "main");
  writeFileSync(join(dir, "README.md"), "# fan-out bench\n");
  git("add", ".");
  git("commit", "-q", "-m", "init");
  const project = await call<{ id: string }>(server, "/api/projects", {
    body: { name: "fanout", directory: dir },
  });
  const ids: string[] = [];
  for (let i = 0; i < RUNS; i++) {
    const spec = await call<{ id: string }>(server, `/api/projects/${project.id}/specs`, {
      body: {
        title: `fanout ${i + 1}`,
        content: "Fan-out benchmark spec.",
        chunks: Array.from({ length: chunks }, (_, k) => ({
          title: `Part ${k + 1} of spec ${i + 1}`,
          description: `Write part ${k + 1}.`,
        })),
      },
    });
    ids.push(spec.id);
  }
  return ids;
}

interface ClientsHandle {
  child: ChildProcess;
  ready: Promise<void>;
  maxId(): Promise<number>;
  finish(truth: number[]): Promise<ClientsResult>;
}

/** The clients' child process: compiled JS next to this file, or the .ts through tsx. */
function spawnClients(url: string, transport: Transport, count: number): ClientsHandle {
  const fromSource = import.meta.url.endsWith(".ts");
  const file = fileURLToPath(
    new URL(`./fanout-clients.${fromSource ? "ts" : "js"}`, import.meta.url),
  );
  const args = fromSource ? ["--import", "tsx", "--conditions=@glm-workers/source", file] : [file];
  const child = spawn(process.execPath, [...args, url, transport, String(count)], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const exited = new Promise<never>((_, reject) => {
    child.once("exit", (code, signal) =>
      reject(new Error(`${transport} clients exited (${code ?? signal}) early`)),
    );
  });
  exited.catch(() => {});
  const message = (type: string) =>
    Promise.race([
      new Promise<unknown>((resolve) => {
        const on = (msg: { type?: string }) => {
          if (msg.type !== type) return;
          child.off("message", on);
          resolve(msg);
        };
        child.on("message", on);
      }),
      exited,
    ]);
  const ready = withTimeout(message("ready"), 60_000, `${transport} clients connecting`).then(
    () => {},
  );
  return {
    child,
    ready,
    maxId: async () => {
      const reply = message("max");
      child.send({ cmd: "max" });
      const { maxId } = (await withTimeout(reply, 30_000, `${transport} clients' max id`)) as {
        maxId: number;
      };
      return maxId;
    },
    finish: (truth) => {
      const result = message("result");
      child.send({ cmd: "finish", truth });
      return withTimeout(result, 60_000, `${transport} clients' result`) as Promise<ClientsResult>;
    },
  };
}

/** CPU seconds: server process, server main thread, then each clients' process. */
function cpuReadings(serverPid: number, children: ChildProcess[]): number[] {
  return [
    cpuSeconds(serverPid),
    threadCpuSeconds(serverPid, serverPid),
    ...children.map((c) => (c.pid === undefined ? 0 : cpuSeconds(c.pid))),
  ];
}

/** User + system CPU seconds of one thread (Linux, USER_HZ = 100). */
function threadCpuSeconds(pid: number, tid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

/**
 * Polls the workers until `count` runs exist and none is active (or, when fewer exist, none is
 * active and nothing is queued); their final statuses.
 */
async function waitFinished(server: ServerProcess, count: number): Promise<string[]> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    const { workers } = await call<{ workers: { status: string }[] }>(server, "/api/workers");
    const done = workers.filter((w) => ["completed", "failed", "stopped"].includes(w.status));
    const idle = workers.length > 0 && done.length === workers.length;
    if (idle && workers.length >= count) return done.map((w) => w.status);
    if (idle) {
      const { queue } = await call<{ queue: unknown[] }>(server, "/api/queue");
      if (queue.length === 0) return done.map((w) => w.status);
    }
    if (Date.now() > deadline) throw new Error("runs did not finish in 180 s");
    await sleep(200);
  }
}

/**
 * Ids of the stored events after `after`, read back through the SSE feed's replay (the backlog a
 * reconnecting client gets with Last-Event-ID): the reference every client is judged against.
 * The feed never ends by itself: reading stops after a quiet spell once `atLeast` is reached
 * (or after a long quiet spell if it never is).
 */
async function storedIds(
  url: string,
  after: number,
  atLeast = 0,
): Promise<{ id: number; type: string }[]> {
  const abort = new AbortController();
  const res = await fetch(`${url}/api/workers/events`, {
    headers: { "last-event-id": String(after) },
    signal: abort.signal,
  });
  if (!res.body) throw new Error("events replay has no body");
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  const ids: { id: number; type: string }[] = [];
  let buffered = "";
  let connected = false;
  let type = "";
  try {
    for (;;) {
      const reached = connected && (ids.at(-1)?.id ?? after) >= atLeast;
      let timer: NodeJS.Timeout | undefined;
      const quiet = new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), reached ? 500 : 10_000);
      });
      const part = await Promise.race([reader.read(), quiet]);
      clearTimeout(timer);
      if (part === null || part.done) break;
      buffered += decoder.decode(part.value, { stream: true });
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        if (line.startsWith(": connected")) connected = true;
        if (line.startsWith("event: ")) type = line.slice(7);
        if (line.startsWith("id: ")) ids.push({ id: Number(line.slice(4)), type });
      }
    }
  } finally {
    abort.abort();
  }
  return ids;
}

/**
 * A JSON request on a connection of its own. Pooled keep-alive connections are avoided: on a
 * loaded machine the pool sometimes reuses one the server has just closed for idleness
 * (ECONNRESET), which would say nothing about the server.
 */
function call<T>(
  server: ServerProcess,
  path: string,
  init: { method?: "GET" | "POST"; body?: unknown } = {},
): Promise<T> {
  const { body } = init;
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise<T>((resolve, reject) => {
    const req = httpRequest(
      `${server.url}${path}`,
      {
        method: init.method ?? (body === undefined ? "GET" : "POST"),
        agent: false,
        headers: payload ? { "content-type": "application/json" } : {},
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          text += c;
        });
        res.on("end", () => {
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) reject(new Error(`${path} → ${status}: ${text}`));
          else resolve((text ? JSON.parse(text) : undefined) as T);
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

async function until(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Nearest-rank percentiles (ms, as measured: whole milliseconds). */
function summary(samples: readonly number[]): { n: number; p50: number; p99: number; max: number } {
  return {
    n: samples.length,
    p50: percentile(samples, 0.5),
    p99: percentile(samples, 0.99),
    max: percentile(samples, 1),
  };
}

function tallyStatuses(statuses: string[]): string {
  const counts = new Map<string, number>();
  for (const s of statuses) counts.set(s, (counts.get(s) ?? 0) + 1);
  return [...counts].map(([s, n]) => `${n} ${s}`).join(", ");
}
