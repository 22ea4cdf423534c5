import type { EventBus } from "./bus.ts";
import { type Db, eventsAfter } from "./store.ts";
import type { WorkerEvent } from "./types.ts";

export interface EventStreamOptions {
  workerId?: string | undefined;
  /** Only these event types (all when empty). */
  types?: readonly string[] | undefined;
  /** Resume after this id; `null`/absent starts at the live edge (no backlog) unless `backlog`. */
  lastEventId?: number | null | undefined;
  /** With no lastEventId: replay this many recent events first (0 = none). */
  backlog?: number;
  signal?: AbortSignal | undefined;
}

/**
 * Every event after `lastEventId`, in id order, without gaps or repeats: subscribes to the live
 * bus first, then reads the backlog from the database, then drains the live buffer skipping ids
 * already sent. Ends when `signal` aborts; the bus listener is removed then.
 */
export async function* streamEvents(
  bus: EventBus,
  db: Db,
  opts: EventStreamOptions,
): AsyncGenerator<WorkerEvent> {
  const live = bus.stream(opts.signal);
  try {
    const wanted = (e: WorkerEvent) =>
      (!opts.workerId || e.workerId === opts.workerId || e.workerId === null) &&
      (!opts.types || opts.types.length === 0 || opts.types.includes(e.type));
    let last = opts.lastEventId ?? null;
    if (last === null) {
      const backlog = opts.backlog ?? 0;
      if (backlog > 0) {
        const recent = await recentEvents(db, backlog, opts);
        last = recent.length > 0 ? (recent[0]?.id ?? 1) - 1 : await maxEventId(db);
      } else {
        last = await maxEventId(db);
      }
    }
    for (;;) {
      const page = await eventsAfter(db, last, { limit: 1000 });
      for (const row of page) {
        last = row.id;
        if (wanted(row)) yield row;
      }
      if (page.length < 1000) break;
    }
    for await (const row of live) {
      if (row.id <= last) continue;
      last = row.id;
      if (wanted(row)) yield row;
    }
  } finally {
    await live.return?.();
  }
}

async function maxEventId(db: Db): Promise<number> {
  const [row] = await eventsAfter(db, 0, { limit: 1, newestFirst: true });
  return row?.id ?? 0;
}

async function recentEvents(db: Db, n: number, opts: EventStreamOptions): Promise<WorkerEvent[]> {
  const rows = await eventsAfter(db, 0, {
    limit: n,
    newestFirst: true,
    ...(opts.workerId ? { workerId: opts.workerId } : {}),
  });
  return rows.reverse();
}
