import type { WriteTx } from "@glm-workers/db/client";
import {
  insertEvents as dbInsertEvents,
  resetRunningChunks as dbResetRunningChunks,
  trimEvents as dbTrimEvents,
} from "@glm-workers/db/repositories";
import * as schema from "@glm-workers/db/schema";
import type { ResultSet } from "@libsql/client";
import { and, asc, desc, eq, gt, inArray, isNull, lt, or, sql } from "drizzle-orm";
import type { BaseSQLiteDatabase } from "drizzle-orm/sqlite-core";
import type { ChunkPatch, ChunkSnapshot, ExecutorKind, Progress } from "../protocol.ts";
import type {
  QueueItemView,
  WaitReason,
  WorkerEvent,
  WorkerEventType,
  WorkerView,
} from "./types.ts";

const { chunks, projects, specs, workerEvents, workerQueue, workers } = schema;

/** A drizzle database or transaction over our schema (libsql, async). */
export type Db = BaseSQLiteDatabase<"async", ResultSet, typeof schema>;
/** The single group-committing writer of the db package (`Database.write`). */
export type WriteFn = <T>(fn: (tx: WriteTx) => Promise<T>) => Promise<T>;

export const ACTIVE_STATUSES = ["idle", "running", "paused"] as const;

export interface NewEvent {
  workerId: string | null;
  specId: string | null;
  type: WorkerEventType;
  payload: Record<string, unknown>;
  at?: number;
}

export async function insertEvents(tx: WriteTx, events: NewEvent[]): Promise<WorkerEvent[]> {
  const rows = await dbInsertEvents(tx, events);
  return rows.map((r) => ({ ...r, type: r.type as WorkerEventType }));
}

export async function eventsAfter(
  db: Db,
  lastId: number,
  opts: {
    workerId?: string;
    types?: readonly string[];
    limit?: number;
    newestFirst?: boolean;
  } = {},
): Promise<WorkerEvent[]> {
  const conds = [gt(workerEvents.id, lastId)];
  if (opts.workerId) conds.push(eq(workerEvents.workerId, opts.workerId));
  if (opts.types && opts.types.length > 0) conds.push(inArray(workerEvents.type, [...opts.types]));
  const rows = await db
    .select()
    .from(workerEvents)
    .where(and(...conds))
    .orderBy(opts.newestFirst ? desc(workerEvents.id) : asc(workerEvents.id))
    .limit(opts.limit ?? 1000);
  return rows.map((r) => ({ ...r, type: r.type as WorkerEventType }));
}

/** Removes events older than `olderThan` ms, keeping at least the newest `keepLast`. */
export function trimEvents(tx: WriteTx, olderThanMs: number, keepLast: number): Promise<number> {
  return dbTrimEvents(tx, { olderThanMs, keepLast });
}

// ---- views ----------------------------------------------------------------

type WorkerJoinRow = {
  w: typeof workers.$inferSelect;
  projectName: string | null;
  specTitle: string | null;
  chunkTitle: string | null;
};

function toView(row: WorkerJoinRow, label: (kind: ExecutorKind) => string): WorkerView {
  const w = row.w;
  const executor = w.executor as ExecutorKind;
  return {
    id: w.id,
    specId: w.specId,
    projectId: w.projectId,
    projectName: row.projectName ?? "",
    specTitle: row.specTitle ?? "",
    status: w.status,
    currentChunkId: w.currentChunkId,
    currentChunkTitle: row.chunkTitle,
    currentStep: w.currentStep,
    progress: {
      current: w.progressCurrent,
      total: w.progressTotal,
      passed: w.progressPassed,
      failed: w.progressFailed,
    },
    startedAt: w.startedAt,
    finishedAt: w.finishedAt,
    error: w.error,
    executor,
    executorLabel: label(executor),
    branch: w.branch,
    workdir: w.workdir,
  };
}

function workerViewQuery(db: Db) {
  return db
    .select({
      w: workers,
      projectName: projects.name,
      specTitle: specs.title,
      chunkTitle: chunks.title,
    })
    .from(workers)
    .leftJoin(projects, eq(projects.id, workers.projectId))
    .leftJoin(specs, eq(specs.id, workers.specId))
    .leftJoin(chunks, eq(chunks.id, workers.currentChunkId));
}

export async function getWorkerView(
  db: Db,
  id: string,
  label: (kind: ExecutorKind) => string,
): Promise<WorkerView | null> {
  const [row] = await workerViewQuery(db).where(eq(workers.id, id)).limit(1);
  return row ? toView(row, label) : null;
}

/** Active workers first (by start), then the most recent finished ones. */
export async function listWorkerViews(
  db: Db,
  label: (kind: ExecutorKind) => string,
  opts: { recent?: number; status?: readonly WorkerView["status"][] } = {},
): Promise<WorkerView[]> {
  const active = await workerViewQuery(db)
    .where(inArray(workers.status, [...(opts.status ?? ACTIVE_STATUSES)]))
    .orderBy(asc(workers.createdAt));
  if (opts.status) return active.map((r) => toView(r, label));
  const recent = await workerViewQuery(db)
    .where(inArray(workers.status, ["completed", "failed", "stopped"]))
    .orderBy(desc(workers.updatedAt))
    .limit(opts.recent ?? 20);
  return [...active, ...recent].map((r) => toView(r, label));
}

export async function listQueueViews(db: Db): Promise<QueueItemView[]> {
  const rows = await db
    .select({ q: workerQueue, projectName: projects.name, specTitle: specs.title })
    .from(workerQueue)
    .leftJoin(projects, eq(projects.id, workerQueue.projectId))
    .leftJoin(specs, eq(specs.id, workerQueue.specId))
    .orderBy(desc(workerQueue.priority), asc(workerQueue.addedAt), asc(workerQueue.id));
  return rows.map((r, i) => {
    const [reason, detail] = splitReason(r.q.waitReason);
    return {
      id: r.q.id,
      specId: r.q.specId,
      projectId: r.q.projectId,
      projectName: r.projectName ?? "",
      specTitle: r.specTitle ?? "",
      priority: r.q.priority,
      addedAt: r.q.addedAt,
      position: i + 1,
      waitReason: reason,
      waitDetail: detail,
    };
  });
}

/** wait_reason is stored as `reason` or `reason: detail`. */
function splitReason(raw: string | null): [WaitReason, string | null] {
  if (!raw) return [null, null];
  const at = raw.indexOf(":");
  const reason = (at < 0 ? raw : raw.slice(0, at)) as WaitReason;
  return [reason, at < 0 ? null : raw.slice(at + 1).trim()];
}

export function joinReason(reason: WaitReason, detail: string | null): string | null {
  if (!reason) return null;
  return detail ? `${reason}: ${detail}` : reason;
}

// ---- run snapshots -----------------------------------------------------------

export async function loadRunInputs(db: Db, specId: string) {
  const [spec] = await db.select().from(specs).where(eq(specs.id, specId)).limit(1);
  if (!spec) return null;
  const [project] = await db
    .select()
    .from(projects)
    .where(eq(projects.id, spec.projectId))
    .limit(1);
  if (!project) return null;
  const rows = await db
    .select()
    .from(chunks)
    .where(eq(chunks.specId, specId))
    .orderBy(asc(chunks.order));
  const snapshot: ChunkSnapshot[] = rows.map((c) => ({
    id: c.id,
    title: c.title,
    description: c.description,
    order: c.order,
    status: c.status,
    dependencies: c.dependencies,
    fixOf: c.fixOf,
    reviewStatus: c.reviewStatus,
    commitHash: c.commitHash,
  }));
  return { spec, project, chunks: snapshot };
}

// ---- chunk + worker writes -------------------------------------------------

export async function applyChunkPatch(
  tx: WriteTx,
  specId: string,
  patch: ChunkPatch,
  inserted: boolean,
): Promise<void> {
  const { id, ...fields } = patch;
  if (inserted) {
    const order = fields.order ?? 0;
    // make room: every chunk at or after `order` moves one down
    await tx
      .update(chunks)
      .set({ order: sql`${chunks.order} + 1` })
      .where(and(eq(chunks.specId, specId), sql`${chunks.order} >= ${order}`));
    await tx
      .insert(chunks)
      .values({
        id,
        specId,
        title: fields.title ?? "Fix",
        description: fields.description ?? "",
        order,
        status: fields.status ?? "pending",
        dependencies: fields.dependencies ?? [],
        fixOf: fields.fixOf ?? null,
        outputSummary: fields.outputSummary ?? null,
        error: fields.error ?? null,
        reviewStatus: fields.reviewStatus ?? null,
        reviewFeedback: fields.reviewFeedback ?? null,
        commitHash: fields.commitHash ?? null,
        startedAt: fields.startedAt ?? null,
        completedAt: fields.completedAt ?? null,
      })
      .onConflictDoNothing();
    return;
  }
  const set = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
  if (Object.keys(set).length === 0) return;
  await tx
    .update(chunks)
    .set(set)
    .where(and(eq(chunks.id, id), eq(chunks.specId, specId)));
}

/** Chunks left `running` by a run that is gone go back to `pending`. */
export async function resetRunningChunks(tx: WriteTx, specId: string): Promise<void> {
  await dbResetRunningChunks(tx, specId);
}

export type WorkerPatch = Partial<Omit<typeof workers.$inferInsert, "id">>;

export async function updateWorker(tx: WriteTx, id: string, patch: WorkerPatch): Promise<void> {
  await tx
    .update(workers)
    .set({ ...patch, updatedAt: Date.now() })
    .where(eq(workers.id, id));
}

export function progressPatch(p: Progress): WorkerPatch {
  return {
    progressCurrent: p.current,
    progressTotal: p.total,
    progressPassed: p.passed,
    progressFailed: p.failed,
  };
}

export async function activeWorkerForSpec(db: Db, specId: string) {
  const [row] = await db
    .select({ id: workers.id, status: workers.status })
    .from(workers)
    .where(and(eq(workers.specId, specId), inArray(workers.status, [...ACTIVE_STATUSES])))
    .limit(1);
  return row ?? null;
}

export async function queueItemForSpec(db: Db, specId: string) {
  const [row] = await db.select().from(workerQueue).where(eq(workerQueue.specId, specId)).limit(1);
  return row ?? null;
}

/** Workers that hold a slot (running, paused, or claimed but not yet launched). */
export async function activeWorkers(db: Db) {
  return db
    .select()
    .from(workers)
    .where(inArray(workers.status, [...ACTIVE_STATUSES]))
    .orderBy(asc(workers.createdAt));
}

/** Running workers whose lease is gone (or ours from a previous life), for recovery. */
export async function recoverableWorkers(db: Db, owner: string, now: number) {
  return db
    .select()
    .from(workers)
    .where(
      and(
        inArray(workers.status, ["idle", "running", "paused"]),
        or(
          isNull(workers.leaseExpiresAt),
          lt(workers.leaseExpiresAt, now),
          eq(workers.leaseOwner, owner),
          isNull(workers.leaseOwner),
        ),
      ),
    )
    .orderBy(asc(workers.createdAt));
}

export { chunks, projects, specs, workerEvents, workerQueue, workers };
