// Benchmarks of glm-workers, written to docs/BENCHMARKS.md with the machine and the date.
// Run: pnpm bench   (loopback only; temp files only)
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, freemem, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { executorLabel, RunPool } from "@glm-workers/core";
import { measureEngineLatency } from "@glm-workers/core/bench";
import { measureAgentOverhead } from "@glm-workers/core/bench-agent";
import { measureGatewayLatency, measurePlanRuns } from "@glm-workers/core/bench-gateway";
import { EventBus, Orchestrator } from "@glm-workers/core/orchestrator";
import { benchEventAppends } from "@glm-workers/db/bench";
import { openDatabase } from "@glm-workers/db/client";
import { createRepositories } from "@glm-workers/db/repositories";

const out: string[] = [];
const line = (s = "") => {
  out.push(s);
  process.stdout.write(`${s}\n`);
};

/** Five specs on five slots: time from start() to running, end-to-end time, events/s, RSS. */
async function benchOrchestrator(specs: number, chunks: number, chunkMs: number) {
  const dir = mkdtempSync(join(tmpdir(), "glm-bench-orch-"));
  const database = await openDatabase({ url: `file:${join(dir, "bench.db")}` });
  const repos = createRepositories(database);
  const bus = new EventBus();
  let events = 0;
  bus.subscribe(() => {
    events++;
  });
  const orchestrator = new Orchestrator({
    db: database.db,
    write: database.write,
    pool: new RunPool({ maxThreads: specs }),
    bus,
    executor: { kind: "simulated", simulatedChunkMs: chunkMs, env: {} },
    executorLabel,
    maxWorkers: specs,
  });
  await orchestrator.init();
  const ids: string[] = [];
  for (let i = 0; i < specs; i++) {
    const directory = join(dir, `p${i}`);
    mkdirSync(directory);
    const project = await repos.projects.create({ name: `p${i}`, directory });
    const { spec } = await repos.specs.create({
      projectId: project.id,
      title: `spec ${i}`,
      chunks: Array.from({ length: chunks }, (_, c) => ({ title: `c${c}`, description: "work" })),
    });
    ids.push(spec.id);
  }
  const rssBefore = process.memoryUsage().rss;
  const t0 = performance.now();
  const startMs: number[] = [];
  for (const id of ids) {
    const s = performance.now();
    await orchestrator.start(id);
    startMs.push(performance.now() - s);
  }
  let peakRss = 0;
  for (;;) {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    const list = await orchestrator.listWorkers({ recent: specs });
    if (list.filter((w) => w.status === "completed").length === specs) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const totalMs = performance.now() - t0;
  await orchestrator.close();
  await database.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    specs,
    chunks,
    chunkMs,
    startMedianMs: median(startMs),
    totalMs,
    events,
    eventsPerSec: events / (totalMs / 1000),
    rssGrowthMb: (peakRss - rssBefore) / 1048576,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}
const f = (n: number, d = 1) => n.toFixed(d);

const cpu = cpus()[0]?.model ?? "unknown cpu";
line("# Benchmarks");
line();
line(
  `Measured ${new Date().toISOString()} on ${cpus().length} × ${cpu}, ${f(totalmem() / 2 ** 30)} GiB RAM (${f(freemem() / 2 ** 30)} GiB free), Node ${process.version}, ${process.platform}.`,
);
line("Produced by `pnpm bench` (scripts/bench.ts); every number comes from this run.");
line();
line("## Event log writes (group-committing writer, libsql file)");
line();
line("| callers | events/call | events | events/s | avg batch | persisted |");
line("| --- | --- | --- | --- | --- | --- |");
for (const [callers, perCall] of [
  [1, 1],
  [16, 1],
  [64, 1],
  [256, 1],
  [16, 20],
] as const) {
  const r = await benchEventAppends({
    callers,
    eventsPerCall: perCall,
    totalEvents: callers === 1 ? 2000 : 20000,
  });
  line(
    `| ${callers} | ${perCall} | ${r.events} | ${f(r.eventsPerSec, 0)} | ${f(r.avgBatch)} | ${r.persisted} |`,
  );
}
line();
line("## Pause acknowledgement and abort (real worker threads, simulated agent process trees)");
line();
const engine = await measureEngineLatency({ runs: 10 });
line("```json");
line(JSON.stringify(engine, null, 2));
line("```");
line();
line("## Orchestrator end to end (simulated executor)");
line();
line(
  "From `start()` of five specs on five slots until all are completed, in one process. The bench runs from TypeScript sources, so every worker thread first loads tsx and compiles core. Fixed costs (that thread start-up, two agent processes per chunk) dominate: 50 ms and 300 ms chunks take about the same total. Production runs compiled threads; this was not measured separately.",
);
line();
line(
  "| specs at once | chunks each | chunk ms | start() median ms | total s | events | events/s | main RSS growth MB |",
);
line("| --- | --- | --- | --- | --- | --- | --- | --- |");
for (const [specs, chunks, ms] of [
  [5, 3, 300],
  [5, 3, 50],
] as const) {
  const r = await benchOrchestrator(specs, chunks, ms);
  line(
    `| ${r.specs} | ${r.chunks} | ${r.chunkMs} | ${f(r.startMedianMs)} | ${f(r.totalMs / 1000, 2)} | ${r.events} | ${f(r.eventsPerSec, 0)} | ${f(r.rssGrowthMb)} |`,
  );
}
line();
line("## The real agent: `opencode run` per prompt vs one `opencode serve` per run");
line();
line(
  "The real opencode binary (opencode-ai 1.18.33) against the fake GLM on 127.0.0.1, which answers at once, so what is left is the agent's own overhead. A run is 3 chunks, each an execute and a review prompt (6 prompts); runs of the two modes alternate, 3 each. *To first request* is from handing a prompt to the executor until opencode's first model request arrives; *peak RSS* sums the run's agent processes.",
);
line();
line(
  "| mode | opencode processes / run | first prompt → request ms (median) | later prompts → request ms (median, p95) | run s (median) | peak agent RSS MB (median) |",
);
line("| --- | --- | --- | --- | --- | --- |");
const agent = await measureAgentOverhead({ runs: 3, chunks: 3 });
for (const a of agent) {
  line(
    `| ${a.mode} | ${a.processesPerRun} | ${f(a.firstPromptMs.median, 0)} | ${f(a.laterPromptsMs.median, 0)}, ${f(a.laterPromptsMs.p95, 0)} | ${f(a.runMs.median / 1000, 2)} | ${f(a.peakRssMb.median, 0)} |`,
  );
}
const [perPrompt, perRun] = agent;
if (perPrompt && perRun) {
  line();
  line(
    `Same run, ratios: a run takes ${f(perPrompt.runMs.median / perRun.runMs.median, 1)}× as long with \`opencode run\` per prompt; a later prompt reaches the model ${f(perPrompt.laterPromptsMs.median / Math.max(1, perRun.laterPromptsMs.median), 0)}× sooner through the run's server.`,
  );
}
line();
line("```json");
line(JSON.stringify(agent, null, 2));
line("```");
line();
line("## The GLM gateway");
line();
line(
  "Added latency: time to the first byte of a streamed answer from the fake GLM, straight vs through the gateway, 200 requests each, alternating, after a warm-up (p99 of 200 is the second-slowest).",
);
line();
const gw = await measureGatewayLatency(200);
line("| path | p50 ms | p99 ms | max ms |");
line("| --- | --- | --- | --- |");
line(`| direct | ${f(gw.direct.median, 2)} | ${f(gw.direct.p99, 2)} | ${f(gw.direct.max, 2)} |`);
line(
  `| through the gateway | ${f(gw.gateway.median, 2)} | ${f(gw.gateway.p99, 2)} | ${f(gw.gateway.max, 2)} |`,
);
line();
line(
  `Same run: the gateway adds ${f(gw.gateway.median - gw.direct.median, 2)} ms at the median (p99 ${f(gw.gateway.p99 - gw.direct.p99, 2)} ms).`,
);
line();
line(
  "Five real opencode runs at once (one chunk each: execute + review) on a fake plan that allows one request in flight per key and answers 429/1302 above it; its answers stream at 40 ms per piece, so the runs' requests overlap:",
);
line();
line(
  "| mode | wall s | completed | failed | 429 answers from the plan | most in flight upstream |",
);
line("| --- | --- | --- | --- | --- | --- |");
for (const p of await measurePlanRuns(5)) {
  line(
    `| ${p.mode} | ${f(p.wallS, 1)} | ${p.completed} | ${p.failed} | ${p.plan429} | ${p.maxInFlight} |`,
  );
  for (const e of p.errors.slice(0, 3)) line(`|  | failure: ${e.replaceAll("|", "/")} | | | | |`);
}
mkdirSync("docs", { recursive: true });
writeFileSync("docs/BENCHMARKS.md", `${out.join("\n")}\n`);
process.stdout.write("\nwritten to docs/BENCHMARKS.md\n");
