import { and, asc, desc, eq, inArray } from "drizzle-orm";
import { ConflictError, NotFoundError, ValidationError } from "../errors.ts";
import { type QueueItem, specs, type WorkerRow, workerQueue, workers } from "../schema.ts";
import { isUniqueViolation } from "../sqlite-errors.ts";
import type { WriteTx } from "../writer.ts";
import { type DatabaseHandle, isPermutation, newId, type Queryable } from "./shared.ts";
import { ACTIVE_WORKER_STATUSES, insertWorker, type WorkerInput } from "./workers.ts";

/** Queue order: priority high → low, then first come first served (id breaks exact ties). */
const queueOrder = [
  desc(workerQueue.priority),
  asc(workerQueue.addedAt),
  asc(workerQueue.id),
] as const;

export interface QueueAddInput {
  specId: string;
  priority?: number;
}

export interface ClaimOptions {
  /** Worker columns; defaults: status `running`, startedAt now. specId/projectId come from the item. */
  worker?: Omit<WorkerInput, "specId" | "projectId">;
  /** claimNext only: skip items this returns false for (admission: per-project limit, memory). */
  accept?: (item: QueueItem) => boolean;
  /** Extra work in the same transaction after the worker row exists (e.g. reset chunks). */
  prepare?: (tx: WriteTx, claimed: Claimed) => Promise<void>;
}

export interface Claimed {
  item: QueueItem;
  worker: WorkerRow;
}

async function orderedQueue(q: Queryable): Promise<QueueItem[]> {
  return q
    .select()
    .from(workerQueue)
    .orderBy(...queueOrder);
}

async function hasActiveWorker(tx: WriteTx, specId: string): Promise<boolean> {
  const [row] = await tx
    .select({ id: workers.id })
    .from(workers)
    .where(and(eq(workers.specId, specId), inArray(workers.status, [...ACTIVE_WORKER_STATUSES])))
    .limit(1);
  return row !== undefined;
}

/**
 * Removes `item` from the queue and creates its worker, inside the caller's transaction.
 * Returns null (and changes nothing) when the item is gone or its spec already has an active worker.
 */
export async function claimQueueItem(
  tx: WriteTx,
  item: QueueItem,
  options: ClaimOptions = {},
): Promise<Claimed | null> {
  if (await hasActiveWorker(tx, item.specId)) return null;
  const removed = await tx.delete(workerQueue).where(eq(workerQueue.id, item.id)).returning();
  const taken = removed[0];
  if (!taken) return null;
  const now = Date.now();
  const worker = await insertWorker(tx, {
    status: "running",
    startedAt: now,
    ...options.worker,
    specId: taken.specId,
    projectId: taken.projectId,
  });
  await tx
    .update(specs)
    .set({ status: "running", updatedAt: now })
    .where(eq(specs.id, taken.specId));
  const claimed = { item: taken, worker };
  if (options.prepare) await options.prepare(tx, claimed);
  return claimed;
}

export function createQueueRepository(database: DatabaseHandle) {
  const { db, write } = database;

  async function list(): Promise<QueueItem[]> {
    return orderedQueue(db);
  }

  async function get(id: string): Promise<QueueItem | null> {
    const [row] = await db.select().from(workerQueue).where(eq(workerQueue.id, id)).limit(1);
    return row ?? null;
  }

  async function getBySpec(specId: string): Promise<QueueItem | null> {
    const [row] = await db
      .select()
      .from(workerQueue)
      .where(eq(workerQueue.specId, specId))
      .limit(1);
    return row ?? null;
  }

  /** Queues a spec; ConflictError when it is already queued, NotFoundError when it does not exist. */
  async function add(input: QueueAddInput): Promise<QueueItem> {
    return write(async (tx) => {
      const [spec] = await tx
        .select({ projectId: specs.projectId })
        .from(specs)
        .where(eq(specs.id, input.specId))
        .limit(1);
      if (!spec) throw new NotFoundError("spec", input.specId);
      const row: QueueItem = {
        id: newId(),
        specId: input.specId,
        projectId: spec.projectId,
        priority: input.priority ?? 0,
        addedAt: Date.now(),
        waitReason: null,
      };
      try {
        await tx.insert(workerQueue).values(row);
      } catch (err) {
        if (isUniqueViolation(err))
          throw new ConflictError(`spec ${input.specId} is already queued`, { cause: err });
        throw err;
      }
      return row;
    });
  }

  async function remove(id: string): Promise<QueueItem> {
    return write(async (tx) => {
      const [row] = await tx.delete(workerQueue).where(eq(workerQueue.id, id)).returning();
      if (!row) throw new NotFoundError("queue item", id);
      return row;
    });
  }

  async function setPriority(id: string, priority: number): Promise<QueueItem> {
    return write(async (tx) => {
      const [row] = await tx
        .update(workerQueue)
        .set({ priority })
        .where(eq(workerQueue.id, id))
        .returning();
      if (!row) throw new NotFoundError("queue item", id);
      return row;
    });
  }

  /**
   * Makes `ids` (every queued id, exactly once) the queue order. The existing priorities are
   * handed out high → low along the new order and added_at is renumbered, so the order holds
   * under `priority DESC, added_at ASC` while the set of priority values stays the same.
   */
  async function reorder(ids: readonly string[]): Promise<QueueItem[]> {
    return write(async (tx) => {
      const current = await orderedQueue(tx);
      if (
        !isPermutation(
          ids,
          current.map((q) => q.id),
        )
      ) {
        throw new ValidationError("reorder must list every queued item exactly once");
      }
      const priorities = current.map((q) => q.priority).sort((a, b) => b - a);
      const base = Math.min(...current.map((q) => q.addedAt));
      for (const [i, id] of ids.entries()) {
        await tx
          .update(workerQueue)
          .set({ priority: priorities[i] ?? 0, addedAt: base + i })
          .where(eq(workerQueue.id, id));
      }
      return orderedQueue(tx);
    });
  }

  /** Records why an item still waits (null: nothing holds it back); false when the item is gone. */
  async function setWaitReason(id: string, reason: string | null): Promise<boolean> {
    const rows = await write((tx) =>
      tx
        .update(workerQueue)
        .set({ waitReason: reason })
        .where(eq(workerQueue.id, id))
        .returning({ id: workerQueue.id }),
    );
    return rows.length > 0;
  }

  /** Claims this item and creates its worker in one transaction (see `claimQueueItem`). */
  async function claim(id: string, options: ClaimOptions = {}): Promise<Claimed | null> {
    return write(async (tx) => {
      const [item] = await tx.select().from(workerQueue).where(eq(workerQueue.id, id)).limit(1);
      return item ? claimQueueItem(tx, item, options) : null;
    });
  }

  /** Claims the first item in queue order that `accept` admits and whose spec is not running. */
  async function claimNext(options: ClaimOptions = {}): Promise<Claimed | null> {
    return write(async (tx) => {
      for (const item of await orderedQueue(tx)) {
        if (options.accept && !options.accept(item)) continue;
        const claimed = await claimQueueItem(tx, item, options);
        if (claimed) return claimed;
      }
      return null;
    });
  }

  return {
    list,
    get,
    getBySpec,
    add,
    remove,
    setPriority,
    reorder,
    setWaitReason,
    claim,
    claimNext,
  };
}

export type QueueRepository = ReturnType<typeof createQueueRepository>;
