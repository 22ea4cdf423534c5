import { and, desc, eq, inArray, isNotNull, isNull, lt } from "drizzle-orm";
import { FINISHED_WORKER_STATUSES, type LandingKind } from "../enums.ts";
import type { NewEvent, WorkerView } from "../events.ts";
import type { Queryable } from "../repositories/shared.ts";
import { projects, specs, type WorkerRow, workers } from "../schema.ts";
import type { WriteTx } from "../writer.ts";
import { updateWorker } from "./runs.ts";
import { type ExecutorLabel, workerView } from "./views.ts";

/** What the landing operations (merge, discard, retry, worktree clean-up) read and write. */

/**
 * A run's work was merged or discarded: the worker records how (its worktree is gone), the
 * spec forgets the branch (its next run starts fresh), and `worker_landed` is published.
 */
export async function markLanded(
  tx: WriteTx,
  workerId: string,
  landed: { how: LandingKind; commit: string | null },
  label: ExecutorLabel,
): Promise<{ view: WorkerView | null; events: NewEvent[] }> {
  const [row] = await tx.select().from(workers).where(eq(workers.id, workerId)).limit(1);
  if (!row) return { view: null, events: [] };
  await updateWorker(tx, workerId, {
    landedHow: landed.how,
    landedCommit: landed.commit,
    landedAt: Date.now(),
    workdir: null,
  });
  if (row.branch) {
    await tx
      .update(specs)
      .set({ branch: null })
      .where(and(eq(specs.id, row.specId), eq(specs.branch, row.branch)));
  }
  const view = await workerView(tx, workerId, label);
  if (!view) return { view: null, events: [] };
  return {
    view,
    events: [
      {
        type: "worker_landed",
        workerId,
        specId: row.specId,
        payload: { worker: view, how: landed.how },
      },
    ],
  };
}

export interface UnlandedRun {
  workerId: string;
  specId: string;
  specTitle: string;
  branch: string;
  baseCommit: string;
}

/** The newest run of each spec of a project whose branch is not landed yet. */
export async function unlandedRuns(q: Queryable, projectId: string): Promise<UnlandedRun[]> {
  const rows = await q
    .select({
      workerId: workers.id,
      specId: workers.specId,
      specTitle: specs.title,
      branch: workers.branch,
      baseCommit: workers.baseCommit,
      landedHow: workers.landedHow,
    })
    .from(workers)
    .innerJoin(specs, eq(specs.id, workers.specId))
    .where(and(eq(workers.projectId, projectId), isNotNull(workers.branch)))
    .orderBy(desc(workers.createdAt), desc(workers.id));
  const seen = new Set<string>();
  const out: UnlandedRun[] = [];
  for (const r of rows) {
    if (seen.has(r.specId)) continue;
    seen.add(r.specId);
    if (r.landedHow || !r.branch || !r.baseCommit) continue;
    out.push({
      workerId: r.workerId,
      specId: r.specId,
      specTitle: r.specTitle,
      branch: r.branch,
      baseCommit: r.baseCommit,
    });
  }
  return out;
}

/** A worker's row (what the landing operations need beyond its view). */
export async function workerRow(q: Queryable, id: string): Promise<WorkerRow | null> {
  const [row] = await q.select().from(workers).where(eq(workers.id, id)).limit(1);
  return row ?? null;
}

/** The newest run of a spec. */
export async function latestWorkerOf(q: Queryable, specId: string): Promise<WorkerRow | null> {
  const [row] = await q
    .select()
    .from(workers)
    .where(eq(workers.specId, specId))
    .orderBy(desc(workers.createdAt), desc(workers.id))
    .limit(1);
  return row ?? null;
}

export interface StaleWorktree {
  workerId: string;
  branch: string | null;
  workdir: string;
  directory: string;
}

/** Finished, unlanded runs that ended before `before` and still have a worktree. */
export async function staleWorktrees(q: Queryable, before: number): Promise<StaleWorktree[]> {
  const rows = await q
    .select({
      workerId: workers.id,
      branch: workers.branch,
      workdir: workers.workdir,
      directory: projects.directory,
    })
    .from(workers)
    .innerJoin(projects, eq(projects.id, workers.projectId))
    .where(
      and(
        inArray(workers.status, [...FINISHED_WORKER_STATUSES]),
        isNull(workers.landedHow),
        isNotNull(workers.workdir),
        lt(workers.finishedAt, before),
      ),
    );
  return rows.flatMap((r) => (r.workdir ? [{ ...r, workdir: r.workdir }] : []));
}

/** The runs' worktrees were removed (their branches stay). */
export async function clearWorkdirs(tx: WriteTx, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await tx
    .update(workers)
    .set({ workdir: null, updatedAt: Date.now() })
    .where(inArray(workers.id, [...ids]));
}
