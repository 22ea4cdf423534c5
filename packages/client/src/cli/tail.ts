import {
  ACTIVE_STATUSES,
  type Ctx,
  note,
  printJson,
  println,
  type WorkerEvent,
  type WorkerEventType,
  type WorkerView,
} from "./context.ts";
import { CliError, EXIT, toCliError } from "./errors.ts";
import { clock, plural, shortId } from "./output.ts";

/**
 * `tail <workerId>`: the run's last 200 log lines, then its live events through the
 * `workers.onEvent` subscription until it ends (a run that already ended: its log and its final
 * event). Answers the exit code of the outcome: 0 completed, 1 failed, 2 stopped. `--json`
 * writes every event as it came, one JSON object per line (NDJSON).
 */

/** Every event about one run (not the queue/settings ones). */
const TAIL_TYPES = [
  "worker_started",
  "worker_progress",
  "worker_paused",
  "worker_resumed",
  "worker_completed",
  "worker_failed",
  "worker_stopped",
  "worker_landed",
  "log",
  "tool",
  "chunk_updated",
  "usage_updated",
] as const satisfies readonly WorkerEventType[];

/** How many stored log lines come before the live ones. */
const BACKLOG = 200;
/** The safety net: how often the run's state is read while tailing (ms)… */
const POLL_MS = 3000;
/** …and how long an ended run's final event may take to arrive before the poll reports it. */
const GRACE_MS = 10_000;

export function exitCodeOf(status: string): number {
  if (status === "completed") return EXIT.completed;
  if (status === "stopped") return EXIT.stopped;
  return EXIT.failed;
}

function chunkTitles(ctx: Ctx, specId: string): Promise<Map<string, string>> {
  return ctx.client.specs.get
    .query({ id: specId })
    .then((spec) => new Map(spec.chunks.map((c) => [c.id, c.title])))
    .catch(() => new Map<string, string>());
}

/** Human lines of one event ("" when it shows nothing). */
function render(ctx: Ctx, event: WorkerEvent, titles: Map<string, string>): string {
  const { paint } = ctx;
  const time = paint("dim", clock(event.at));
  const progress = (v: WorkerView) => `${v.progress.passed}/${v.progress.total}`;
  switch (event.type) {
    case "log": {
      const style =
        event.level === "error"
          ? "red"
          : event.level === "warn"
            ? "yellow"
            : event.level === "debug"
              ? "dim"
              : null;
      return `${time} ${paint(style, event.line)}`;
    }
    case "tool": {
      if (event.status === "started") return "";
      const mark = event.status === "failed" ? paint("red", "✗") : paint("dim", "↳");
      return `${time} ${mark} ${paint("dim", [event.name, event.detail].filter(Boolean).join(" "))}`;
    }
    case "chunk_updated": {
      const { chunk } = event;
      const title = chunk.title ?? titles.get(chunk.id) ?? shortId(chunk.id);
      if (chunk.title) titles.set(chunk.id, chunk.title);
      if (event.event === "started") return `${time} ${paint("bold", `▸ ${title}`)}`;
      if (event.event === "inserted") return `${time} ${paint("cyan", `+ ${title} (fix)`)}`;
      if (event.event === "cancelled") return `${time} ${paint("dim", `– ${title} cancelled`)}`;
      if (event.event === "finished") {
        const ok = chunk.status === "completed";
        const mark = ok ? paint("green", "✓") : paint("red", "✗");
        const why = !ok && chunk.error ? `: ${chunk.error}` : "";
        return `${time} ${mark} ${title} ${chunk.status ?? "finished"}${why}`;
      }
      return "";
    }
    case "worker_started":
      return `${time} ${paint("cyan", `started (${event.reason}) on ${event.worker.executorLabel}`)}`;
    case "worker_paused":
      return `${time} ${paint("yellow", "paused")}`;
    case "worker_resumed":
      return `${time} ${paint("cyan", "resumed")}`;
    case "worker_completed":
      return `${time} ${paint("green", `✓ completed ${progress(event.worker)}`)}${changes(event.worker)}`;
    case "worker_failed":
      return `${time} ${paint("red", `✗ failed: ${event.error}`)}`;
    case "worker_stopped":
      return `${time} ${paint("magenta", `■ stopped: ${event.reason}`)}`;
    default:
      return "";
  }
}

function changes(view: WorkerView): string {
  const c = view.changes;
  return c ? ` · ${plural(c.files, "file")} +${c.additions} −${c.deletions}` : "";
}

/** The closing line for a run that had already ended (or whose end the subscription missed). */
function summary(ctx: Ctx, view: WorkerView): string {
  const { paint } = ctx;
  const p = `${view.progress.passed}/${view.progress.total}`;
  if (view.status === "completed") return paint("green", `✓ completed ${p}`) + changes(view);
  if (view.status === "stopped") return paint("magenta", `■ stopped ${p}`);
  return paint("red", view.error ? `✗ failed: ${view.error}` : `✗ failed ${p}`);
}

const ENDINGS: Partial<Record<WorkerEventType, string>> = {
  worker_completed: "completed",
  worker_failed: "failed",
  worker_stopped: "stopped",
};

/**
 * An event id that existed before now, as high as cheaply known: the newest log line of the
 * most recent workers (0 on a fresh server). Whatever happens from now on has a higher id.
 */
async function eventFloor(ctx: Ctx): Promise<number> {
  const { workers } = await ctx.client.workers.list.query({ recent: 3 });
  const newest = await Promise.all(
    workers
      .slice(0, 6)
      .map((w) => ctx.client.workers.logs.query({ id: w.id, limit: 1 }).catch(() => [])),
  );
  return Math.max(0, ...newest.flat().map((e) => e.id));
}

/**
 * Follows the worker until its run ends; resolves with the exit code of its outcome.
 *
 * Gapless: the floor is read first, the backlog second, the state last. A run still active at
 * the end has everything after the backlog's last line still to come (or, with no backlog yet,
 * everything after the floor), and the subscription replays from exactly there.
 */
export async function tailWorker(ctx: Ctx, view: WorkerView): Promise<number> {
  const { client, args } = ctx;
  const id = view.id;
  const titles = args.json ? new Map<string, string>() : await chunkTitles(ctx, view.specId);
  const floor = await eventFloor(ctx);
  const backlog = await client.workers.logs.query({ id, limit: BACKLOG });
  const now = await client.workers.get.query({ id });

  let lastShown = 0;
  const show = (event: WorkerEvent) => {
    if (event.id <= lastShown) return;
    lastShown = event.id;
    if (args.json) printJson(ctx, event);
    else {
      const text = render(ctx, event, titles);
      if (text) println(ctx, text);
    }
  };
  for (const event of backlog) show(event);

  const active = ACTIVE_STATUSES.has(now.status);
  if (!active && backlog.length === 0) {
    if (!args.json) println(ctx, summary(ctx, now));
    return exitCodeOf(now.status);
  }
  if (active && !args.json) {
    note(ctx, `following ${shortId(id)} · ${now.specTitle} (${now.status}); Ctrl-C to stop`);
  }
  // An ended run replays its last events (the final one included) from its last log line.
  const resumeAfter = backlog.length > 0 ? lastShown : floor;

  return new Promise<number>((resolve, reject) => {
    let done = false;
    let chain: Promise<void> = Promise.resolve();
    let warnedOffline = false;
    /** From when a poll may report the end itself (the final event has not arrived by then). */
    let giveUpAt: number | null = active ? null : Date.now() + GRACE_MS;

    const finish = (code: number | Error) => {
      if (done) return;
      done = true;
      clearInterval(poll);
      process.off("SIGINT", onSigint);
      sub.unsubscribe();
      if (code instanceof Error) reject(code);
      else resolve(code);
    };
    const fail = (err: unknown) => finish(toCliError(err, args.url));

    const handle = (event: WorkerEvent) => {
      if (done || event.workerId !== id) return;
      show(event);
      const ending = ENDINGS[event.type];
      if (ending) finish(exitCodeOf(ending));
    };

    const sub = client.workers.onEvent.subscribe(
      { workerId: id, types: [...TAIL_TYPES], lastEventId: String(resumeAfter) },
      {
        onData: (tracked) => {
          chain = chain.then(() => handle(tracked.data as WorkerEvent)).catch(fail);
        },
        onError: fail,
        onConnectionStateChange: (state) => {
          if (state.state === "connecting" && state.error && !warnedOffline && !args.json) {
            warnedOffline = true;
            const why = toCliError(state.error, args.url).message;
            note(ctx, `lost the server (${why}); reconnecting…`);
          } else if (state.state === "pending") warnedOffline = false;
        },
      },
    );

    // A safety net should the subscription never deliver the end: a slow poll of the run's
    // state; once it has been over for a while, the missed log lines and the outcome are shown.
    const poll = setInterval(() => {
      chain = chain
        .then(async () => {
          if (done) return;
          const latest = await client.workers.get.query({ id });
          if (ACTIVE_STATUSES.has(latest.status)) return;
          giveUpAt ??= Date.now() + GRACE_MS;
          if (Date.now() < giveUpAt || done) return;
          const missed = await client.workers.logs.query({ id, after: lastShown, limit: 5000 });
          for (const event of missed) show(event);
          if (!args.json) println(ctx, summary(ctx, latest));
          finish(exitCodeOf(latest.status));
        })
        .catch(() => {
          // the server is away: the subscription reconnects; the next tick tries again
        });
    }, POLL_MS);

    const onSigint = () => finish(new CliError("interrupted", { exitCode: EXIT.interrupted }));
    process.once("SIGINT", onSigint);
  });
}
