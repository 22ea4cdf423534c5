import { count, eq, sql } from "drizzle-orm";
import { ConflictError, NotFoundError, ValidationError } from "../errors.ts";
import { type NewEvent, QUEUE_EVENT_ITEMS, type QueueItemView } from "../events.ts";
import { isPermutation, newId, type Queryable } from "../repositories/shared.ts";
import { chunks, type QueueItem, settings, specs, workerQueue } from "../schema.ts";
import { isUniqueViolation } from "../sqlite-errors.ts";
import type { WriteTx } from "../writer.ts";
import { reorderPriorities } from "./queue-order.ts";
import { activeWorkerOf, queueItemView, queueLength, queueOrder, queueViews } from "./views.ts";

/** Queue operations, each inside the caller's transaction; they return the event to publish. */

export const SETTING_QUEUE_PAUSED = "queuePaused";
/** Why the queue is held when the product held it (e.g. the upstream refused the key). */
export const SETTING_QUEUE_HOLD_REASON = "queueHoldReason";

export async function queuePaused(q: Queryable): Promise<boolean> {
  const [row] = await q
    .select({ value: settings.value })
    .from(settings)
    .where(eq(settings.key, SETTING_QUEUE_PAUSED))
    .limit(1);
  return row?.value === true;
}

export async function queueHoldReason(q: Queryable): Promise<string | null> {
  const [row] = await q
    .select({ value: settings.value })
    .from(settings)
    .where(eq(settings.key, SETTING_QUEUE_HOLD_REASON))
    .limit(1);
  return typeof row?.value === "string" && row.value ? row.value : null;
}

/**
 * `queue_updated` with the queue as it stands inside `tx`: its head (QUEUE_EVENT_ITEMS) and
 * its length, so an event stays small however long the queue grows.
 */
export async function queueUpdated(q: Queryable): Promise<NewEvent> {
  const [queue, total, paused, holdReason] = await Promise.all([
    queueViews(q, { limit: QUEUE_EVENT_ITEMS }),
    queueLength(q),
    queuePaused(q),
    queueHoldReason(q),
  ]);
  return {
    type: "queue_updated",
    workerId: null,
    specId: null,
    payload: { queue, total, paused, holdReason: paused ? holdReason : null },
  };
}

export function orderedQueue(q: Queryable): Promise<QueueItem[]> {
  return q
    .select()
    .from(workerQueue)
    .orderBy(...queueOrder);
}

async function itemView(q: Queryable, id: string): Promise<QueueItemView> {
  const item = await queueItemView(q, id);
  if (!item) throw new NotFoundError("queue item", id);
  return item;
}

/**
 * Queues a spec, with the model the run should use when one was asked for (else the spec's or
 * the server's default, resolved at claim). NotFound when the spec does not exist, Validation
 * when it has no chunks, Conflict when it is already running, paused or queued.
 */
export async function enqueue(
  tx: WriteTx,
  input: { specId: string; priority: number; model?: string | null },
  opts: Announce = {},
): Promise<{ item: QueueItemView; events: NewEvent[] }> {
  const [spec] = await tx
    .select({ projectId: specs.projectId })
    .from(specs)
    .where(eq(specs.id, input.specId))
    .limit(1);
  if (!spec) throw new NotFoundError("spec", input.specId);
  const [chunkCount] = await tx
    .select({ n: count() })
    .from(chunks)
    .where(eq(chunks.specId, input.specId));
  if (!chunkCount || chunkCount.n === 0) throw new ValidationError("the spec has no chunks to run");
  const running = await activeWorkerOf(tx, input.specId);
  if (running) throw new ConflictError(`spec is already ${running.status} (worker ${running.id})`);
  const [queued] = await tx
    .select({ id: workerQueue.id })
    .from(workerQueue)
    .where(eq(workerQueue.specId, input.specId))
    .limit(1);
  if (queued) throw new ConflictError("spec is already queued");
  const id = newId();
  try {
    await tx.insert(workerQueue).values({
      id,
      specId: input.specId,
      projectId: spec.projectId,
      priority: input.priority,
      addedAt: Date.now(),
      waitReason: null,
      model: input.model ?? null,
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new ConflictError("spec is already queued", { cause: err });
    throw err;
  }
  return {
    item: await itemView(tx, id),
    events: opts.announce === false ? [] : [await queueUpdated(tx)],
  };
}

/**
 * `announce: false`: the change stores no `queue_updated`; the caller announces the queue later,
 * once for many changes (the orchestrator's admission pass does, after a burst of enqueues).
 */
export interface Announce {
  announce?: boolean;
}

export async function removeQueueItem(tx: WriteTx, id: string): Promise<NewEvent[]> {
  const removed = await tx.delete(workerQueue).where(eq(workerQueue.id, id)).returning();
  if (removed.length === 0) throw new NotFoundError("queue item", id);
  return [await queueUpdated(tx)];
}

export async function setQueuePriority(
  tx: WriteTx,
  id: string,
  priority: number,
): Promise<{ item: QueueItemView; events: NewEvent[] }> {
  const updated = await tx
    .update(workerQueue)
    .set({ priority })
    .where(eq(workerQueue.id, id))
    .returning();
  if (updated.length === 0) throw new NotFoundError("queue item", id);
  return { item: await itemView(tx, id), events: [await queueUpdated(tx)] };
}

/** `ids` is the full new order of the queue; priorities change only where the order needs it. */
export async function reorderQueue(
  tx: WriteTx,
  ids: readonly string[],
): Promise<{ queue: QueueItemView[]; events: NewEvent[] }> {
  const rows = await orderedQueue(tx);
  if (
    !isPermutation(
      ids,
      rows.map((r) => r.id),
    )
  ) {
    throw new ValidationError(
      `ids must list every queued item exactly once (${rows.length} queued, ${ids.length} given)`,
    );
  }
  for (const r of reorderPriorities(rows, ids)) {
    await tx
      .update(workerQueue)
      .set({ priority: r.priority, addedAt: r.addedAt })
      .where(eq(workerQueue.id, r.id));
  }
  return { queue: await queueViews(tx), events: [await queueUpdated(tx)] };
}

/**
 * Moves one item to a 1-based `position` (clamped to the queue), the others keeping their order;
 * priorities change only where the new order needs it (as with `reorderQueue`).
 */
export async function moveQueueItem(
  tx: WriteTx,
  id: string,
  position: number,
): Promise<{ item: QueueItemView; events: NewEvent[] }> {
  const rows = await orderedQueue(tx);
  const from = rows.findIndex((r) => r.id === id);
  if (from < 0) throw new NotFoundError("queue item", id);
  const moved = rows[from] as QueueItem;
  const rest = rows.filter((r) => r.id !== id);
  const to = Math.max(0, Math.min(rest.length, position - 1));
  if (to === from) return { item: await itemView(tx, id), events: [] };
  const placed = placeBetween(moved, rest[to - 1] ?? null, rest[to] ?? null);
  if (placed) {
    // one row changes: the moved item takes values that sort it between its new neighbours
    await tx.update(workerQueue).set(placed).where(eq(workerQueue.id, id));
  } else {
    const ids = rest.map((r) => r.id);
    ids.splice(to, 0, id);
    for (const r of reorderPriorities(rows, ids)) {
      await tx
        .update(workerQueue)
        .set({ priority: r.priority, addedAt: r.addedAt })
        .where(eq(workerQueue.id, r.id));
    }
  }
  return { item: await itemView(tx, id), events: [await queueUpdated(tx)] };
}

/**
 * Priority and time added that put `item` right after `before` and right before `after` in
 * queue order (priority high → low, then added first), changing its priority only as far as
 * its neighbours require; null when no such values exist (equal neighbours with no room).
 */
function placeBetween(
  item: QueueItem,
  before: QueueItem | null,
  after: QueueItem | null,
): { priority: number; addedAt: number } | null {
  if (!before && !after) return { priority: item.priority, addedAt: item.addedAt };
  if (!before && after) return { priority: after.priority, addedAt: after.addedAt - 1 };
  if (before && !after) return { priority: before.priority, addedAt: before.addedAt + 1 };
  if (!before || !after) return null;
  if (before.priority === after.priority) {
    if (after.addedAt - before.addedAt < 2) return null;
    return {
      priority: before.priority,
      addedAt: Math.floor((before.addedAt + after.addedAt) / 2),
    };
  }
  const priority = Math.min(Math.max(item.priority, after.priority), before.priority);
  if (priority === before.priority) return { priority, addedAt: before.addedAt + 1 };
  if (priority === after.priority) return { priority, addedAt: after.addedAt - 1 };
  return { priority, addedAt: item.addedAt };
}

/**
 * Records why every queued item waits in one statement: items of a project in `byProject` get
 * that project's reason, items of a project in `keep` keep theirs, the others get `rest`
 * (`null`: nothing holds it back). Only rows whose reason changes are written; a
 * `queue_updated` is returned when any did.
 */
export async function setQueueWaitReasons(
  tx: WriteTx,
  reasons: {
    byProject: ReadonlyMap<string, string | null>;
    rest: string | null;
    keep?: readonly string[];
  },
): Promise<boolean> {
  const cases = [
    ...[...reasons.byProject].map(([projectId, reason]) => sql`WHEN ${projectId} THEN ${reason}`),
    ...(reasons.keep ?? []).map(
      (projectId) => sql`WHEN ${projectId} THEN ${workerQueue.waitReason}`,
    ),
  ];
  const reason =
    cases.length > 0
      ? sql`(CASE ${workerQueue.projectId} ${sql.join(cases, sql` `)} ELSE ${reasons.rest} END)`
      : sql`${reasons.rest}`;
  const changed = await tx
    .update(workerQueue)
    .set({ waitReason: reason })
    .where(sql`${workerQueue.waitReason} IS NOT ${reason}`);
  return changed.rowsAffected > 0;
}

/** Records why items still wait (`null`: nothing holds it back); skips items that are gone. */
export async function setWaitReasons(
  tx: WriteTx,
  reasons: ReadonlyArray<{ id: string; waitReason: string | null }>,
): Promise<NewEvent[]> {
  if (reasons.length === 0) return [];
  for (const r of reasons) {
    await tx.update(workerQueue).set({ waitReason: r.waitReason }).where(eq(workerQueue.id, r.id));
  }
  return [await queueUpdated(tx)];
}
