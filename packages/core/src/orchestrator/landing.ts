import { ACTIVE_WORKER_STATUSES, type MergeStrategy } from "@glm-workers/db/enums";
import type { Changes, WorkerView } from "@glm-workers/db/events";
import type { WorkerRow } from "@glm-workers/db/schema";
import { coerceError, conflictError as conflict, OrchestratorError } from "../errors.ts";
import { branchExists, gitExit, gitTopLevel, revParse } from "../git.ts";
import { changedPaths, diffFiles, diffStats } from "../landing/diff.ts";
import { mergeBranch } from "../landing/merge.ts";
import type { ConflictsView, DiffView, MergeResult } from "../landing/types.ts";
import { landedRef, removeRunWorktree } from "../landing/worktrees.ts";
import type { OrchestratorContext } from "./context.ts";

/**
 * Landing a finished run's work: its diff, what it conflicts with, merge or discard, and the
 * worktrees runs leave behind. Git work happens in the project's repository; the store records
 * the outcome. One landing operation per repository at a time.
 */

const ACTIVE = new Set<string>(ACTIVE_WORKER_STATUSES);
const LANDED_AS: Record<MergeStrategy, "squashed" | "merged" | "rebased"> = {
  squash: "squashed",
  merge: "merged",
  rebase: "rebased",
};

interface RunRepo {
  row: WorkerRow;
  view: WorkerView;
  specTitle: string;
  chunks: Array<{ id: string; title: string; status: string; commitHash: string | null }>;
  /** The repository's top level (the user's checkout). */
  top: string;
}

export class Landing {
  readonly #locks = new Map<string, Promise<unknown>>();

  constructor(private readonly ctx: OrchestratorContext) {}

  /** Serializes landing operations on one repository. */
  async #locked<T>(top: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#locks.get(top) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const settled = next.catch(() => undefined);
    this.#locks.set(top, settled);
    try {
      return await next;
    } finally {
      if (this.#locks.get(top) === settled) this.#locks.delete(top);
    }
  }

  async #run(workerId: string): Promise<RunRepo> {
    const inputs = await this.ctx.store.runInputs(workerId);
    if (!inputs) {
      if (await this.ctx.store.worker(workerId)) {
        throw new OrchestratorError(
          "NOT_FOUND",
          `the spec or project of worker ${workerId} is gone`,
        );
      }
      throw new OrchestratorError("NOT_FOUND", `worker ${workerId} not found`);
    }
    const top = await gitTopLevel(inputs.project.directory).catch(() => null);
    if (!top) {
      throw conflict(
        "NOT_A_GIT_REPO",
        `project ${inputs.project.name} (${inputs.project.directory}) is not a git repository: its runs work in place and have no branch to diff or merge`,
      );
    }
    return {
      row: inputs.row,
      view: inputs.view,
      specTitle: inputs.spec.title,
      chunks: inputs.chunks,
      top,
    };
  }

  /** The run's tip: its branch, or after a landing the ref that keeps it. */
  async #head(run: RunRepo): Promise<string> {
    const { row, top } = run;
    const head =
      (row.branch ? await revParse(top, `refs/heads/${row.branch}`) : null) ??
      (await revParse(top, landedRef(row.id)));
    if (!head) {
      throw conflict(
        row.landedHow === "discarded" ? "ALREADY_LANDED" : "NO_BRANCH",
        row.landedHow === "discarded"
          ? "the run was discarded: its branch is gone"
          : row.branch
            ? `the run's branch ${row.branch} no longer exists`
            : "the run has not made its branch yet",
      );
    }
    return head;
  }

  #base(run: RunRepo): string {
    if (!run.row.baseCommit) {
      throw conflict("NO_BRANCH", "the run has not recorded the commit it started from yet");
    }
    return run.row.baseCommit;
  }

  async diff(workerId: string, chunkId?: string): Promise<DiffView> {
    const run = await this.#run(workerId);
    const { row, top } = run;
    if (chunkId !== undefined) {
      const chunk = run.chunks.find((c) => c.id === chunkId);
      if (!chunk) {
        throw new OrchestratorError(
          "NOT_FOUND",
          `chunk ${chunkId} is not a chunk of this run's spec`,
        );
      }
      if (!chunk.commitHash || !(await revParse(top, chunk.commitHash))) {
        throw conflict(
          "NO_COMMIT",
          `chunk "${chunk.title}" has no commit (it has not passed its review)`,
        );
      }
      const parent = (await revParse(top, `${chunk.commitHash}^`)) ?? this.#base(run);
      const diff = await diffFiles(top, parent, chunk.commitHash);
      return view(
        { branch: null, commit: parent },
        { branch: row.branch, commit: chunk.commitHash },
        chunkId,
        diff,
      );
    }
    const base = this.#base(run);
    const head = await this.#head(run);
    const diff = await diffFiles(top, base, head);
    return view(
      { branch: row.baseBranch, commit: base },
      { branch: row.branch, commit: head },
      null,
      diff,
    );
  }

  async conflicts(workerId: string): Promise<ConflictsView> {
    const run = await this.#run(workerId);
    const { row, top } = run;
    const base = this.#base(run);
    const mine = await changedPaths(top, base, await this.#head(run));
    const overlap = (paths: Set<string>) => [...paths].filter((p) => mine.has(p)).sort();
    const baseHead = row.baseBranch ? await revParse(top, `refs/heads/${row.baseBranch}`) : null;
    const onBase =
      baseHead && baseHead !== base ? overlap(await changedPaths(top, base, baseHead)) : [];
    const runs: ConflictsView["runs"] = [];
    for (const other of await this.ctx.store.unlandedRuns(row.projectId)) {
      if (other.specId === row.specId) continue;
      const tip = await revParse(top, `refs/heads/${other.branch}`);
      if (!tip) continue;
      const files = overlap(
        await changedPaths(top, other.baseCommit, tip).catch(() => new Set<string>()),
      );
      if (files.length > 0) {
        runs.push({
          workerId: other.workerId,
          specId: other.specId,
          specTitle: other.specTitle,
          files,
        });
      }
    }
    return { base: onBase, runs };
  }

  /** A newer run of the spec on the same branch owns it now (a retry): land or discard that one. */
  async #assertLatest(row: WorkerRow): Promise<void> {
    const latest = await this.ctx.store.latestWorkerOf(row.specId);
    if (latest && latest.id !== row.id && latest.branch === row.branch) {
      throw conflict(
        "NOT_LATEST",
        `a newer run of this spec (${latest.id}) works on the same branch: land or discard that one`,
      );
    }
  }

  #landable(run: RunRepo): { branch: string; baseBranch: string } {
    const { row } = run;
    if (ACTIVE.has(row.status)) {
      throw conflict("RUN_ACTIVE", `the run is ${row.status}: stop it or let it finish first`);
    }
    if (row.landedHow) {
      throw conflict("ALREADY_LANDED", `the run's work was already ${row.landedHow}`);
    }
    if (!row.branch || !row.baseBranch || row.branch === row.baseBranch) {
      throw conflict(
        "NO_BRANCH",
        row.branch && row.branch === row.baseBranch
          ? `the run worked in place on ${row.branch}: its commits are already there`
          : "the run has no branch of its own",
      );
    }
    return { branch: row.branch, baseBranch: row.baseBranch };
  }

  async merge(
    workerId: string,
    opts: { strategy: MergeStrategy; message?: string | undefined; keepBranch: boolean },
  ): Promise<{ result: MergeResult; worker: WorkerView | null }> {
    const first = await this.#run(workerId);
    return this.#locked(first.top, async () => {
      const run = await this.#run(workerId);
      const { branch, baseBranch } = this.#landable(run);
      await this.#assertLatest(run.row);
      const message = opts.message ?? defaultMessage(run, opts.strategy, branch);
      const runHead = await this.#head(run);
      const commit = await mergeBranch({
        top: run.top,
        baseBranch,
        branch,
        runHead,
        strategy: opts.strategy,
        message,
      });
      // The work is on the base branch now; what follows only tidies up.
      await gitExit(run.top, ["update-ref", landedRef(workerId), runHead]);
      await this.#tidy(run, { deleteBranch: !opts.keepBranch });
      const { view, events } = await this.ctx.store.markLanded(workerId, {
        how: LANDED_AS[opts.strategy],
        commit,
      });
      this.ctx.publish(events);
      return {
        result: {
          merged: true,
          strategy: opts.strategy,
          commit,
          into: baseBranch,
          branchKept: opts.keepBranch,
        },
        worker: view,
      };
    });
  }

  async discard(workerId: string): Promise<WorkerView | null> {
    const first = await this.#run(workerId);
    return this.#locked(first.top, async () => {
      const run = await this.#run(workerId);
      const { row } = run;
      if (ACTIVE.has(row.status)) {
        throw conflict("RUN_ACTIVE", `the run is ${row.status}: stop it first`);
      }
      if (row.landedHow)
        throw conflict("ALREADY_LANDED", `the run's work was already ${row.landedHow}`);
      if (!row.branch || row.branch === row.baseBranch) {
        throw conflict("NO_BRANCH", "the run worked in place: there is no branch to discard");
      }
      await this.#assertLatest(row);
      await this.#tidy(run, { deleteBranch: true });
      await gitExit(run.top, ["update-ref", "-d", landedRef(workerId)]);
      const { view, events } = await this.ctx.store.markLanded(workerId, {
        how: "discarded",
        commit: null,
      });
      this.ctx.publish(events);
      return view;
    });
  }

  /** Removes the run's worktree and (when asked) its branch; a failure is logged, not thrown. */
  async #tidy(run: RunRepo, opts: { deleteBranch: boolean }): Promise<void> {
    try {
      await removeRunWorktree(run.top, {
        branch: run.row.branch,
        workdir: run.row.workdir,
        deleteBranch: opts.deleteBranch,
      });
    } catch (err) {
      this.ctx.o.log("warn", `cleaning up after worker ${run.row.id}: ${coerceError(err).message}`);
    }
  }

  /** The spec to start again: the run must be its newest, finished without completing, unlanded. */
  async retryable(workerId: string): Promise<{ specId: string }> {
    const row = await this.ctx.store.workerRow(workerId);
    if (!row) throw new OrchestratorError("NOT_FOUND", `worker ${workerId} not found`);
    if (ACTIVE.has(row.status)) throw conflict("RUN_ACTIVE", `the run is ${row.status}`);
    if (row.landedHow)
      throw conflict("ALREADY_LANDED", `the run's work was already ${row.landedHow}`);
    if (row.status === "completed") {
      throw conflict(
        "NOTHING_TO_RETRY",
        "the run completed every chunk: there is nothing to retry",
      );
    }
    const latest = await this.ctx.store.latestWorkerOf(row.specId);
    if (latest && latest.id !== row.id) {
      throw conflict(
        "NOT_LATEST",
        `a newer run of this spec exists (${latest.id}): retry that one`,
      );
    }
    return { specId: row.specId };
  }

  /** What a finished run's branch changes against its base; null when that cannot be told. */
  async changes(view: WorkerView, directory: string): Promise<Changes | null> {
    if (!view.branch || !view.baseCommit) return null;
    try {
      const top = await gitTopLevel(directory);
      if (!top || !(await branchExists(top, view.branch))) return null;
      return await diffStats(top, view.baseCommit, `refs/heads/${view.branch}`);
    } catch {
      return null;
    }
  }

  /** Removes the worktrees of unlanded runs that ended more than `retentionMs` ago (branches stay). */
  async removeStaleWorktrees(retentionMs: number): Promise<number> {
    const stale = await this.ctx.store.staleWorktrees(Date.now() - retentionMs);
    const removed: string[] = [];
    for (const s of stale) {
      const top = await gitTopLevel(s.directory).catch(() => null);
      if (!top) continue;
      try {
        await this.#locked(top, () =>
          removeRunWorktree(top, { branch: s.branch, workdir: s.workdir, deleteBranch: false }),
        );
        removed.push(s.workerId);
      } catch (err) {
        this.ctx.o.log(
          "warn",
          `removing the worktree of worker ${s.workerId}: ${coerceError(err).message}`,
        );
      }
    }
    await this.ctx.store.clearWorkdirs(removed);
    return removed.length;
  }

  /** `git worktree prune` in every project repository (worktrees deleted by hand). */
  async pruneWorktrees(directories: readonly string[]): Promise<void> {
    const tops = new Set<string>();
    for (const dir of directories) {
      const top = await gitTopLevel(dir).catch(() => null);
      if (top) tops.add(top);
    }
    for (const top of tops) await gitExit(top, ["worktree", "prune"]).catch(() => undefined);
  }
}

function view(
  base: DiffView["base"],
  head: DiffView["head"],
  chunkId: string | null,
  diff: Pick<DiffView, "files" | "truncated" | "stats">,
): DiffView {
  return { base, head, chunkId, ...diff };
}

/** The spec's title, then its completed chunks' titles. */
function defaultMessage(run: RunRepo, strategy: MergeStrategy, branch: string): string {
  const done = run.chunks.filter((c) => c.status === "completed").map((c) => `- ${c.title}`);
  const subject = strategy === "merge" ? `Merge ${branch}: ${run.specTitle}` : run.specTitle;
  return [subject, "", ...done, "", `glm-workers run ${run.row.id}`].join("\n");
}
