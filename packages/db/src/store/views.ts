import { and, asc, count, desc, eq, gt, inArray, lt, notInArray, or, sql } from "drizzle-orm";
import {
  ACTIVE_WORKER_STATUSES,
  type ExecutorKind,
  FINISHED_WORKER_STATUSES,
  WAIT_REASONS,
  type WaitReason,
  type WorkerStatus,
} from "../enums.ts";
import type { QueueItemView, WorkerView } from "../events.ts";
import type { Queryable } from "../repositories/shared.ts";
import {
  chunks,
  projects,
  type RunUsageRow,
  runUsage,
  specs,
  type WorkerRow,
  workerQueue,
  workers,
} from "../schema.ts";
import { toUsage } from "./usage.ts";

/** How the store names an executor kind in a view ("Simulated agent …"). */
export type ExecutorLabel = (kind: ExecutorKind) => string;

type WorkerJoinRow = {
  w: WorkerRow;
  projectName: string | null;
  specTitle: string | null;
  chunkTitle: string | null;
  usage: RunUsageRow | null;
};

function toWorkerView(row: WorkerJoinRow, label: ExecutorLabel): WorkerView {
  const w = row.w;
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
    stepDetail: w.stepDetail,
    progress: {
      current: w.progressCurrent,
      total: w.progressTotal,
      passed: w.progressPassed,
      failed: w.progressFailed,
    },
    startedAt: w.startedAt,
    finishedAt: w.finishedAt,
    error: w.error,
    executor: w.executor,
    executorLabel: label(w.executor),
    model: w.model,
    branch: w.branch,
    workdir: w.workdir,
    baseBranch: w.baseBranch,
    baseCommit: w.baseCommit,
    landed:
      w.landedHow && w.landedAt !== null
        ? { how: w.landedHow, commit: w.landedCommit, at: w.landedAt }
        : null,
    changes:
      w.changesFiles !== null
        ? {
            files: w.changesFiles,
            additions: w.changesAdditions ?? 0,
            deletions: w.changesDeletions ?? 0,
          }
        : null,
    usage: toUsage(row.usage),
  };
}

function workerViewQuery(q: Queryable) {
  return q
    .select({
      w: workers,
      projectName: projects.name,
      specTitle: specs.title,
      chunkTitle: chunks.title,
      usage: runUsage,
    })
    .from(workers)
    .leftJoin(projects, eq(projects.id, workers.projectId))
    .leftJoin(specs, eq(specs.id, workers.specId))
    .leftJoin(chunks, eq(chunks.id, workers.currentChunkId))
    .leftJoin(runUsage, eq(runUsage.workerId, workers.id));
}

export async function workerView(
  q: Queryable,
  id: string,
  label: ExecutorLabel,
): Promise<WorkerView | null> {
  const [row] = await workerViewQuery(q).where(eq(workers.id, id)).limit(1);
  return row ? toWorkerView(row, label) : null;
}

export interface WorkerViewQuery {
  /** How many finished workers to add after the active ones (default 20). */
  recent?: number;
  /** Only these statuses (then no recent list). */
  status?: readonly WorkerStatus[];
}

/** Active workers first (oldest first), then the most recently finished ones. */
export async function workerViews(
  q: Queryable,
  label: ExecutorLabel,
  opts: WorkerViewQuery = {},
): Promise<WorkerView[]> {
  const active = await workerViewQuery(q)
    .where(inArray(workers.status, [...(opts.status ?? ACTIVE_WORKER_STATUSES)]))
    .orderBy(asc(workers.createdAt), asc(workers.id));
  if (opts.status) return active.map((r) => toWorkerView(r, label));
  const recent = await workerViewQuery(q)
    .where(inArray(workers.status, [...FINISHED_WORKER_STATUSES]))
    .orderBy(desc(workers.updatedAt))
    .limit(opts.recent ?? 20);
  return [...active, ...recent].map((r) => toWorkerView(r, label));
}

/** Queue order: priority high → low, then first come first served (insertion breaks exact ties). */
export const queueOrder = [
  desc(workerQueue.priority),
  asc(workerQueue.addedAt),
  asc(sql`${workerQueue}.rowid`),
] as const;

/** The queue in order, with names and 1-based positions: all of it, or one page. */
export async function queueViews(
  q: Queryable,
  page: { limit?: number; offset?: number } = {},
): Promise<QueueItemView[]> {
  const offset = page.offset ?? 0;
  const query = q
    .select({ q: workerQueue, projectName: projects.name, specTitle: specs.title })
    .from(workerQueue)
    .leftJoin(projects, eq(projects.id, workerQueue.projectId))
    .leftJoin(specs, eq(specs.id, workerQueue.specId))
    .orderBy(...queueOrder);
  const rows =
    page.limit !== undefined ? await query.limit(page.limit).offset(offset) : await query;
  return rows.map((r, i) => queueItemOf(r, offset + i + 1));
}

/** One queued item with its position (items ahead of it + 1), or null when it is not queued. */
export async function queueItemView(q: Queryable, id: string): Promise<QueueItemView | null> {
  const [row] = await q
    .select({
      q: workerQueue,
      projectName: projects.name,
      specTitle: specs.title,
      rowid: sql<number>`${workerQueue}.rowid`,
    })
    .from(workerQueue)
    .leftJoin(projects, eq(projects.id, workerQueue.projectId))
    .leftJoin(specs, eq(specs.id, workerQueue.specId))
    .where(eq(workerQueue.id, id))
    .limit(1);
  if (!row) return null;
  const { priority, addedAt } = row.q;
  // ahead: a higher priority, or the same one and earlier (insertion order breaks exact ties)
  const [ahead] = await q
    .select({ n: count() })
    .from(workerQueue)
    .where(
      or(
        gt(workerQueue.priority, priority),
        and(
          eq(workerQueue.priority, priority),
          or(
            lt(workerQueue.addedAt, addedAt),
            and(eq(workerQueue.addedAt, addedAt), sql`${workerQueue}.rowid < ${row.rowid}`),
          ),
        ),
      ),
    );
  return queueItemOf(row, (ahead?.n ?? 0) + 1);
}

/** Items in the queue. */
export async function queueLength(q: Queryable): Promise<number> {
  const [row] = await q.select({ n: count() }).from(workerQueue);
  return row?.n ?? 0;
}

/**
 * The first queued item (in queue order) whose project is not in `skipProjects`: the next one
 * admission looks at when the projects it already turned down are left out.
 */
export async function nextQueued(
  q: Queryable,
  skipProjects: readonly string[],
): Promise<typeof workerQueue.$inferSelect | null> {
  const [row] = await q
    .select()
    .from(workerQueue)
    .where(
      skipProjects.length > 0 ? notInArray(workerQueue.projectId, [...skipProjects]) : undefined,
    )
    .orderBy(...queueOrder)
    .limit(1);
  return row ?? null;
}

type QueueJoinRow = {
  q: typeof workerQueue.$inferSelect;
  projectName: string | null;
  specTitle: string | null;
};

function queueItemOf(r: QueueJoinRow, position: number): QueueItemView {
  const { reason, detail } = splitWaitReason(r.q.waitReason);
  return {
    id: r.q.id,
    specId: r.q.specId,
    projectId: r.q.projectId,
    projectName: r.projectName ?? "",
    specTitle: r.specTitle ?? "",
    priority: r.q.priority,
    addedAt: r.q.addedAt,
    position,
    waitReason: reason,
    waitDetail: detail,
    model: r.q.model,
  };
}

/** `wait_reason` is stored as `reason` or `reason: detail`. */
export function splitWaitReason(raw: string | null): {
  reason: WaitReason | null;
  detail: string | null;
} {
  if (!raw) return { reason: null, detail: null };
  const at = raw.indexOf(":");
  const name = at < 0 ? raw : raw.slice(0, at);
  const reason = (WAIT_REASONS as readonly string[]).includes(name) ? (name as WaitReason) : null;
  return { reason, detail: at < 0 ? null : raw.slice(at + 1).trim() };
}

export function joinWaitReason(reason: WaitReason | null, detail: string | null): string | null {
  if (!reason) return null;
  return detail ? `${reason}: ${detail}` : reason;
}

/** The active worker of a spec, if any (a spec never runs twice). */
export async function activeWorkerOf(q: Queryable, specId: string): Promise<WorkerRow | null> {
  const [row] = await q
    .select()
    .from(workers)
    .where(and(eq(workers.specId, specId), inArray(workers.status, [...ACTIVE_WORKER_STATUSES])))
    .limit(1);
  return row ?? null;
}
