import type { RunStore } from "@glm-workers/db/store";
import type { EventBus } from "./bus.ts";
import type { WorkerEvent, WorkerEventType } from "./types.ts";

export interface EventStreamOptions {
  workerId?: string | undefined;
  /** Only these event types (all when empty). */
  types?: readonly WorkerEventType[] | undefined;
  /** Resume after this id; `null`/absent starts at the live edge (no backlog) unless `backlog`. */
  lastEventId?: number | null | undefined;
  /** With no lastEventId: replay this many recent events first (0 = none). */
  backlog?: number;
  signal?: AbortSignal | undefined;
}

const PAGE = 1000;

/**
 * Every event after `lastEventId`, in id order, without gaps or repeats: subscribes to the live
 * bus first, then reads the backlog from the store, then drains the live buffer skipping ids
 * already sent. Ends when `signal` aborts; the bus listener is removed then. A worker filter
 * keeps that worker's events and the global ones (queue, settings).
 */
export async function* streamEvents(
  bus: EventBus,
  store: Pick<RunStore, "events" | "lastEventId">,
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
        const recent = await store.events({
          newest: true,
          limit: backlog,
          workerId: opts.workerId,
        });
        last = recent.length > 0 ? (recent[0]?.id ?? 1) - 1 : await store.lastEventId();
      } else {
        last = await store.lastEventId();
      }
    }
    for (;;) {
      const page = await store.events({ after: last, limit: PAGE });
      for (const row of page) {
        last = row.id;
        if (wanted(row)) yield row;
      }
      if (page.length < PAGE) break;
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
