import { and, asc, desc, eq, inArray, isNull, lt, or } from "drizzle-orm";
import { NotFoundError } from "../errors.ts";
import { type NewWorkerRow, type WorkerRow, type WorkerStatus, workers } from "../schema.ts";
import type { WriteTx } from "../writer.ts";
import { type DatabaseHandle, definedOnly, newId } from "./shared.ts";

export const ACTIVE_WORKER_STATUSES = [
  "idle",
  "running",
  "paused",
] as const satisfies readonly WorkerStatus[];
export const FINISHED_WORKER_STATUSES = [
  "completed",
  "failed",
  "stopped",
] as const satisfies readonly WorkerStatus[];

/** Fields a caller sets when creating a worker; id and times are filled in. */
export type WorkerInput = Pick<NewWorkerRow, "specId" | "projectId"> &
  Partial<Omit<NewWorkerRow, "id" | "specId" | "projectId" | "createdAt" | "updatedAt">>;

/** Any column but the identity ones; `updatedAt` is set automatically. */
export type WorkerPatch = Partial<
  Omit<NewWorkerRow, "id" | "specId" | "projectId" | "createdAt" | "updatedAt">
>;

export interface WorkerListOptions {
  status?: WorkerStatus | readonly WorkerStatus[];
  limit?: number;
}

/** Inserts a worker inside an existing transaction. */
export async function insertWorker(tx: WriteTx, input: WorkerInput): Promise<WorkerRow> {
  const now = Date.now();
  const [row] = await tx
    .insert(workers)
    .values({
      ...definedOnly(input),
      specId: input.specId,
      projectId: input.projectId,
      id: newId(),
      createdAt: now,
      updatedAt: now,
    })
    .returning();
  if (!row) throw new Error("insert into workers returned no row");
  return row;
}

/** Conditional status change inside an existing transaction: applies only while status ∈ `from`. */
export async function transitionWorker(
  tx: WriteTx,
  id: string,
  from: readonly WorkerStatus[],
  patch: WorkerPatch,
): Promise<WorkerRow | null> {
  if (from.length === 0) return null;
  const [row] = await tx
    .update(workers)
    .set({ ...definedOnly(patch), updatedAt: Date.now() })
    .where(and(eq(workers.id, id), inArray(workers.status, [...from])))
    .returning();
  return row ?? null;
}

export function createWorkersRepository(database: DatabaseHandle) {
  const { db, write } = database;

  async function create(input: WorkerInput): Promise<WorkerRow> {
    return write((tx) => insertWorker(tx, input));
  }

  async function get(id: string): Promise<WorkerRow | null> {
    const [row] = await db.select().from(workers).where(eq(workers.id, id)).limit(1);
    return row ?? null;
  }

  /** Newest first. */
  async function list(options: WorkerListOptions = {}): Promise<WorkerRow[]> {
    const statuses =
      options.status === undefined
        ? []
        : typeof options.status === "string"
          ? [options.status]
          : [...options.status];
    const query = db
      .select()
      .from(workers)
      .where(statuses.length > 0 ? inArray(workers.status, statuses) : undefined)
      .orderBy(desc(workers.createdAt), asc(workers.id));
    return options.limit === undefined ? query : query.limit(options.limit);
  }

  /** Workers that hold a slot (idle = claimed but not launched yet, running, paused), oldest first. */
  async function listActive(): Promise<WorkerRow[]> {
    return db
      .select()
      .from(workers)
      .where(inArray(workers.status, [...ACTIVE_WORKER_STATUSES]))
      .orderBy(asc(workers.createdAt), asc(workers.id));
  }

  /** The active worker of a spec, if any (a spec never runs twice). */
  async function activeForSpec(specId: string): Promise<WorkerRow | null> {
    const [row] = await db
      .select()
      .from(workers)
      .where(and(eq(workers.specId, specId), inArray(workers.status, [...ACTIVE_WORKER_STATUSES])))
      .limit(1);
    return row ?? null;
  }

  async function update(id: string, patch: WorkerPatch): Promise<WorkerRow> {
    return write(async (tx) => {
      const [row] = await tx
        .update(workers)
        .set({ ...definedOnly(patch), updatedAt: Date.now() })
        .where(eq(workers.id, id))
        .returning();
      if (!row) throw new NotFoundError("worker", id);
      return row;
    });
  }

  /** Applies `patch` only while the worker's status is one of `from`; true when it applied. */
  async function transition(
    id: string,
    from: readonly WorkerStatus[],
    patch: WorkerPatch,
  ): Promise<boolean> {
    return (await write((tx) => transitionWorker(tx, id, from, patch))) !== null;
  }

  /** Renews the lease of the given workers; returns how many rows were updated. */
  async function heartbeat(
    ids: readonly string[],
    owner: string,
    expiresAt: number,
  ): Promise<number> {
    if (ids.length === 0) return 0;
    const rows = await write((tx) =>
      tx
        .update(workers)
        .set({ leaseOwner: owner, leaseExpiresAt: expiresAt })
        .where(inArray(workers.id, [...ids]))
        .returning({ id: workers.id }),
    );
    return rows.length;
  }

  /** Running workers whose lease expired (or never had one) at `now`. */
  async function findExpiredRunning(now: number): Promise<WorkerRow[]> {
    return db
      .select()
      .from(workers)
      .where(
        and(
          eq(workers.status, "running"),
          or(isNull(workers.leaseExpiresAt), lt(workers.leaseExpiresAt, now)),
        ),
      )
      .orderBy(asc(workers.createdAt), asc(workers.id));
  }

  async function remove(id: string): Promise<void> {
    await write(async (tx) => {
      const gone = await tx.delete(workers).where(eq(workers.id, id)).returning({ id: workers.id });
      if (gone.length === 0) throw new NotFoundError("worker", id);
    });
  }

  return {
    create,
    get,
    list,
    listActive,
    activeForSpec,
    update,
    transition,
    heartbeat,
    findExpiredRunning,
    remove,
  };
}

export type WorkersRepository = ReturnType<typeof createWorkersRepository>;
