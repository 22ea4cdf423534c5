// The mixed API traffic of `pnpm load`: autocannon instances of one connection each, every
// request kind spread over several of them at fixed rates (autocannon's `overallRate`), all run
// at once in this process. Starts and stops share one connection so that each stop is followed
// by the start that takes its slot.
import autocannon from "autocannon";
import type { RunKeeper } from "./load-runs.ts";

export interface KindResult {
  name: string;
  /** Requests per second asked of autocannon. */
  targetRate: number;
  connections: number;
  /** Responses received (any status). */
  responses: number;
  ok: number;
  /** Responses with a status outside 2xx, by status. */
  non2xx: Record<string, number>;
  /** Connection errors (timeouts included) and timeouts alone. */
  socketErrors: number;
  timeouts: number;
  /** Response times in ms, one per response (what the latency columns are computed from). */
  samples: number[];
  durationS: number;
}

interface ReadKind {
  name: string;
  rate: number;
  connections: number;
  request: autocannon.Request;
}

const JSON_HEADERS = { "content-type": "application/json" };

/** Runs one autocannon instance; resolves with its result and the response times it saw. */
function runInstance(
  url: string,
  opts: Omit<autocannon.Options, "url">,
  onReqError?: (err: unknown) => void,
): Promise<{ result: autocannon.Result; samples: number[] }> {
  return new Promise((resolve, reject) => {
    const samples: number[] = [];
    const instance = autocannon(
      {
        url,
        timeout: 10,
        // autocannon's coordinated-omission correction uses ceil(1 / rate) as the expected
        // interval in ms (1 ms for any rate above 1/s) and so adds made-up fast samples; the
        // raw response times are the honest figure here
        ignoreCoordinatedOmission: true,
        ...opts,
      },
      (err, result) => (err ? reject(err) : resolve({ result, samples })),
    );
    instance.on("response", (_client, _status, _bytes, ms) => samples.push(ms));
    if (onReqError) instance.on("reqError", onReqError);
  });
}

function non2xxOf(result: autocannon.Result): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [code, s] of Object.entries(result.statusCodeStats ?? {})) {
    if (!code.startsWith("2")) out[code] = s.count ?? 0;
  }
  return out;
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface TrafficPlan {
  url: string;
  projectId: string;
  keeper: RunKeeper;
  durationS: number;
  /** Start/stop pairs per second. */
  cyclesPerSecond: number;
}

/**
 * The whole mix, concurrently. Each kind runs as `connections` one-connection instances whose
 * starts are spread over the first second: autocannon's rate limit is a per-second quota per
 * connection, so connections started together would all send at the same instant every second.
 * Spread out, the server sees a steady stream instead of one burst a second.
 */
export async function runTraffic(plan: TrafficPlan): Promise<KindResult[]> {
  const { url, keeper } = plan;
  const reads: ReadKind[] = [
    {
      name: "list workers",
      rate: 150,
      connections: 10,
      request: { method: "GET", path: "/api/workers" },
    },
    {
      name: "get worker",
      rate: 160,
      connections: 10,
      request: {
        method: "GET",
        setupRequest: (req) => ({ ...req, path: `/api/workers/${keeper.randomWorker()}` }),
      },
    },
    {
      name: "worker logs",
      rate: 120,
      connections: 10,
      request: {
        method: "GET",
        setupRequest: (req) => ({
          ...req,
          path: `/api/workers/${keeper.randomWorker()}/logs?limit=200`,
        }),
      },
    },
    {
      name: "list specs",
      rate: 86,
      connections: 6,
      request: { method: "GET", path: `/api/projects/${plan.projectId}/specs` },
    },
  ];

  // interleave the kinds' connections, then give each a start offset within the first second
  const slots: { kind: ReadKind; rate: number }[] = [];
  const most = Math.max(...reads.map((k) => k.connections));
  for (let i = 0; i < most; i++) {
    for (const kind of reads) {
      if (i >= kind.connections) continue;
      // the kind's rate split over its connections, the remainder to the first ones
      const base = Math.floor(kind.rate / kind.connections);
      slots.push({ kind, rate: base + (i < kind.rate % kind.connections ? 1 : 0) });
    }
  }
  const step = 1000 / (slots.length + 1);
  const runs = slots.map(async (slot, i) => {
    await delay((i + 1) * step);
    return { kind: slot.kind, ...(await runInstance(url, oneConnection(slot, plan.durationS))) };
  });
  const [done, churn] = await Promise.all([Promise.all(runs), runStartStop(plan, 0)]);

  const results = reads.map((kind): KindResult => {
    const mine = done.filter((d) => d.kind === kind);
    const non2xx: Record<string, number> = {};
    for (const d of mine) {
      for (const [code, n] of Object.entries(non2xxOf(d.result)))
        non2xx[code] = (non2xx[code] ?? 0) + n;
    }
    return {
      name: kind.name,
      targetRate: kind.rate,
      connections: kind.connections,
      responses: mine.reduce((s, d) => s + d.samples.length, 0),
      ok: mine.reduce((s, d) => s + d.result["2xx"], 0),
      non2xx,
      socketErrors: mine.reduce((s, d) => s + d.result.errors, 0),
      timeouts: mine.reduce((s, d) => s + d.result.timeouts, 0),
      samples: mine.flatMap((d) => d.samples),
      durationS: Math.max(0, ...mine.map((d) => d.result.duration)),
    };
  });
  return [...results, ...churn];
}

function oneConnection(
  slot: { kind: ReadKind; rate: number },
  durationS: number,
): Omit<autocannon.Options, "url"> {
  return {
    title: slot.kind.name,
    connections: 1,
    overallRate: slot.rate,
    duration: durationS,
    requests: [slot.kind.request],
  };
}

/** One connection alternating "stop the oldest run" and "start a free spec". */
async function runStartStop(plan: TrafficPlan, offsetMs: number): Promise<KindResult[]> {
  const { url, keeper } = plan;
  await delay(offsetMs);
  type Kind = "stop" | "start";
  const mk = (name: string): KindResult => ({
    name,
    targetRate: plan.cyclesPerSecond,
    connections: 1,
    responses: 0,
    ok: 0,
    non2xx: {},
    socketErrors: 0,
    timeouts: 0,
    samples: [],
    durationS: 0,
  });
  const rows: Record<Kind, KindResult> = { stop: mk("stop run"), start: mk("start run") };
  // one connection: at most one request is in flight, so these describe it
  let pending: Kind = "stop";
  let sentAt = 0;
  let stopping: { id: string; specId: string; status: string } | null = null;
  let starting: string | null = null;
  const answered = (kind: Kind, status: number) => {
    const row = rows[kind];
    row.responses++;
    row.samples.push(performance.now() - sentAt);
    if (status >= 200 && status < 300) row.ok++;
    else row.non2xx[String(status)] = (row.non2xx[String(status)] ?? 0) + 1;
  };
  const { result } = await runInstance(
    url,
    {
      title: "start/stop",
      connections: 1,
      // a stop or start waits for the run's thread and several writes: give it time to answer
      timeout: 30,
      overallRate: plan.cyclesPerSecond * 2,
      duration: plan.durationS,
      requests: [
        {
          method: "POST",
          setupRequest: (req) => {
            pending = "stop";
            sentAt = performance.now();
            const row = keeper.takeOldest();
            stopping = row;
            return { ...req, path: `/api/workers/${row?.id ?? "none"}/stop` };
          },
          onResponse: (status) => {
            answered("stop", status);
            if (stopping && status < 300) keeper.onStopped(stopping);
            stopping = null;
          },
        },
        {
          method: "POST",
          path: "/api/workers",
          headers: JSON_HEADERS,
          setupRequest: (req) => {
            pending = "start";
            sentAt = performance.now();
            starting = keeper.freeSpec();
            return { ...req, body: JSON.stringify({ specId: starting ?? "none" }) };
          },
          onResponse: (status, body) => {
            answered("start", status);
            const specId = starting;
            starting = null;
            if (!specId) return;
            try {
              const res = JSON.parse(body) as {
                worker?: { id: string; specId: string; status: string };
              };
              if (status === 201 && res.worker) keeper.onStarted(res.worker);
              else keeper.release(specId, status === 202);
            } catch {
              keeper.release(specId, false);
            }
          },
        },
      ],
    },
    (err) => {
      rows[pending].socketErrors++;
      if (err instanceof Error && /timed out/.test(err.message)) rows[pending].timeouts++;
      // no answer: the start may still happen; the keeper's next poll tells
      if (pending === "start" && starting) keeper.release(starting, true);
      starting = null;
      stopping = null;
    },
  );
  for (const row of Object.values(rows)) row.durationS = result.duration;
  return [rows.stop, rows.start];
}
