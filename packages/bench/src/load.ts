// pnpm load: a bounded load test of the compiled server on loopback. The server runs as a child
// process (simulated executor, 5 slots, 5 runs kept going); this process drives 60 s of mixed
// REST traffic with autocannon (in-process, one-connection instances at fixed rates) and, at the same
// time, 500 SSE connect/disconnect cycles; it reads the server's /api/metrics before, right
// after and after a settle, and writes the results between the load markers of BENCHMARKS.md.
// Flags: --quick (10 s, 100 SSE cycles; writes to tmp-bench/ unless --out)  --out DIR
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, freemem, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { descendants } from "@glm-workers/core";
import { sleep } from "./context.ts";
import {
  cpuPressureUs,
  f0,
  f1,
  f2,
  machineCpu,
  pct,
  type ServerMetrics,
  spliceInto,
} from "./load-output.ts";
import { createFixture, makeGitProject, RunKeeper } from "./load-runs.ts";
import { runSseCycles, type SseResult } from "./load-sse.ts";
import { type KindResult, runTraffic } from "./load-traffic.ts";
import { cpuShare, mb, treeRssBytes } from "./proc.ts";
import { Report } from "./report.ts";
import { REPO_ROOT, startServerProcess } from "./server-process.ts";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    out: { type: "string" },
  },
});
const quick = values.quick ?? false;
const outDir = values.out ?? join(REPO_ROOT, quick ? "tmp-bench" : "docs");

const DURATION_S = quick ? 10 : 60;
const SSE_CYCLES = quick ? 100 : 500;
const SSE_CONCURRENCY = 10;
const RUNS = 5;
/** Longer than any run lives here, so runs end only when stopped. */
const CHUNK_MS = 20_000;
/** Start/stop pairs per second (each pair: stop the oldest run, start a free spec). */
const CYCLES_PER_S = 2;
const SETTLE_MS = 5000;

const t0 = performance.now();
const progress = (msg: string) =>
  process.stderr.write(`[load ${((performance.now() - t0) / 1000).toFixed(0)}s] ${msg}\n`);

interface Reading {
  metrics: ServerMetrics;
  treeRss: number;
}

const started = new Date();
progress("starting the compiled server…");
const server = await startServerProcess({
  env: { MAX_WORKERS: String(RUNS), SIMULATED_CHUNK_MS: String(CHUNK_MS) },
});
const read = async (): Promise<Reading> => ({
  metrics: await server.api<ServerMetrics>("/api/metrics"),
  treeRss: treeRssBytes(server.pid),
});

let traffic: KindResult[] = [];
let sse: SseResult | undefined;
let before: Reading | undefined;
let after: Reading | undefined;
let settled: Reading | undefined;
let serverShare = 0;
let ownShare = 0;
let machineShare = 0;
let load1 = 0;
/** Share of the load window in which some task waited for a CPU (null: no PSI). */
let pressure: number | null = null;
let keeper: RunKeeper | undefined;
try {
  const projectDir = join(server.dir, "project");
  mkdirSync(projectDir);
  makeGitProject(projectDir);
  const fixture = await createFixture(server, projectDir, 12, 4);
  keeper = new RunKeeper(server, fixture.specIds, RUNS);
  await keeper.begin();
  progress(`${RUNS} runs active; waiting for their agent processes…`);
  // "active" is claimed, not yet working: wait until every run has its agent process
  const agentsBy = Date.now() + 30_000;
  while (agentCount(server.pid) < RUNS && Date.now() < agentsBy) await sleep(250);
  await sleep(1000);

  before = await read();
  await server.api("/api/metrics/event-loop/reset", { method: "POST" });
  progress(
    `load: ${DURATION_S} s of API traffic + ${SSE_CYCLES} SSE cycles (${SSE_CONCURRENCY} at once)…`,
  );
  const m0 = machineCpu();
  const p0 = cpuPressureUs();
  const own0 = process.cpuUsage();
  const w0 = performance.now();
  const k = keeper;
  const measured = await cpuShare(server.pid, () =>
    Promise.all([
      runTraffic({
        url: server.url,
        projectId: fixture.projectId,
        keeper: k,
        durationS: DURATION_S,
        cyclesPerSecond: CYCLES_PER_S,
      }),
      runSseCycles(server.url, {
        cycles: SSE_CYCLES,
        concurrency: SSE_CONCURRENCY,
        spreadMs: DURATION_S * 1000 - 1000,
      }),
    ]),
  );
  const wallS = (performance.now() - w0) / 1000;
  const own = process.cpuUsage(own0);
  const m1 = machineCpu();
  const p1 = cpuPressureUs();
  if (p0 !== null && p1 !== null) pressure = (p1 - p0) / 1e6 / wallS;
  load1 = loadavg()[0] ?? 0;
  [traffic, sse] = measured.value;
  serverShare = measured.share;
  ownShare = (own.user + own.system) / 1e6 / wallS;
  machineShare = m1.total > m0.total ? (m1.busy - m0.busy) / (m1.total - m0.total) : 0;
  after = await read();
  progress(`load done; settling ${SETTLE_MS / 1000} s…`);
  await sleep(SETTLE_MS);
  settled = await read();
  await keeper.end();
  await server.api("/api/workers/stop-all", { method: "POST" }).catch(() => {});
} finally {
  await keeper?.end();
  await server.stop();
}

// ---- the report ------------------------------------------------------------------------

const report = new Report();
const r = report;
r.heading(2, "Load (pnpm load)");
r.paragraph(
  `Measured ${started.toISOString()} on ${cpus().length} × ${cpus()[0]?.model ?? "unknown cpu"}, ${f1(totalmem() / 2 ** 30)} GiB RAM (${f1(freemem() / 2 ** 30)} GiB free), Node ${process.version}, ${process.platform}${quick ? " — **quick mode (10 s, 100 SSE cycles): not a reference run**" : ""}.`,
);
r.paragraph(
  `The compiled server (\`apps/server/dist/main.js\`) as a child process on 127.0.0.1: simulated executor, MAX_WORKERS=${RUNS}, SIMULATED_CHUNK_MS=${CHUNK_MS}, one git project with 12 specs of 4 chunks, ${RUNS} runs kept going throughout. For ${DURATION_S} s this process (autocannon ${autocannonVersion()}, in-process: each request kind as one-connection instances at a fixed \`overallRate\`, their starts spread over the first second so that the per-second quotas do not fall due together) sends the mixed REST traffic below — closed loop per connection, so a slow server gets fewer requests rather than a queue — while ${SSE_CYCLES} SSE cycles run against \`GET /api/workers/events\` (at most ${SSE_CONCURRENCY} at once, spread over the window; each opens a fresh TCP connection, waits for the first event, closes). "stop run" and "start run" share one connection: each stop of the oldest run is followed by a start of a free spec, ${CYCLES_PER_S} pairs a second, so every started run is later stopped. Request timeout 10 s (stop and start: 30 s); a timed-out connection is reopened and counts as a socket error. Latencies are the raw time of each response, without coordinated-omission correction (autocannon's correction takes ceil(1/rate) ms as the expected interval, i.e. 1 ms, and would add made-up samples).`,
);

const all = traffic.flatMap((k) => k.samples);
const totalResponses = traffic.reduce((s, k) => s + k.responses, 0);
const durationS = Math.max(...traffic.map((k) => k.durationS), DURATION_S);
const codes = (rec: Record<string, number>) =>
  Object.entries(rec)
    .map(([c, n]) => `${n}×${c}`)
    .join(", ") || "0";
const row = (k: KindResult) => [
  k.name,
  k.connections,
  f0(k.targetRate),
  f1(k.responses / (k.durationS || DURATION_S)),
  k.responses,
  codes(k.non2xx),
  `${k.socketErrors}${k.timeouts ? ` (${k.timeouts} timeouts)` : ""}`,
  f1(pct(k.samples, 0.5)),
  f1(pct(k.samples, 0.99)),
  f1(Math.max(0, ...k.samples)),
];
r.heading(3, "API traffic");
r.table(
  [
    "request",
    "connections",
    "target req/s",
    "achieved req/s",
    "responses",
    "non-2xx",
    "socket errors",
    "p50 ms",
    "p99 ms",
    "max ms",
  ],
  [
    ...traffic.map(row),
    [
      "**all**",
      traffic.reduce((s, k) => s + (k.name === "start run" ? 0 : k.connections), 0),
      f0(traffic.reduce((s, k) => s + k.targetRate, 0)),
      f1(totalResponses / durationS),
      totalResponses,
      codes(
        traffic.reduce<Record<string, number>>((acc, k) => {
          for (const [c, n] of Object.entries(k.non2xx)) acc[c] = (acc[c] ?? 0) + n;
          return acc;
        }, {}),
      ),
      String(traffic.reduce((s, k) => s + k.socketErrors, 0)),
      f1(pct(all, 0.5)),
      f1(pct(all, 0.99)),
      f1(Math.max(0, ...all)),
    ],
  ],
);
const active = keeper?.activeSamples ?? [];
r.paragraph(
  `Runs: ${traffic.find((k) => k.name === "start run")?.ok ?? 0} started and ${traffic.find((k) => k.name === "stop run")?.ok ?? 0} stopped by the traffic; ${keeper?.topUps ?? 0} more started by the run keeper (outside the measured traffic) when a start was only queued or a run ended; whatever still ran was stopped at the end. Active runs, polled each second: min ${active.length ? Math.min(...active) : "—"}, median ${pct(active, 0.5)}, max ${Math.max(0, ...active)}.`,
);
await r.latencyChart(
  "load-latency",
  "Response time per request kind under load (ms, log scale)",
  traffic.map((k) => ({ name: k.name, samples: k.samples })),
  { logY: true },
);

r.heading(3, "SSE connect/disconnect");
if (sse) {
  const failed = Object.values(sse.failures).reduce((a, b) => a + b, 0);
  r.table(
    [
      "cycles",
      "ok",
      "failed",
      "max at once",
      "open p50 / p99 ms",
      "first event p50 / p99 ms",
      "cycle p50 / p99 / max ms",
      "wall s",
    ],
    [
      [
        sse.cycles,
        sse.cycleMs.length,
        failed ? `${failed} (${codes(sse.failures)})` : 0,
        sse.maxConcurrent,
        `${f1(pct(sse.openMs, 0.5))} / ${f1(pct(sse.openMs, 0.99))}`,
        `${f1(pct(sse.firstEventMs, 0.5))} / ${f1(pct(sse.firstEventMs, 0.99))}`,
        `${f1(pct(sse.cycleMs, 0.5))} / ${f1(pct(sse.cycleMs, 0.99))} / ${f1(Math.max(0, ...sse.cycleMs))}`,
        f1(sse.wallS),
      ],
    ],
  );
  await r.latencyChart(
    "load-sse",
    "SSE cycle under load: open, first event, closed (ms)",
    [
      { name: "open (: connected)", samples: sse.openMs },
      { name: "first event", samples: sse.firstEventMs },
      { name: "cycle (closed)", samples: sse.cycleMs },
    ],
    { logY: true },
  );
}

r.heading(3, "Server readings (GET /api/metrics)");
if (before && after && settled) {
  const readings = [before, after, settled];
  const types = [...new Set(readings.flatMap((x) => Object.keys(x.metrics.resources)))].sort();
  r.table(
    ["reading", "before", "right after", `after ${SETTLE_MS / 1000} s settle`],
    [
      ["RSS MB", ...readings.map((x) => f1(mb(x.metrics.memory.rss)))],
      ["heapUsed MB", ...readings.map((x) => f1(mb(x.metrics.memory.heapUsed)))],
      ["RSS with agent processes MB (/proc)", ...readings.map((x) => f1(mb(x.treeRss)))],
      ["busListeners", ...readings.map((x) => x.metrics.busListeners)],
      ["activeRuns", ...readings.map((x) => x.metrics.activeRuns)],
      ...types.map((t) => [`resources: ${t}`, ...readings.map((x) => x.metrics.resources[t] ?? 0)]),
    ],
  );
  const el = after.metrics.eventLoopDelayMs;
  r.paragraph(
    `Event-loop delay of the server during the load (reset just before it, read right after; beyond the 10 ms sampling interval): min ${f2(el.min)}, p50 ${f2(el.p50)}, p99 ${f2(el.p99)}, max ${f2(el.max)}, mean ${f2(el.mean)} ms over ${el.samples} samples.`,
  );
  const back = settled.metrics.busListeners === before.metrics.busListeners;
  r.paragraph(
    `Bus listeners ${before.metrics.busListeners} before, ${after.metrics.busListeners} right after the last SSE client left, ${settled.metrics.busListeners} after the settle: ${back ? "back to the value before" : "**not back to the value before**"}.`,
  );
}
const targetTotal = traffic.reduce((s, k) => s + k.targetRate, 0);
const achievedTotal = totalResponses / durationS;
const verdict =
  achievedTotal >= 0.95 * targetTotal
    ? `the target of ${targetTotal} req/s was held`
    : serverShare >= 0.9
      ? `${f0(achievedTotal)} of ${targetTotal} req/s: the server was the limit (its process kept about a core busy; its event loop is one thread)`
      : machineShare >= 0.9
        ? `${f0(achievedTotal)} of ${targetTotal} req/s: the machine was the limit (all cores busy, the server got ${f2(serverShare)} cores)`
        : `${f0(achievedTotal)} of ${targetTotal} req/s with neither the server nor the machine saturated: the limit lies elsewhere (blocking I/O, waits inside the server)`;
r.paragraph(
  `CPU during the load: server process ${f2(serverShare)} cores (its own threads, not the agent processes), this load generator ${f2(ownShare)} cores, the whole machine ${f0(machineShare * 100)} % busy of ${cpus().length} cores (load average ${f1(load1)}${pressure === null ? "" : `, some task waiting for a CPU ${f0(pressure * 100)} % of the time`}; other processes count too) — ${verdict}.`,
);
r.paragraph(`Whole load run: ${f0((performance.now() - t0) / 1000)} s.`);

const path = spliceInto(outDir, report);
progress(`written to ${path}`);
process.exit(0);

/** Simulated agent processes under `pid`. */
function agentCount(pid: number): number {
  return descendants(pid).filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, "utf8").includes("simulated-agent");
    } catch {
      return false;
    }
  }).length;
}

/** The version of autocannon that ran (from its package.json). */
function autocannonVersion(): string {
  try {
    const req = createRequire(import.meta.url);
    return (req("autocannon/package.json") as { version: string }).version;
  } catch {
    return "?";
  }
}
