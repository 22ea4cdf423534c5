// Child process of the fan-out section: N subscribers of one transport to one server, each
// recording what it received and when. Kept out of the bench process so the clients' CPU is
// counted apart from the server's and the bench's own event loop is never what limits delivery.
//
//   node fanout-clients.js <url> <sse|trpc> <count>
//
// IPC. Child → parent: {type: "ready"} once every client is connected. Parent → child:
// {cmd: "max"} → {type: "max", maxId} (the highest event id any client got so far);
// {cmd: "finish", truth: number[]} (every event id the server stored in the measured window)
// → {type: "result", …} (see ClientsResult), then the child exits.
import { createGlmWorkersClient } from "@glm-workers/client";
import { WORKER_EVENT_TYPES } from "@glm-workers/db/enums";
import { EventSource } from "eventsource";

export type Transport = "sse" | "trpc";

/** What one client saw, judged against the server's stored events. */
export interface ClientTally {
  received: number;
  /** Stored events this client never got (skipped + late). */
  missing: number;
  /** Missing events older than one it did get: the stream passed them over for good. */
  skipped: number;
  /** Missing events newer than the newest it got: not delivered by the deadline. */
  late: number;
  /** Deliveries of an id this client had already received. */
  duplicates: number;
  /** Deliveries with an id lower than the previous one. */
  outOfOrder: number;
  /** Times the stream dropped and the client reconnected. */
  reconnects: number;
}

export interface ClientsResult {
  type: "result";
  clients: ClientTally[];
  /** Receive time − event `at`, ms, one per delivery; events stamped in the run thread. */
  threadStamped: number[];
  /** The same for events stamped by the store inside the write transaction. */
  storeStamped: number[];
  /** Receive time − the earliest receive time of the same event in this process, ms. */
  spread: number[];
  /** Connect time of all clients, ms. */
  connectMs: number;
  /** SSE only: mean length of an event's `data` field as the first client received it. */
  meanDataChars: number | null;
  /** Each event id some client missed → how many of this process's clients missed it. */
  missingIds: Record<number, number>;
  /** How long the clients still needed, once asked, to receive the newest event, ms. */
  waitedMs: number;
  /** CPU seconds this process has used in all (its threads), read as it reports. */
  cpuS: number;
  /** Date.now() of the last delivery of a measured event to any of its clients. */
  lastReceivedAt: number;
}

/** Events whose `at` comes from the run thread's message (run-sink.ts passes `msg.at`). */
const THREAD_STAMPED = new Set(["log", "tool", "chunk_updated", "worker_paused", "worker_resumed"]);

interface Recorder {
  ids: number[];
  recv: number[];
  reconnects: number;
  dataChars: number;
}

const eventAt = new Map<number, { at: number; thread: boolean }>();

function record(r: Recorder, id: number, at: number, type: string): void {
  // Date.now() on both ends: the server's `at` is Date.now() of the same machine.
  r.recv.push(Date.now());
  r.ids.push(id);
  if (!eventAt.has(id)) eventAt.set(id, { at, thread: THREAD_STAMPED.has(type) });
}

async function openSse(url: string, r: Recorder): Promise<() => void> {
  const es = new EventSource(`${url}/api/workers/events`);
  const onEvent = (e: { data: string }) => {
    const data = JSON.parse(e.data) as { id: number; at: number; type: string };
    record(r, data.id, data.at, data.type);
    r.dataChars += e.data.length;
  };
  for (const type of WORKER_EVENT_TYPES) es.addEventListener(type, onEvent);
  let opened = false;
  await new Promise<void>((resolve, reject) => {
    es.onopen = () => {
      opened = true;
      resolve();
    };
    es.onerror = (err) => {
      if (opened) r.reconnects++;
      else reject(new Error(`SSE connect failed: ${err.message ?? "error"}`));
    };
  });
  return () => es.close();
}

async function openTrpc(url: string, r: Recorder): Promise<() => void> {
  const client = createGlmWorkersClient({ url });
  let started = false;
  let sub: { unsubscribe(): void } | undefined;
  await new Promise<void>((resolve, reject) => {
    sub = client.workers.onEvent.subscribe(
      {},
      {
        onStarted: () => {
          if (!started) resolve();
          started = true;
        },
        onData: (tracked) => {
          const e = tracked.data;
          record(r, e.id, e.at, e.type);
        },
        onConnectionStateChange: (state) => {
          if (started && state.state === "connecting") r.reconnects++;
        },
        onError: (err) => {
          if (!started) reject(err);
        },
      },
    );
  });
  return () => sub?.unsubscribe();
}

function tally(
  r: Recorder,
  truth: ReadonlySet<number>,
  missingIds: Record<number, number>,
): ClientTally {
  const seen = new Set<number>();
  let received = 0;
  let duplicates = 0;
  let outOfOrder = 0;
  let prev = 0;
  for (const id of r.ids) {
    if (!truth.has(id)) continue; // before or after the measured window
    received++;
    if (seen.has(id)) duplicates++;
    seen.add(id);
    if (id < prev) outOfOrder++;
    prev = id;
  }
  let skipped = 0;
  let late = 0;
  const newest = Math.max(0, ...seen);
  for (const id of truth) {
    if (seen.has(id)) continue;
    missingIds[id] = (missingIds[id] ?? 0) + 1;
    if (id < newest) skipped++;
    else late++;
  }
  return {
    received,
    missing: skipped + late,
    skipped,
    late,
    duplicates,
    outOfOrder,
    reconnects: r.reconnects,
  };
}

async function main(): Promise<void> {
  const [url, kind, countArg] = process.argv.slice(2);
  const count = Number(countArg);
  if (!url || (kind !== "sse" && kind !== "trpc") || !(count > 0)) {
    throw new Error("usage: fanout-clients <url> <sse|trpc> <count>");
  }
  const send = (msg: unknown) =>
    new Promise<void>((resolve, reject) =>
      process.send?.(msg, (err: Error | null) => (err ? reject(err) : resolve())),
    );
  // Without the bench (it ended or crashed) there is no one to report to.
  process.on("disconnect", () => process.exit(0));
  const recorders: Recorder[] = [];
  const closers: (() => void)[] = [];
  const t0 = performance.now();
  // Open in waves, so the server sees a burst of connects but not 200 at one instant.
  const WAVE = 25;
  for (let i = 0; i < count; i += WAVE) {
    const wave = Array.from({ length: Math.min(WAVE, count - i) }, () => {
      const r: Recorder = { ids: [], recv: [], reconnects: 0, dataChars: 0 };
      recorders.push(r);
      return kind === "sse" ? openSse(url, r) : openTrpc(url, r);
    });
    closers.push(...(await Promise.all(wave)));
  }
  const connectMs = performance.now() - t0;
  await send({ type: "ready" });

  const truth = await new Promise<Set<number>>((resolve) => {
    process.on("message", (msg: { cmd?: string; truth?: number[] }) => {
      if (msg.cmd === "max") {
        let maxId = 0;
        for (const r of recorders) for (const id of r.ids) if (id > maxId) maxId = id;
        void send({ type: "max", maxId });
      }
      if (msg.cmd === "finish") resolve(new Set(msg.truth ?? []));
    });
  });
  // The last events may still be on their way. Each stream delivers in id order, so a client
  // that has the newest stored event will get nothing older any more: wait for that (bounded).
  const newestId = Math.max(0, ...truth);
  const waitStart = Date.now();
  const caughtUp = () => recorders.every((r) => r.ids.includes(newestId));
  while (!caughtUp() && Date.now() - waitStart < 60_000) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const waitedMs = Date.now() - waitStart;
  for (const close of closers) close();

  const first = new Map<number, number>();
  for (const r of recorders) {
    r.ids.forEach((id, k) => {
      const t = r.recv[k] as number;
      const f = first.get(id);
      if (f === undefined || t < f) first.set(id, t);
    });
  }
  const threadStamped: number[] = [];
  const storeStamped: number[] = [];
  const spread: number[] = [];
  let lastReceivedAt = 0;
  for (const r of recorders) {
    r.ids.forEach((id, k) => {
      if (!truth.has(id)) return; // outside the measured window
      const t = r.recv[k] as number;
      if (t > lastReceivedAt) lastReceivedAt = t;
      const e = eventAt.get(id);
      if (e) (e.thread ? threadStamped : storeStamped).push(t - e.at);
      spread.push(t - (first.get(id) ?? t));
    });
  }
  const missingIds: Record<number, number> = {};
  const result: ClientsResult = {
    type: "result",
    clients: recorders.map((r) => tally(r, truth, missingIds)),
    threadStamped,
    storeStamped,
    spread,
    connectMs,
    meanDataChars:
      kind === "sse" && recorders[0] && recorders[0].ids.length > 0
        ? recorders[0].dataChars / recorders[0].ids.length
        : null,
    missingIds,
    waitedMs,
    lastReceivedAt,
    cpuS: (() => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1e6;
    })(),
  };
  await send(result);
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stderr.write(`fanout-clients: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
