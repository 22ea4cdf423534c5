// Memory: what the compiled server holds idle, what each running worker thread and each agent
// tree adds, and whether 1,000 completed runs leave anything behind (listeners, timers, ports,
// sockets, rows kept in memory). Read from outside: /proc for RSS, GET /api/metrics for the
// heap, the live resources by type and the event-bus listeners.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { type BenchContext, sleep } from "../context.ts";
import { mb, rssBytes } from "../proc.ts";
import type { CurvePoint } from "../report.ts";
import type { ServerProcess } from "../server-process.ts";
import {
  agentTree,
  comm,
  createProject,
  createSpec,
  gone,
  type MetricsReading,
  median,
  metrics,
  projectDir,
  startOpencodeServer,
  startRun,
  startServer,
  waitForToolTree,
  watchFinished,
} from "./runs.ts";

interface Reading {
  label: string;
  /** Completed runs when read (growth only). */
  done: number;
  rssMb: number;
  heapMb: number;
  /** After a forced full GC: the main thread's heap and each worker thread's (null: not read). */
  gc: HeapAfterGc | null;
  resources: Record<string, number>;
  listeners: number;
  activeRuns: number;
  atS: number;
}

async function read(
  server: ServerProcess,
  label: string,
  done = 0,
  t0 = performance.now(),
): Promise<Reading & { raw: MetricsReading }> {
  const m = await metrics(server);
  return {
    label,
    done,
    rssMb: mb(rssBytes(server.pid)),
    heapMb: mb(m.memory.heapUsed),
    gc: null,
    resources: m.resources,
    listeners: m.busListeners,
    activeRuns: m.activeRuns,
    atS: (performance.now() - t0) / 1000,
    raw: m,
  };
}

/** Several readings a moment apart; the median of each figure (resources from the last). */
async function settled(server: ServerProcess, label: string, n = 5, gapMs = 200): Promise<Reading> {
  const rs: Reading[] = [];
  for (let i = 0; i < n; i++) {
    if (i > 0) await sleep(gapMs);
    rs.push(await read(server, label));
  }
  const last = rs[rs.length - 1] as Reading;
  return {
    ...last,
    rssMb: median(rs.map((r) => r.rssMb)),
    heapMb: median(rs.map((r) => r.heapMb)),
  };
}

/** Summed RSS of the server's descendants (the agent processes), in MB. */
function treeMb(serverPid: number): { mb: number; procs: number } {
  const tree = agentTree(serverPid).filter((p) => !gone(p));
  return { mb: mb(tree.reduce((s, p) => s + rssBytes(p), 0)), procs: tree.length };
}

/** The server listens for a debugger on a free loopback port, so we can force a full GC. */
const INSPECT_FLAG = "--inspect=127.0.0.1:0";

export interface HeapAfterGc {
  mainMb: number;
  /** One entry per worker thread that answered. */
  workersMb: number[];
  /** Worker threads alive (an idle one may not answer). */
  threads: number;
}

/**
 * A child `node` (Node 20 has WebSocket behind a flag) that talks to the server's inspector:
 * a full GC and the heap in use of the main thread, then the same in every worker thread
 * (NodeWorker sessions) that answer; prints {"main": bytes, "workers": [bytes…]}.
 */
const GC_SCRIPT = `
const ws = new WebSocket(process.argv.at(-1));
let main = null;
const workers = [];
const done = () => { process.stdout.write(JSON.stringify({ main: main ? main.usedSize : null, workers, threads: sessions.length })); process.exit(0); };
const stop = setTimeout(done, 20000);
let next = 0;
const waiting = new Map();
const sessions = [];
const settle = (key, value) => { const r = waiting.get(key); if (r) { waiting.delete(key); r(value); } };
const wait = (key, ms = 5000) => new Promise((r) => { waiting.set(key, r); setTimeout(() => settle(key, null), ms); });
const call = (method, params = {}, ms) => { const id = ++next; ws.send(JSON.stringify({ id, method, params })); return wait("m:" + id, ms); };
const callWorker = (sessionId, method) => {
  const id = ++next;
  ws.send(JSON.stringify({ id: ++next, method: "NodeWorker.sendMessageToWorker", params: { sessionId, message: JSON.stringify({ id, method }) } }));
  return wait(sessionId + ":" + id, 6000);
};
ws.onmessage = (e) => {
  const m = JSON.parse(e.data);
  if (m.id !== undefined) settle("m:" + m.id, m.result ?? null);
  else if (m.method === "NodeWorker.attachedToWorker") sessions.push(m.params.sessionId);
  else if (m.method === "NodeWorker.receivedMessageFromWorker") {
    const inner = JSON.parse(m.params.message);
    if (inner.id !== undefined) settle(m.params.sessionId + ":" + inner.id, inner.result ?? null);
  }
};
ws.onerror = () => process.exit(1);
ws.onopen = async () => {
  await call("NodeWorker.enable", { waitForDebuggerOnStart: false });
  await new Promise((r) => setTimeout(r, 300));
  await call("HeapProfiler.collectGarbage");
  main = await call("Runtime.getHeapUsage");
  // all threads at once; an idle pool thread may sit in Atomics.wait and not answer: left out
  await Promise.all(sessions.map(async (s) => {
    if ((await callWorker(s, "HeapProfiler.collectGarbage")) === null) return;
    const u = await callWorker(s, "Runtime.getHeapUsage");
    if (u) workers.push(u.usedSize);
  }));
  await call("NodeWorker.disable", {}, 1000);
  clearTimeout(stop);
  done();
};
`;

function inspectorUrl(server: ServerProcess): string | null {
  return (
    /Debugger listening on (ws:\/\/127\.0\.0\.1:\d+\/[\w-]+)/.exec(server.output())?.[1] ?? null
  );
}

/** Forces a full GC in the server's main thread and worker threads; their heaps after it. */
async function heapAfterGc(inspector: string | null): Promise<HeapAfterGc | null> {
  if (!inspector) return null;
  const out = await new Promise<string | null>((resolve) => {
    let text = "";
    const child = spawn(
      process.execPath,
      ["--experimental-websocket", "-e", GC_SCRIPT, inspector],
      {
        stdio: ["ignore", "pipe", "ignore"],
      },
    );
    child.stdout.on("data", (b: Buffer) => {
      text += b.toString();
    });
    child.once("exit", (code) => resolve(code === 0 ? text : null));
    child.once("error", () => resolve(null));
  });
  if (!out) return null;
  try {
    const parsed = JSON.parse(out) as { main: number | null; workers: number[]; threads: number };
    if (parsed.main === null) return null;
    return { mainMb: mb(parsed.main), workersMb: parsed.workers.map(mb), threads: parsed.threads };
  } catch {
    return null;
  }
}

/** User + system CPU seconds of a process itself and of its children it has reaped. */
function cpuTimes(pid: number): { self: number; children: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // after the comm: state(0) … utime(11) stime(12) cutime(13) cstime(14), in 1/100 s
    return {
      self: (Number(f[11]) + Number(f[12])) / 100,
      children: (Number(f[13]) + Number(f[14])) / 100,
    };
  } catch {
    return { self: 0, children: 0 };
  }
}

/** Least-squares slope of y over x. */
function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const num = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  const den = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

const f1 = (n: number) => n.toFixed(1);
const signed = (n: number) => `${n >= 0 ? "+" : ""}${n.toFixed(1)}`;

// ---- idle server and k runs in flight ----------------------------------------------------

interface InFlight {
  k: number;
  serverMb: number;
  heapMb: number;
  treeMb: number;
  procs: number;
}

async function idleAndThreads(
  ctx: BenchContext,
  ks: readonly number[],
): Promise<{ idle: Reading; idleUptimeS: number; rows: InFlight[] }> {
  const maxK = Math.max(...ks);
  // 180 s execute steps: the agent and its shell tool stay alive through every step of k
  const server = await startServer({
    MAX_WORKERS: String(Math.max(maxK, 1)),
    SIMULATED_CHUNK_MS: "180000",
  });
  try {
    await sleep(3000);
    const idle = await settled(server, "idle");
    const idleUptimeS = idle.atS + 3;
    const root = ctx.tempDir("memory-threads");
    // plain folders, one per run: a folder project admits one run at a time
    const specs: string[] = [];
    for (let i = 0; i < maxK; i++) {
      const pid = await createProject(server, `mem-k${i}`, projectDir(root, `k${i}`, false));
      specs.push(
        await createSpec(server, pid, `Thread ${i + 1}`, [
          { title: "Hold", description: "Hold a shell tool for a while." },
        ]),
      );
    }
    const rows: InFlight[] = [];
    let started = 0;
    for (const k of ks) {
      while (started < k) await startRun(server, specs[started++] as string);
      if (k > 0) await waitForToolTree(server.pid, 60_000, k);
      await sleep(1500);
      const rs: InFlight[] = [];
      for (let i = 0; i < 3; i++) {
        if (i > 0) await sleep(300);
        const m = await metrics(server);
        const t = treeMb(server.pid);
        rs.push({
          k,
          serverMb: mb(rssBytes(server.pid)),
          heapMb: mb(m.memory.heapUsed),
          treeMb: t.mb,
          procs: t.procs,
        });
      }
      rows.push({
        k,
        serverMb: median(rs.map((r) => r.serverMb)),
        heapMb: median(rs.map((r) => r.heapMb)),
        treeMb: median(rs.map((r) => r.treeMb)),
        procs: Math.max(...rs.map((r) => r.procs)),
      });
      ctx.progress(`memory: ${k} run(s) in flight, server ${f1(rows.at(-1)?.serverMb ?? 0)} MB`);
    }
    await server.api("/api/workers/stop-all", { method: "POST" });
    return { idle, idleUptimeS, rows };
  } finally {
    await server.stop();
  }
}

// ---- one opencode run's tree -------------------------------------------------------------

interface OpencodeTree {
  procs: { name: string; mb: number }[];
  totalMb: number;
  serverMb: number;
  serverIdleMb: number;
}

async function opencodeTree(ctx: BenchContext): Promise<OpencodeTree> {
  const oc = await startOpencodeServer(1);
  try {
    await sleep(2000);
    const serverIdleMb = mb(rssBytes(oc.server.pid));
    const root = ctx.tempDir("memory-opencode");
    const pid = await createProject(oc.server, "mem-opencode", projectDir(root, "oc", false));
    const spec = await createSpec(oc.server, pid, "opencode tree", [
      { title: "Hold", description: "Run a long shell command." },
    ]);
    const started = await startRun(oc.server, spec);
    await waitForToolTree(oc.server.pid, 120_000);
    await sleep(2000); // opencode settles after its start-up burst
    const samples: OpencodeTree[] = [];
    for (let i = 0; i < 3; i++) {
      if (i > 0) await sleep(300);
      const tree = agentTree(oc.server.pid).filter((p) => !gone(p));
      const procs = tree.map((p) => ({ name: comm(p) || "?", mb: mb(rssBytes(p)) }));
      samples.push({
        procs,
        totalMb: procs.reduce((s, p) => s + p.mb, 0),
        serverMb: mb(rssBytes(oc.server.pid)),
        serverIdleMb,
      });
    }
    if (started.worker) {
      await oc.server.api(`/api/workers/${started.worker.id}/stop`, { method: "POST" });
    }
    const mid = median(samples.map((s) => s.totalMb));
    return samples.find((s) => s.totalMb === mid) ?? (samples[0] as OpencodeTree);
  } finally {
    await oc.close();
  }
}

// ---- 1,000 completed runs ----------------------------------------------------------------

interface Growth {
  runs: number;
  createS: number;
  drainS: number;
  /** Server CPU seconds over the drain: its own threads, and the agent processes it reaped. */
  cpu: { self: number; children: number };
  baseline: Reading;
  checkpoints: Reading[];
  drained: Reading;
  afterIdle: Reading | null;
  byType: Record<string, number>;
}

/** Piscina ends a thread after 30 s idle (RunPool's idleTimeoutMs); we read just after. */
const THREAD_IDLE_MS = 31_000;

async function growth(
  ctx: BenchContext,
  runs: number,
  every: number,
  alongside: () => Promise<void>,
): Promise<Growth> {
  const server = await startServer({ MAX_WORKERS: "5", SIMULATED_CHUNK_MS: "0" }, [INSPECT_FLAG]);
  try {
    const inspector = inspectorUrl(server);
    const root = ctx.tempDir("memory-growth");
    const projects: string[] = [];
    for (let i = 0; i < 5; i++) {
      projects.push(await createProject(server, `mem-g${i}`, projectDir(root, `g${i}`, false)));
    }
    // every run is a spec of its own (a spec runs once at a time; a completed spec has nothing
    // left to run), spread over five folder projects so all five slots can be busy
    const c0 = performance.now();
    const specs: string[] = new Array(runs);
    let nextSpec = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (nextSpec < runs) {
          const i = nextSpec++;
          specs[i] = await createSpec(server, projects[i % 5] as string, `Run ${i + 1}`, [
            { title: "Work", description: "One short chunk." },
          ]);
        }
      }),
    );
    const createS = (performance.now() - c0) / 1000;
    ctx.progress(`memory: ${runs} specs created in ${createS.toFixed(0)} s`);

    const watch = await watchFinished(server);
    await sleep(1000);
    // a quiet reading: a full GC first, then RSS, heap and resources
    const quiet = async (label: string): Promise<Reading> => {
      const gc = await heapAfterGc(inspector);
      return { ...(await settled(server, label)), gc };
    };
    const baseline = await quiet("before the first run");

    // keep a short backlog (five running, up to five queued) topped up with `POST /api/queue`
    // as the SSE feed reports runs finished: the queue never holds hundreds of items (each queue
    // change publishes and stores the whole queue), and the slots never wait for the client
    const BACKLOG = 10;
    const cpu0 = cpuTimes(server.pid);
    const t0 = performance.now();
    const checkpoints: Reading[] = [];
    let started = 0;
    let nextMark = every;
    while (watch.count < runs) {
      if (started < runs && started - watch.count < BACKLOG) {
        await server.api("/api/queue", { body: { specId: specs[started++] } });
      } else {
        await watch.next(250);
      }
      while (watch.count >= nextMark && nextMark <= runs) {
        // RSS and resources as they are, then the heaps after a forced GC
        const r = await read(server, `${nextMark} runs`, nextMark, t0);
        r.gc = await heapAfterGc(inspector);
        checkpoints.push(r);
        ctx.progress(
          `memory: ${watch.count}/${runs} runs, rss ${f1(r.rssMb)} MB, heap after GC ${r.gc ? f1(r.gc.mainMb) : "?"} MB`,
        );
        nextMark += every;
      }
    }
    const drainS = (performance.now() - t0) / 1000;
    const cpu1 = cpuTimes(server.pid);
    const lastRunAt = performance.now();
    await sleep(2000);
    const drained = await quiet("all done, 2 s later");
    // the wait for idle threads to end overlaps with the opencode measurement (another server)
    let afterIdle: Reading | null = null;
    const idleRead = (async () => {
      await sleep(Math.max(0, THREAD_IDLE_MS - (performance.now() - lastRunAt)));
      afterIdle = await quiet("all done, threads idled out");
    })();
    await Promise.all([alongside(), idleRead]);
    watch.close();
    return {
      runs,
      createS,
      drainS,
      cpu: { self: cpu1.self - cpu0.self, children: cpu1.children - cpu0.children },
      baseline,
      checkpoints,
      drained,
      afterIdle,
      byType: { ...watch.byType },
    };
  } finally {
    await server.stop();
  }
}

// ---- the section ---------------------------------------------------------------------------

export default async function memory(ctx: BenchContext): Promise<void> {
  const quick = ctx.quick;
  const ks = quick ? [0, 1, 3] : [0, 1, 3, 5, 8];
  const runs = quick ? 100 : 1000;
  const every = quick ? 20 : 100;

  ctx.progress("memory: idle server and runs in flight");
  const threads = await idleAndThreads(ctx, ks);

  ctx.progress(`memory: ${runs} completed runs`);
  let oc: OpencodeTree | null = null;
  let ocError: string | null = null;
  const g = await growth(ctx, runs, every, async () => {
    ctx.progress("memory: one opencode run's tree (while the growth server idles)");
    try {
      oc = await opencodeTree(ctx);
    } catch (err) {
      ocError = err instanceof Error ? err.message : String(err);
    }
  });

  // ---- report
  const { report } = ctx;
  report.heading(2, "Memory: idle, per thread, per agent tree, after many runs");
  report.paragraph(
    "The compiled server runs as a child process with the simulated agent; RSS is read from /proc (`statm` of the server pid: the main thread and every worker thread, which share the process), the heap (`heapUsed`, main thread only), the live resources by type (`process.getActiveResourcesInfo()`) and the event-bus listeners come from `GET /api/metrics`. " +
      `**Idle**: ${threads.idleUptimeS.toFixed(0)} s after start, median of 5 readings. **Per worker thread**: k runs in flight (MAX_WORKERS=${Math.max(...ks)}, a 180 s step whose shell tool stays alive, each run in its own folder project), read once all k agent trees are up; the slope of server RSS over k is what one more running thread costs. **Per agent tree**: the summed RSS of the server's descendants (the simulated agent is \`node\` + \`sh\` + \`sleep\`; shared pages count once per process, so this is an upper bound), divided by k; for opencode, one run's tree (\`opencode serve\` and its tool) against the fake GLM on 127.0.0.1, read while its bash \`sleep\` runs.`,
  );
  const rows = threads.rows;
  const idle = threads.idle;
  const perThread = slope(rows.map((r) => ({ x: r.k, y: r.serverMb })));
  const perTree = median(rows.filter((r) => r.k > 0).map((r) => r.treeMb / r.k));
  report.table(
    [
      "runs in flight",
      "server RSS MB",
      "Δ vs idle MB",
      "heapUsed MB",
      "agent processes",
      "agent trees RSS MB",
      "per tree MB",
    ],
    [
      ["idle", f1(idle.rssMb), "0.0", f1(idle.heapMb), 0, "0.0", "–"],
      ...rows.map((r) => [
        r.k,
        f1(r.serverMb),
        signed(r.serverMb - idle.rssMb),
        f1(r.heapMb),
        r.procs,
        f1(r.treeMb),
        r.k > 0 ? f1(r.treeMb / r.k) : "–",
      ]),
    ],
  );
  const ocTree = oc as OpencodeTree | null;
  report.paragraph(
    `Idle server: **${f1(idle.rssMb)} MB RSS**, ${f1(idle.heapMb)} MB heap, resources ${fmtResources(idle.resources)}, ${idle.listeners} bus listeners. ` +
      `One more running worker thread costs **${f1(perThread)} MB** of server RSS (least-squares slope over k = ${ks.join(", ")}); one simulated agent tree **${f1(perTree)} MB** (median over k). ` +
      (ocTree
        ? `One opencode run's tree: **${f1(ocTree.totalMb)} MB** over ${ocTree.procs.length} processes (${ocTree.procs.map((p) => `${p.name} ${f1(p.mb)} MB`).join(", ")}); its server (with the GLM gateway) ${f1(ocTree.serverIdleMb)} MB before the run, ${f1(ocTree.serverMb)} MB during it.`
        : `The opencode tree could not be measured: ${ocError ?? "unknown error"}.`),
  );

  // growth
  const all = [g.baseline, ...g.checkpoints];
  const half = Math.floor(g.runs / 2);
  // the checkpoint nearest the half-way mark, and the first and last checkpoints (threads up)
  const mid = g.checkpoints.reduce(
    (best, r) => (Math.abs(r.done - half) < Math.abs(best.done - half) ? r : best),
    g.checkpoints[0] ?? g.baseline,
  );
  const first = g.checkpoints[0] ?? g.baseline;
  const end = g.checkpoints.at(-1) ?? g.baseline;
  const failed = (g.byType.worker_failed ?? 0) + (g.byType.worker_stopped ?? 0);
  const perRunMs = (s: number) => (s * 1000) / g.runs;
  report.paragraph(
    `**Growth**: ${g.runs} one-chunk simulated runs (SIMULATED_CHUNK_MS=0: execute + review, two agent processes per run) through a fresh server with MAX_WORKERS=5, five folder projects, one spec per run (created beforehand through the REST API in ${g.createS.toFixed(0)} s). The bench keeps ten runs started-and-unfinished (five running, up to five queued) with \`POST /api/queue\` as the SSE feed reports runs finished, and reads the server every ${every} finished runs: RSS and resources as they are, then the heaps after a forced full GC — the server was started with \`--inspect=127.0.0.1:0\`, and a helper process asks its inspector for \`HeapProfiler.collectGarbage\` and \`Runtime.getHeapUsage\` in the main thread and in every worker thread. ` +
      `${g.runs} runs finished in ${g.drainS.toFixed(0)} s (${f1(g.runs / g.drainS)} runs/s; ${g.byType.worker_completed ?? 0} completed${failed > 0 ? `, ${failed} failed or stopped` : ""}); per run, the server process used ${f1(perRunMs(g.cpu.self))} ms of CPU in its own threads (main and workers) and its child processes (agents, git) ${f1(perRunMs(g.cpu.children))} ms — so on two idle cores ${g.runs} runs need at least ~${Math.round((perRunMs(g.cpu.self + g.cpu.children) * g.runs) / 2000)} s. The bench's SSE connection is one bus listener and one socket in every reading below.`,
  );
  const gcMain = (r: Reading) => (r.gc ? f1(r.gc.mainMb) : "–");
  const gcWorkers = (r: Reading) =>
    !r.gc
      ? "–"
      : r.gc.threads === 0
        ? "no threads"
        : r.gc.workersMb.length === 0
          ? `${r.gc.threads} idle threads did not answer`
          : `${f1(r.gc.workersMb.reduce((a, b) => a + b, 0))} (${r.gc.workersMb.length}${r.gc.workersMb.length < r.gc.threads ? ` of ${r.gc.threads}` : ""} × ${f1(meanOf(r.gc.workersMb))})`;
  const rowsOut = [g.baseline, ...g.checkpoints, g.drained, ...(g.afterIdle ? [g.afterIdle] : [])];
  report.table(
    [
      "reading",
      "finished runs",
      "RSS MB",
      "heapUsed MB",
      "main heap after GC MB",
      "worker heaps after GC MB (threads × mean)",
      "runs active",
      "bus listeners",
      "resources",
    ],
    rowsOut.map((r) => [
      r.label,
      r.label.startsWith("all done") ? g.runs : r.done,
      f1(r.rssMb),
      f1(r.heapMb),
      gcMain(r),
      gcWorkers(r),
      r.activeRuns,
      r.listeners,
      fmtResources(r.resources),
    ]),
  );

  // the verdict: heaps after GC (the honest leak signal) and RSS once the threads are gone
  const idleAfter = g.afterIdle ?? g.drained;
  const dMain = mid.gc && end.gc ? end.gc.mainMb - mid.gc.mainMb : null;
  const dMainAll =
    g.baseline.gc && idleAfter.gc ? idleAfter.gc.mainMb - g.baseline.gc.mainMb : null;
  // worker heaps: only readings where busy threads answered (idle pool threads do not)
  const withWorkers = g.checkpoints.filter((r) => (r.gc?.workersMb.length ?? 0) > 0);
  const workerMean = (r: Reading | undefined) =>
    r?.gc && r.gc.workersMb.length > 0 ? meanOf(r.gc.workersMb) : null;
  const wFirstR = withWorkers[0];
  const wMidR = withWorkers.reduce<Reading | undefined>(
    (best, r) => (!best || Math.abs(r.done - half) < Math.abs(best.done - half) ? r : best),
    undefined,
  );
  const wLastR = withWorkers.at(-1);
  const wFirst = workerMean(wFirstR);
  const wMid = workerMean(wMidR);
  const wEnd = workerMean(wLastR);
  const dWorker = wMid !== null && wEnd !== null && wLastR !== wMidR ? wEnd - wMid : null;
  const rssFirstHalf = mid.rssMb - first.rssMb;
  const rssSecondHalf = end.rssMb - mid.rssMb;
  const LIMIT_MB = 2;
  const flat = dMain !== null && dWorker !== null && dMain <= LIMIT_MB && dWorker <= LIMIT_MB;
  const resDiff = diffResources(g.baseline.resources, idleAfter.resources);
  const listenersBack = idleAfter.listeners === g.baseline.listeners;
  const na = (v: number | null) => (v === null ? "n/a" : `${signed(v)} MB`);
  report.paragraph(
    `**${flat ? "It flattens" : dMain === null || dWorker === null ? "Not determined (a GC reading failed)" : "It does not flatten"}** (rule: over the second half of the runs neither the main thread's heap after GC nor the mean worker thread's heap after GC grows by more than ${LIMIT_MB} MB). ` +
      `Main heap after GC: ${na(dMain)} from the ${mid.done}-run reading to the ${end.done}-run one, ${na(dMainAll)} from before the first run to the end. ` +
      `Worker heap after GC, mean per thread: ${wFirst === null ? "n/a" : `${f1(wFirst)} MB at ${wFirstR?.done} runs`}, ${wMid === null ? "n/a" : `${f1(wMid)} MB at ${wMidR?.done}`}, ${wEnd === null ? "n/a" : `${f1(wEnd)} MB at ${wLastR?.done}`} (${na(dWorker)} from ${wMidR?.done ?? "?"} to ${wLastR?.done ?? "?"}; a pool thread waiting idle does not answer the inspector, so readings taken when every run had just ended have none). ` +
      `RSS with the five threads up: ${signed(rssFirstHalf)} MB from ${first.done} to ${mid.done} runs, ${signed(rssSecondHalf)} MB from ${mid.done} to ${end.done} (RSS also holds freed memory the allocator keeps, so it is the weaker signal). ` +
      `${g.afterIdle ? `${(THREAD_IDLE_MS / 1000).toFixed(0)} s after the last run (the idle worker threads had ended)` : "After the last run"}: RSS ${f1(idleAfter.rssMb)} MB, ${signed(idleAfter.rssMb - g.baseline.rssMb)} MB against before the first run; ` +
      `resources (TCPSocketWrap aside: those are the bench's own connections) ${resDiff.length === 0 ? "are back to the counts before the first run" : `differ from before the first run: ${resDiff.join(", ")}`}; bus listeners ${listenersBack ? `back to ${idleAfter.listeners}` : `${g.baseline.listeners} before, ${idleAfter.listeners} after`}.`,
  );
  const points: CurvePoint[] = all.flatMap((r) => {
    const out: CurvePoint[] = [{ series: "RSS MB", x: r.done, y: round1(r.rssMb) }];
    if (r.gc) {
      out.push({ series: "main heap after GC MB", x: r.done, y: round1(r.gc.mainMb) });
      out.push({
        series: "worker heaps after GC MB (sum)",
        x: r.done,
        y: round1(r.gc.workersMb.reduce((a, b) => a + b, 0)),
      });
    }
    return out;
  });
  await report.curveChart("memory-growth", `Server memory over ${g.runs} completed runs`, points, {
    xTitle: "completed runs",
    yTitle: "MB",
  });
  await report.curveChart(
    "memory-threads",
    "Server RSS and agent-tree RSS by runs in flight (simulated)",
    rows.flatMap((r) => [
      { series: "server RSS MB", x: r.k, y: round1(r.serverMb) },
      { series: "agent trees RSS MB", x: r.k, y: round1(r.treeMb) },
    ]),
    { xTitle: "runs in flight", yTitle: "MB" },
  );
  if (quick) report.paragraph("Quick mode: sizes reduced.");
}

const round1 = (n: number) => Math.round(n * 10) / 10;
const meanOf = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

function fmtResources(r: Record<string, number>): string {
  const entries = Object.entries(r).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0 ? "none" : entries.map(([k, v]) => `${k} ${v}`).join(", ");
}

/**
 * Resource types whose count differs. TCPSocketWrap is left out: it counts the connections
 * the bench itself holds open (its keep-alive pool and the SSE feed), not the server's own.
 */
function diffResources(before: Record<string, number>, after: Record<string, number>): string[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return keys
    .filter((k) => k !== "TCPSocketWrap" && (before[k] ?? 0) !== (after[k] ?? 0))
    .map((k) => `${k} ${before[k] ?? 0} → ${after[k] ?? 0}`);
}
