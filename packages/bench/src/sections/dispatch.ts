// Dispatch: N one-chunk specs through glm-workers (orchestrator + libsql + worker threads, the
// instant executor) against the floor (raw Piscina pool.run of a no-op) and BullMQ on Redis
// (stock settings, and appendfsync always since our commits are durable), in the same run.
import { stats } from "@glm-workers/core/bench";
import { runBullmqBaseline } from "../baselines/bullmq.ts";
import { type BaselineResult, runPiscinaBaseline } from "../baselines/piscina.ts";
import { ensureRedisServer, startRedis } from "../baselines/redis.ts";
import type { BenchContext } from "../context.ts";
import { runOurs } from "../dispatch/ours.ts";

const SLOTS = 5;

interface Measured {
  system: string;
  jobs: number;
  runs: BaselineResult[];
  extra?: string;
}

export default async function dispatch(ctx: BenchContext): Promise<void> {
  const { report } = ctx;
  const sizes = ctx.quick ? [100, 300] : [1000, 10_000];
  /** Repeats per size: the throughput figure is min / median / max over them. */
  const repeats = (jobs: number) => (ctx.quick ? 1 : jobs <= 1000 ? 3 : 1);
  const measured: Measured[] = [];
  const redis = await ensureRedisServer();

  for (const jobs of sizes) {
    const n = repeats(jobs);
    const piscina: Measured = { system: "raw Piscina pool.run (floor)", jobs, runs: [] };
    const ours: Measured = { system: "glm-workers", jobs, runs: [] };
    const bullDefault: Measured = { system: "BullMQ 6 + Redis 7 (defaults)", jobs, runs: [] };
    const bullDurable: Measured = {
      system: "BullMQ 6 + Redis 7 (appendfsync always)",
      jobs,
      runs: [],
    };
    // interleaved, so a slow phase of the machine is shared out between the systems
    for (let r = 0; r < n; r++) {
      ctx.progress(`dispatch ${jobs}: piscina ${r + 1}/${n}`);
      piscina.runs.push(await runPiscinaBaseline({ jobs, threads: SLOTS }));
      ctx.progress(`dispatch ${jobs}: glm-workers ${r + 1}/${n}`);
      const o = await runOurs({ jobs, slots: SLOTS, dir: ctx.tempDir("dispatch") });
      ours.runs.push(o);
      ours.extra = `${(o.events / jobs).toFixed(1)} events, ${(o.writes / jobs).toFixed(1)} writes in ${(o.batches / jobs).toFixed(2)} transactions per run`;
      if ("path" in redis) {
        for (const [m, durable] of [
          [bullDefault, false],
          [bullDurable, true],
        ] as const) {
          ctx.progress(`dispatch ${jobs}: ${m.system} ${r + 1}/${n}`);
          const server = await startRedis({ path: redis.path, durable });
          try {
            m.runs.push(
              await runBullmqBaseline({ jobs, concurrency: SLOTS, durable, redis: server }),
            );
          } finally {
            await server.stop();
          }
        }
      }
    }
    measured.push(piscina, ours);
    if ("path" in redis) measured.push(bullDefault, bullDurable);
  }

  report.heading(2, "Dispatch: glm-workers vs raw Piscina vs BullMQ");
  report.paragraph(
    `N one-chunk specs queued at once and run to completion on ${SLOTS} slots. **glm-workers**: the real orchestrator, libsql store (WAL, every commit durable) and Piscina worker threads, with the bench-only *instant* executor (each step ends at once in the thread; execute rewrites one file, as a run must change its tree; review passes), so what is measured is our orchestration: the queue, the claim, the run's thread and MessagePort protocol, every state change and event committed, the end of the run. **Raw Piscina**: \`pool.run\` of a no-op on ${SLOTS} threads — the floor, no bookkeeping at all. **BullMQ**: one \`queue.add\` per job and a Worker (concurrency ${SLOTS}) in the same process, done at its \`completed\` event, on Debian's redis-server started by the bench with stock settings and with \`appendonly yes, appendfsync always\` (every write fsynced, as our commits are). Latency is enqueue call → done, per job; since all N are queued at once it is mostly time in line. Throughput is min / median / max over ${ctx.quick ? 1 : 3} runs at 1k (one run at 10k, whose latency is over its 10k jobs).`,
  );
  if (!("path" in redis)) report.paragraph(`**BullMQ skipped:** ${redis.skipped}`);

  const rows = measured.map((m) => {
    const tput = stats(m.runs.map((r) => r.perSecond));
    const lat = stats(m.runs.flatMap((r) => r.latencyMs));
    return [
      m.system,
      m.jobs,
      m.runs.length,
      `${tput.min.toFixed(0)} / ${tput.median.toFixed(0)} / ${tput.max.toFixed(0)}`,
      lat.median.toFixed(0),
      lat.p99.toFixed(0),
      m.extra ?? "",
    ];
  });
  report.table(
    [
      "system",
      "jobs",
      "runs",
      "jobs/s (min / median / max)",
      "latency p50 ms",
      "latency p99 ms",
      "per run",
    ],
    rows,
  );

  const median = (m: Measured | undefined) =>
    m ? stats(m.runs.map((r) => r.perSecond)).median : Number.NaN;
  const ratioLines: string[] = [];
  for (const jobs of sizes) {
    const of = (system: string) =>
      measured.find((m) => m.jobs === jobs && m.system.startsWith(system));
    const ours = median(of("glm-workers"));
    const floor = median(of("raw Piscina"));
    const durable = median(of("BullMQ 6 + Redis 7 (appendfsync"));
    const plain = median(of("BullMQ 6 + Redis 7 (defaults"));
    const perTaskOurs = 1000 / ours;
    const perTaskFloor = 1000 / floor;
    ratioLines.push(
      `- **${jobs} jobs**: per task glm-workers takes ${perTaskOurs.toFixed(2)} ms vs ${perTaskFloor.toFixed(3)} ms for raw Piscina (**${(perTaskOurs / perTaskFloor).toFixed(0)}×**; goal ≤ 2×)` +
        (Number.isFinite(durable)
          ? `; glm-workers runs at **${(ours / durable).toFixed(2)}×** BullMQ's durable throughput (goal ≥ 1×) and ${(ours / plain).toFixed(2)}× its throughput on stock Redis.`
          : "."),
    );
  }
  report.paragraph(`Ratios, same run:\n\n${ratioLines.join("\n")}`);

  await report.latencyChart(
    "dispatch-latency",
    `Enqueue → done latency, ${sizes.at(-1)} jobs`,
    measured
      .filter((m) => m.jobs === sizes.at(-1))
      .map((m) => ({ name: m.system, samples: m.runs.flatMap((r) => r.latencyMs) })),
    { logY: true },
  );
  await report.curveChart(
    "dispatch-throughput",
    "Throughput by queue size (median of runs)",
    measured.map((m) => ({ series: m.system, x: m.jobs, y: median(m) })),
    { xTitle: "jobs queued at once", yTitle: "jobs/s", logX: true, logY: true },
  );
}
