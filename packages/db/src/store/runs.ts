import { and, asc, count, desc, eq, inArray, isNotNull, isNull, lt, or } from "drizzle-orm";
import {
  ACTIVE_WORKER_STATUSES,
  type ChunkEvent,
  type FinishedWorkerStatus,
  type SpecStatus,
  type StartReason,
} from "../enums.ts";
import type { Changes, ChunkPatch, NewEvent, Progress, WorkerView } from "../events.ts";
import { applyChunkPatch, insertChunkAfter, resetRunningChunks } from "../repositories/chunks.ts";
import { definedOnly, newId, type Queryable } from "../repositories/shared.ts";
import {
  type Chunk,
  chunks,
  type NewWorkerRow,
  type Project,
  projects,
  type Spec,
  specs,
  type WorkerRow,
  workerQueue,
  workers,
} from "../schema.ts";
import type { WriteTx } from "../writer.ts";
import { type Announce, queueUpdated } from "./queue.ts";
import { recordUsage, type UsageReport } from "./usage.ts";
import { activeWorkerOf, type ExecutorLabel, workerView } from "./views.ts";

/** Run lifecycle operations, each inside the caller's transaction. */

/** Any worker column but the identity ones; `updatedAt` is set automatically. */
export type WorkerPatch = Partial<
  Omit<NewWorkerRow, "id" | "specId" | "projectId" | "createdAt" | "updatedAt">
>;

export async function updateWorker(tx: WriteTx, id: string, patch: WorkerPatch): Promise<void> {
  await tx
    .update(workers)
    .set({ ...definedOnly(patch), updatedAt: Date.now() })
    .where(eq(workers.id, id));
}

export function progressColumns(p: Progress): WorkerPatch {
  return {
    progressCurrent: p.current,
    progressTotal: p.total,
    progressPassed: p.passed,
    progressFailed: p.failed,
  };
}

export interface ClaimWorker {
  executor: WorkerRow["executor"];
  leaseOwner: string;
  leaseExpiresAt: number;
  /** The server's default model, used when neither the queue item nor the spec names one. */
  defaultModel?: string | null;
}

/**
 * Takes a queue item and creates its worker in one transaction: the item leaves the queue, the
 * worker is `running`, the spec `running`; chunks left `running` go back to `pending`, and so
 * do the ones that failed or were cancelled last time (a new run retries them; completed
 * chunks stay done). The run's model is resolved here and recorded on the worker: the item's
 * (asked for at start), else the spec's, else `defaultModel`. Null, with nothing changed, when
 * the item is gone or its spec is active.
 */
export async function claimRun(
  tx: WriteTx,
  itemId: string,
  claim: ClaimWorker,
  opts: Announce = {},
): Promise<{ worker: WorkerRow; events: NewEvent[] } | null> {
  const { defaultModel = null, ...worker } = claim;
  const [item] = await tx.select().from(workerQueue).where(eq(workerQueue.id, itemId)).limit(1);
  if (!item || (await activeWorkerOf(tx, item.specId))) return null;
  const [spec] = await tx
    .select({ model: specs.model, branch: specs.branch })
    .from(specs)
    .where(eq(specs.id, item.specId))
    .limit(1);
  await tx.delete(workerQueue).where(eq(workerQueue.id, item.id));
  const now = Date.now();
  await resetRunningChunks(tx, item.specId);
  await tx
    .update(chunks)
    .set({ status: "pending", error: null, startedAt: null, completedAt: null })
    .where(and(eq(chunks.specId, item.specId), inArray(chunks.status, ["failed", "cancelled"])));
  const [total] = await tx
    .select({ n: count() })
    .from(chunks)
    .where(eq(chunks.specId, item.specId));
  // A run on the branch of an earlier unlanded run of the spec (a retry) diffs and merges
  // against the base that run started from.
  const [earlier] = spec?.branch
    ? await tx
        .select({ baseBranch: workers.baseBranch, baseCommit: workers.baseCommit })
        .from(workers)
        .where(
          and(
            eq(workers.specId, item.specId),
            eq(workers.branch, spec.branch),
            isNull(workers.landedHow),
            isNotNull(workers.baseCommit),
          ),
        )
        .orderBy(desc(workers.createdAt))
        .limit(1)
    : [];
  const [row] = await tx
    .insert(workers)
    .values({
      id: newId(),
      specId: item.specId,
      projectId: item.projectId,
      status: "running",
      startedAt: now,
      progressTotal: total?.n ?? 0,
      model: item.model ?? spec?.model ?? defaultModel,
      baseBranch: earlier?.baseBranch ?? null,
      baseCommit: earlier?.baseCommit ?? null,
      ...worker,
      createdAt: now,
      updatedAt: now,
    })
    .returning();
  if (!row) throw new Error("insert into workers returned no row");
  await tx
    .update(specs)
    .set({ status: "running", updatedAt: now })
    .where(eq(specs.id, item.specId));
  return { worker: row, events: opts.announce === false ? [] : [await queueUpdated(tx)] };
}

export interface RunInputs {
  row: WorkerRow;
  view: WorkerView;
  spec: Spec;
  project: Project;
  /** In order. */
  chunks: Chunk[];
}

/** Everything needed to start a worker's thread; null when its spec or project is gone. */
export async function runInputs(
  q: Queryable,
  workerId: string,
  label: ExecutorLabel,
): Promise<RunInputs | null> {
  const [row] = await q.select().from(workers).where(eq(workers.id, workerId)).limit(1);
  if (!row) return null;
  const [view, [spec], [project], list] = await Promise.all([
    workerView(q, workerId, label),
    q.select().from(specs).where(eq(specs.id, row.specId)).limit(1),
    q.select().from(projects).where(eq(projects.id, row.projectId)).limit(1),
    q.select().from(chunks).where(eq(chunks.specId, row.specId)).orderBy(asc(chunks.order)),
  ]);
  if (!view || !spec || !project) return null;
  return { row, view, spec, project, chunks: list };
}

export interface LaunchOptions {
  status: "running" | "paused";
  reason: StartReason;
  leaseOwner: string;
  leaseExpiresAt: number;
}

/** A worker's thread starts (or starts again): status, lease, and `worker_started`/`worker_resumed`. */
export async function markLaunched(
  tx: WriteTx,
  workerId: string,
  opts: LaunchOptions,
  label: ExecutorLabel,
): Promise<NewEvent[]> {
  await updateWorker(tx, workerId, {
    status: opts.status,
    error: null,
    finishedAt: null,
    leaseOwner: opts.leaseOwner,
    leaseExpiresAt: opts.leaseExpiresAt,
  });
  const view = await workerView(tx, workerId, label);
  if (!view) return [];
  const type = opts.reason === "started" ? "worker_started" : "worker_resumed";
  return [{ type, workerId, specId: view.specId, payload: { worker: view, reason: opts.reason } }];
}

/** What one batch of a run thread's messages changes (see core's RunSink). */
export interface RunBatch {
  workerId: string;
  specId: string;
  worker: WorkerPatch;
  /** The run's branch, when the thread reported its workspace. */
  branch?: string | null;
  chunks: ReadonlyArray<{ event: ChunkEvent; chunk: ChunkPatch }>;
  events: readonly NewEvent[];
  /** Model requests that finished, attributed to the chunk step the run was on. */
  usage?: readonly UsageReport[];
}

/**
 * Applies a batch: chunk changes (a fix chunk goes right after the chunk it fixes), worker
 * columns, then usage. Changes addressed to a chunk that is not one of the run's spec are
 * skipped, so one stray message cannot lose the batch's events or touch another spec. Returns
 * the `usage_updated` events of the batch's usage.
 */
export async function applyRunBatch(tx: WriteTx, batch: RunBatch): Promise<NewEvent[]> {
  if (batch.branch !== undefined) {
    await tx.update(specs).set({ branch: batch.branch }).where(eq(specs.id, batch.specId));
  }
  for (const { event, chunk } of batch.chunks) {
    if (event !== "inserted") {
      await applyChunkPatch(tx, chunk, batch.specId);
      continue;
    }
    const [after] = chunk.fixOf
      ? await tx
          .select({ id: chunks.id })
          .from(chunks)
          .where(and(eq(chunks.id, chunk.fixOf), eq(chunks.specId, batch.specId)))
          .limit(1)
      : [];
    if (!after) continue;
    await insertChunkAfter(
      tx,
      after.id,
      {
        id: chunk.id,
        title: chunk.title ?? "Fix",
        description: chunk.description ?? "",
        dependencies: chunk.dependencies ?? [],
        status: chunk.status ?? "pending",
        fixOf: after.id,
      },
      batch.specId,
    );
  }
  if (Object.keys(batch.worker).length > 0) await updateWorker(tx, batch.workerId, batch.worker);
  return batch.usage?.length ? recordUsage(tx, batch.workerId, batch.usage) : [];
}

const SPEC_STATUS_AFTER: Record<FinishedWorkerStatus, SpecStatus> = {
  completed: "completed",
  failed: "failed",
  stopped: "ready",
};

/** How a run ended, as `finishRun` records it. */
export interface RunEnd {
  status: FinishedWorkerStatus;
  error: string | null;
  progress: Progress;
  reason?: string;
  /** What the run's branch changes against its base, when it could be counted. */
  changes?: Changes | null;
}

/** A run ended: final worker state, the spec's status, and `worker_<status>`. */
export async function finishRun(
  tx: WriteTx,
  workerId: string,
  end: RunEnd,
  label: ExecutorLabel,
): Promise<{ view: WorkerView | null; events: NewEvent[] }> {
  const now = Date.now();
  const [row] = await tx.select().from(workers).where(eq(workers.id, workerId)).limit(1);
  if (!row) return { view: null, events: [] };
  const error = end.status === "failed" ? end.error || "the run failed" : null;
  await resetRunningChunks(tx, row.specId);
  await updateWorker(tx, workerId, {
    status: end.status,
    error,
    finishedAt: now,
    currentStep: null,
    stepDetail: null,
    leaseOwner: null,
    leaseExpiresAt: null,
    ...progressColumns(end.progress),
    ...(end.changes
      ? {
          changesFiles: end.changes.files,
          changesAdditions: end.changes.additions,
          changesDeletions: end.changes.deletions,
        }
      : {}),
  });
  await tx
    .update(specs)
    .set({ status: SPEC_STATUS_AFTER[end.status], updatedAt: now })
    .where(eq(specs.id, row.specId));
  const view = await workerView(tx, workerId, label);
  if (!view) return { view: null, events: [] };
  const base = { workerId, specId: row.specId };
  const event: NewEvent =
    end.status === "failed"
      ? { ...base, type: "worker_failed", payload: { worker: view, error: error ?? "" } }
      : end.status === "stopped"
        ? {
            ...base,
            type: "worker_stopped",
            payload: { worker: view, reason: end.reason ?? "stopped" },
          }
        : { ...base, type: "worker_completed", payload: { worker: view } };
  return { view, events: [event] };
}

/** Server shutdown: the row keeps its status so the next process resumes it. */
export async function checkpointRun(tx: WriteTx, workerId: string): Promise<void> {
  const [row] = await tx.select().from(workers).where(eq(workers.id, workerId)).limit(1);
  if (!row) return;
  await resetRunningChunks(tx, row.specId);
  await updateWorker(tx, workerId, { leaseExpiresAt: 0 });
}

/** A paused run found at start-up stays paused, now leased by this process. */
export async function holdPaused(
  tx: WriteTx,
  workerId: string,
  lease: { leaseOwner: string; leaseExpiresAt: number },
  label: ExecutorLabel,
): Promise<WorkerView | null> {
  const [row] = await tx.select().from(workers).where(eq(workers.id, workerId)).limit(1);
  if (!row) return null;
  await resetRunningChunks(tx, row.specId);
  await updateWorker(tx, workerId, { ...lease, currentStep: null, stepDetail: null });
  return workerView(tx, workerId, label);
}

/**
 * Workers that hold a slot and that this process may take over: the lease ran out, was never
 * set, or is already ours. A live owner's runs are left alone until their lease expires.
 */
export async function recoverableWorkers(
  q: Queryable,
  owner: string,
  now: number,
): Promise<WorkerRow[]> {
  return q
    .select()
    .from(workers)
    .where(
      and(
        inArray(workers.status, [...ACTIVE_WORKER_STATUSES]),
        or(
          isNull(workers.leaseExpiresAt),
          lt(workers.leaseExpiresAt, now),
          eq(workers.leaseOwner, owner),
          isNull(workers.leaseOwner),
        ),
      ),
    )
    .orderBy(asc(workers.createdAt), asc(workers.id));
}

/** Every worker that holds a slot, oldest first. */
export async function activeWorkers(q: Queryable): Promise<WorkerRow[]> {
  return q
    .select()
    .from(workers)
    .where(inArray(workers.status, [...ACTIVE_WORKER_STATUSES]))
    .orderBy(asc(workers.createdAt), asc(workers.id));
}

/** Renews the lease of the given workers; returns how many rows changed. */
export async function renewLeases(
  tx: WriteTx,
  ids: readonly string[],
  owner: string,
  expiresAt: number,
): Promise<number> {
  if (ids.length === 0) return 0;
  const rows = await tx
    .update(workers)
    .set({ leaseOwner: owner, leaseExpiresAt: expiresAt })
    .where(inArray(workers.id, [...ids]))
    .returning({ id: workers.id });
  return rows.length;
}
