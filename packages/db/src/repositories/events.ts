import { and, asc, desc, eq, gt, inArray, lt, lte, max } from "drizzle-orm";
import type { WorkerEventType } from "../enums.ts";
import { ValidationError } from "../errors.ts";
import { type WorkerEventRow, workerEvents } from "../schema.ts";
import { coerceError } from "../sqlite-errors.ts";
import type { WriteTx } from "../writer.ts";
import type { DatabaseHandle, Queryable } from "./shared.ts";

export interface EventInput {
  workerId?: string | null;
  specId?: string | null;
  type: WorkerEventType;
  payload?: Record<string, unknown>;
  /** Epoch ms; defaults to now. */
  at?: number;
}

export interface EventQuery {
  workerId?: string | undefined;
  types?: readonly WorkerEventType[] | undefined;
  /** Default 1000. */
  limit?: number | undefined;
}

function eventConditions(query: Omit<EventQuery, "limit">) {
  const conds = [];
  if (query.workerId !== undefined) conds.push(eq(workerEvents.workerId, query.workerId));
  if (query.types && query.types.length > 0)
    conds.push(inArray(workerEvents.type, [...query.types]));
  return conds;
}

/** Events with id > lastId, oldest first. */
export function eventsAfter(
  q: Queryable,
  lastId: number,
  query: EventQuery = {},
): Promise<WorkerEventRow[]> {
  return q
    .select()
    .from(workerEvents)
    .where(and(gt(workerEvents.id, lastId), ...eventConditions(query)))
    .orderBy(asc(workerEvents.id))
    .limit(query.limit ?? 1000);
}

/** The newest `limit` events matching `query`, oldest first (a log tail, a replay window). */
export async function latestEvents(
  q: Queryable,
  limit: number,
  query: Omit<EventQuery, "limit"> = {},
): Promise<WorkerEventRow[]> {
  const conds = eventConditions(query);
  const rows = await q
    .select()
    .from(workerEvents)
    .where(conds.length > 0 ? and(...conds) : undefined)
    .orderBy(desc(workerEvents.id))
    .limit(limit);
  return rows.reverse();
}

/** The id of the newest event (0 when there is none). */
export async function lastEventId(q: Queryable): Promise<number> {
  const [row] = await q.select({ id: max(workerEvents.id) }).from(workerEvents);
  return row?.id ?? 0;
}

export interface TrimOptions {
  /** Delete events older than this many ms (relative to `now`). */
  olderThanMs?: number;
  /** Never delete the newest `keepLast` events; alone, delete everything older than them. */
  keepLast?: number;
  now?: number;
}

interface AppendRequest {
  events: readonly EventInput[];
  resolve: (rows: WorkerEventRow[]) => void;
  reject: (err: Error) => void;
}

/** Rows per INSERT statement (6 columns each, well under SQLite's bound-parameter limit). */
const ROWS_PER_INSERT = 500;

/** Appends events inside an existing transaction; returns the stored rows with their ids, ascending. */
export async function insertEvents(
  tx: WriteTx,
  events: readonly EventInput[],
): Promise<WorkerEventRow[]> {
  if (events.length === 0) return [];
  const now = Date.now();
  const rows = events.map((e) => ({
    workerId: e.workerId ?? null,
    specId: e.specId ?? null,
    type: e.type,
    payload: e.payload ?? {},
    at: e.at ?? now,
  }));
  const out: WorkerEventRow[] = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    const part = rows.slice(i, i + ROWS_PER_INSERT);
    const ids = await tx.insert(workerEvents).values(part).returning({ id: workerEvents.id });
    // One statement assigns ids in VALUES order; RETURNING's own order is not guaranteed.
    const sorted = ids.map((r) => r.id).sort((a, b) => a - b);
    if (sorted.length !== part.length)
      throw new Error("insert into worker_events returned a wrong row count");
    part.forEach((row, k) => {
      out.push({ ...row, id: sorted[k] as number });
    });
  }
  return out;
}

/** Deletes by retention inside an existing transaction; returns how many rows went. */
export async function trimEvents(tx: WriteTx, options: TrimOptions): Promise<number> {
  const { olderThanMs, keepLast } = options;
  if (olderThanMs === undefined && keepLast === undefined) {
    throw new ValidationError("trim needs olderThanMs and/or keepLast");
  }
  const conds = [];
  if (olderThanMs !== undefined)
    conds.push(lt(workerEvents.at, (options.now ?? Date.now()) - olderThanMs));
  if (keepLast !== undefined) {
    const [edge] = await tx
      .select({ id: workerEvents.id })
      .from(workerEvents)
      .orderBy(desc(workerEvents.id))
      .limit(1)
      .offset(Math.max(0, Math.floor(keepLast)));
    if (!edge) return 0; // keepLast or fewer events exist
    conds.push(lte(workerEvents.id, edge.id));
  }
  const result = await tx.delete(workerEvents).where(and(...conds));
  return result.rowsAffected;
}

export function createEventsRepository(database: DatabaseHandle) {
  const { db, write } = database;
  let open: AppendRequest[] | null = null;

  /**
   * Appends events and returns them with their ids, ascending. Appends that arrive before the
   * pending insert runs share it: one multi-row INSERT in one group-committed write.
   */
  function append(events: readonly EventInput[]): Promise<WorkerEventRow[]> {
    if (events.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      if (!open) open = startGroup();
      open.push({ events, resolve, reject });
    });
  }

  /** A group of appends, closed once its write starts running (retries reuse the same group). */
  function startGroup(): AppendRequest[] {
    const group: AppendRequest[] = [];
    write(async (tx) => {
      if (open === group) open = null;
      return insertEvents(
        tx,
        group.flatMap((r) => r.events),
      );
    }).then(
      (rows) => {
        let at = 0;
        for (const r of group) {
          r.resolve(rows.slice(at, at + r.events.length));
          at += r.events.length;
        }
      },
      (err: unknown) => {
        if (group.length === 1) {
          group[0]?.reject(coerceError(err));
          return;
        }
        // One bad request must not fail its neighbours: retry each on its own.
        for (const r of group) write((tx) => insertEvents(tx, r.events)).then(r.resolve, r.reject);
      },
    );
    return group;
  }

  /** Events with id > lastId, oldest first. */
  function after(lastId: number, query: EventQuery = {}): Promise<WorkerEventRow[]> {
    return eventsAfter(db, lastId, query);
  }

  /** The newest `limit` events of a worker, oldest first (the log tail). */
  function tail(
    workerId: string,
    limit: number,
    query: Pick<EventQuery, "types"> = {},
  ): Promise<WorkerEventRow[]> {
    return latestEvents(db, limit, { ...query, workerId });
  }

  function lastId(): Promise<number> {
    return lastEventId(db);
  }

  /** Retention: see `TrimOptions`. */
  async function trim(options: TrimOptions): Promise<number> {
    return write((tx) => trimEvents(tx, options));
  }

  return { append, after, tail, lastId, trim };
}

export type EventsRepository = ReturnType<typeof createEventsRepository>;
