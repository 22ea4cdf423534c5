// Control: how long pause, resume and stop take to reach the agent's processes, seen from
// outside the product — the HTTP request is sent to the compiled server and /proc is polled
// until every process of the run's tree is stopped / running again / gone.
import { type LatencyStats, stats } from "@glm-workers/core/bench";
import type { BenchContext } from "../context.ts";
import { sleep } from "../context.ts";
import type { ServerProcess } from "../server-process.ts";
import {
  agentTree,
  comm,
  createProject,
  createSpec,
  gone,
  pollUntil,
  projectDir,
  running,
  startOpencodeServer,
  startRun,
  startServer,
  stopped,
  waitForToolTree,
} from "./runs.ts";

/** One kind of control action over many samples. */
interface Series {
  /** Request sent → /proc shows the condition (ms). */
  tree: number[];
  /** Request sent → response body read (ms). */
  http: number[];
  /** Processes in the tree at each sample. */
  procs: number[];
  /** Samples where /proc did not show the condition within the limit. */
  missed: number;
  /** Processes found outside the condition once it held (e.g. a child forked meanwhile). */
  strays: number;
}

const newSeries = (): Series => ({ tree: [], http: [], procs: [], missed: 0, strays: 0 });

interface AgentResults {
  label: string;
  runs: number;
  pause: Series;
  resume: Series;
  stop: Series;
  /** Process names seen in the trees (e.g. node ×1, sh ×1, sleep ×1). */
  shape: string;
}

/** How long a condition may take before the sample counts as missed. */
const LIMIT_MS = 15_000;

/**
 * Sends `method path` and polls the captured tree every ~1 ms until `cond` holds for every
 * pid; records both the /proc time and the HTTP round trip from the same start.
 */
async function measure(
  server: ServerProcess,
  path: string,
  tree: readonly number[],
  cond: (pid: number) => boolean,
  into: Series,
): Promise<void> {
  const t0 = performance.now();
  const request = fetch(`${server.url}${path}`, { method: "POST" }).then(async (res) => {
    const body = await res.text();
    if (!res.ok) throw new Error(`POST ${path} → ${res.status}: ${body}`);
    return performance.now() - t0;
  });
  // a failed request must not go unobserved while we poll
  request.catch(() => {});
  const ms = await pollUntil(() => tree.every(cond), t0, LIMIT_MS);
  const http = await request;
  if (ms === null) into.missed++;
  else into.tree.push(ms);
  into.http.push(http);
  into.procs.push(tree.length);
}

function shapeOf(tree: readonly number[]): string {
  const names = new Map<string, number>();
  for (const p of tree) {
    const n = comm(p) || "?";
    names.set(n, (names.get(n) ?? 0) + 1);
  }
  return [...names].map(([n, k]) => `${n} ×${k}`).join(", ");
}

/**
 * Runs `runs` runs one after another on `server`; in each, once the agent's `sleep` tool is
 * alive, `cycles` pause/resume cycles and then a stop, all measured.
 */
async function drive(
  ctx: BenchContext,
  server: ServerProcess,
  label: string,
  opts: { runs: number; cycles: number; startTimeoutMs: number; projectName: string },
): Promise<AgentResults> {
  const root = ctx.tempDir(`control-${opts.projectName}`);
  const projectId = await createProject(
    server,
    opts.projectName,
    projectDir(root, opts.projectName, true),
  );
  const out: AgentResults = {
    label,
    runs: opts.runs,
    pause: newSeries(),
    resume: newSeries(),
    stop: newSeries(),
    shape: "",
  };
  for (let r = 0; r < opts.runs; r++) {
    const specId = await createSpec(server, projectId, `Control ${r + 1}`, [
      { title: `Control chunk ${r + 1}`, description: "Wait in a shell tool." },
    ]);
    const started = await startRun(server, specId);
    const workerId = started.worker?.id;
    if (!workerId) throw new Error(`${label}: run ${r + 1} was not started (${started.status})`);
    await waitForToolTree(server.pid, opts.startTimeoutMs);
    await sleep(200); // let the step settle: no git or set-up process of the engine in the tree
    const tree = () => agentTree(server.pid).filter((p) => !gone(p));
    if (r === 0) out.shape = shapeOf(tree());
    for (let c = 0; c < opts.cycles; c++) {
      const before = tree();
      await measure(server, `/api/workers/${workerId}/pause`, before, stopped, out.pause);
      // anything in the tree now that is not stopped escaped the pause
      out.pause.strays += tree().filter((p) => !stopped(p)).length;
      await sleep(150);
      const paused = tree();
      await measure(server, `/api/workers/${workerId}/resume`, paused, running, out.resume);
      out.resume.strays += tree().filter((p) => !running(p)).length;
      await sleep(250);
    }
    const last = tree();
    await measure(server, `/api/workers/${workerId}/stop`, last, gone, out.stop);
    // after the stop's answer nothing of the agent may be left (git calls of the landing aside)
    out.stop.strays += tree().filter((p) => comm(p) !== "git").length;
    ctx.progress(`control ${label}: run ${r + 1}/${opts.runs} done`);
  }
  return out;
}

const f1 = (n: number) => n.toFixed(1);
const range = (xs: readonly number[]) => {
  if (xs.length === 0) return "–";
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  return lo === hi ? String(lo) : `${lo}–${hi}`;
};

function row(agent: string, action: string, s: Series): (string | number)[] {
  const t: LatencyStats = stats(s.tree);
  const h: LatencyStats = stats(s.http);
  return [
    agent,
    action,
    t.n,
    range(s.procs),
    f1(t.min),
    f1(t.median),
    f1(t.p99),
    f1(h.min),
    f1(h.median),
    f1(h.p99),
    s.missed + s.strays,
  ];
}

export default async function control(ctx: BenchContext): Promise<void> {
  const quick = ctx.quick;
  const simRuns = quick ? 3 : 12;
  const simCycles = quick ? 2 : 3;
  const ocRuns = quick ? 1 : 3;
  const ocCycles = 2;

  const results: AgentResults[] = [];

  // Simulated agent: a 20 s execute step whose shell tool (`sh -c sleep 12`) outlives our
  // cycles; one run at a time so the tree we watch is that run's alone.
  ctx.progress("control: simulated agent");
  const sim = await startServer({ MAX_WORKERS: "1", SIMULATED_CHUNK_MS: "20000" });
  try {
    await sleep(1000); // start-up maintenance (worktree prune, retention) out of the way
    results.push(
      await drive(ctx, sim, "simulated", {
        runs: simRuns,
        cycles: simCycles,
        startTimeoutMs: 30_000,
        projectName: "control-sim",
      }),
    );
  } finally {
    await sim.stop();
  }

  // opencode: the real binary, its model the fake GLM whose first answer is a bash `sleep 600`.
  ctx.progress("control: opencode agent");
  const oc = await startOpencodeServer(1);
  try {
    await sleep(1000);
    results.push(
      await drive(ctx, oc.server, "opencode", {
        runs: ocRuns,
        cycles: ocCycles,
        startTimeoutMs: 120_000,
        projectName: "control-opencode",
      }),
    );
  } finally {
    await oc.close();
  }

  const { report } = ctx;
  report.heading(2, "Control: pause, resume, stop");
  report.paragraph(
    "What a user's click costs until the agent's processes obey. The compiled server runs as a child process (MAX_WORKERS=1, one run at a time); each run is set up through the REST API (a git project, one spec with one chunk) and started with `POST /api/workers`. Once the agent's shell tool (a `sleep`) is alive, the bench captures the run's process tree — every descendant of the server pid, read from /proc (the run's worker thread is a thread, not a process) — and sends `POST /api/workers/:id/pause`, then `…/resume`, several cycles per run, then `…/stop`. " +
      "From just before each request it polls /proc every ~1 ms: **pause** is done when every captured process is in state `T` (stopped), **resume** when none is in state `T` any more, **stop** when every captured process is gone (or a zombie). The HTTP column is the same request's round trip, from the same start to the response body (pause and resume answer after the run's thread acknowledged; stop answers after the run's end is committed). " +
      `“Misses” counts samples where the condition did not show within ${LIMIT_MS / 1000} s, plus processes found outside it once it held (a process forked meanwhile and still running after a pause, stopped after a resume, or alive after the stop's answer); 0 is the expected value.`,
  );
  report.table(
    [
      "agent",
      "action",
      "n",
      "processes in tree",
      "/proc min ms",
      "/proc median ms",
      "/proc p99 ms",
      "HTTP min ms",
      "HTTP median ms",
      "HTTP p99 ms",
      "misses",
    ],
    results.flatMap((r) => [
      row(r.label, "pause", r.pause),
      row(r.label, "resume", r.resume),
      row(r.label, "stop", r.stop),
    ]),
  );
  report.paragraph(
    results
      .map(
        (r) =>
          `${r.label}: ${r.runs} run${r.runs === 1 ? "" : "s"}, ${r.pause.tree.length} pause/resume cycles, ${r.stop.tree.length} stops; the tree of the first run held ${r.shape || "—"}.`,
      )
      .join(" ") +
      (quick ? " Quick mode: sizes reduced." : "") +
      " With opencode the tree is `opencode serve` plus its tool processes; its start-up (~5 s of CPU) happens once per run, so each run carries several cycles.",
  );
  for (const r of results) {
    await report.latencyChart(
      `control-${r.label}`,
      `Control with the ${r.label} agent: request → /proc condition`,
      [
        { name: "pause → all stopped", samples: r.pause.tree },
        { name: "resume → none stopped", samples: r.resume.tree },
        { name: "stop → tree gone", samples: r.stop.tree },
      ],
      { logY: true },
    );
  }
}
