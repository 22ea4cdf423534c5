import { isTRPCClientError } from "../../lib/trpc.ts";
import type { MergeStrategy, RunConflicts, Worker } from "../../lib/types.ts";
import { isActive } from "../../lib/workers-events.ts";
import { landedText } from "../workers/worker-card.tsx";

/** Plain helpers of the run page: what the landing answers mean, in words. */

export const MERGE_STRATEGIES: readonly {
  value: MergeStrategy;
  label: string;
  hint: string;
}[] = [
  { value: "squash", label: "Squash", hint: "one commit on the base branch" },
  { value: "merge", label: "Merge commit", hint: "keeps the run's commits, adds a merge commit" },
  { value: "rebase", label: "Rebase", hint: "replays the run's commits on the base branch" },
];

/** Why the server refused to land a run (the `reason` of a CONFLICT answer). */
export type RefusalReason =
  | "MERGE_CONFLICT"
  | "DIRTY_WORKTREE"
  | "WRONG_BRANCH"
  | "RUN_ACTIVE"
  | "ALREADY_LANDED"
  | "NOT_A_GIT_REPO"
  | "NO_BRANCH"
  | "UNTRACKED_FILES";

export interface Refusal {
  reason: RefusalReason | null;
  message: string;
  /** The paths the refusal is about (conflicting or untracked files). */
  files: string[];
}

const REASONS: Record<RefusalReason, string> = {
  MERGE_CONFLICT:
    "The merge would conflict in these files. Nothing was changed: land the other work first, or fix the run's branch and try again.",
  DIRTY_WORKTREE:
    "The project directory has uncommitted changes. Commit or stash them, then merge again.",
  WRONG_BRANCH:
    "The project directory is not on the run's base branch any more. Check that branch out, then merge again.",
  RUN_ACTIVE: "The run is still working: wait for it to end, or stop it.",
  ALREADY_LANDED: "This run was already merged or discarded.",
  NOT_A_GIT_REPO: "The project directory is not a git repository: there is nothing to merge.",
  NO_BRANCH: "This run has no branch of its own: it worked in the project directory itself.",
  UNTRACKED_FILES:
    "Untracked files in the project directory would be overwritten by the merge. Move or commit them, then merge again.",
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/** The landing refusal in a server error (CONFLICT with a reason), else null. */
export function refusalOf(err: unknown): Refusal | null {
  if (!isTRPCClientError(err)) return null;
  const data: unknown = err.data;
  if (!isRecord(data) || data.code !== "CONFLICT") return null;
  const reason =
    typeof data.reason === "string" && data.reason in REASONS
      ? (data.reason as RefusalReason)
      : null;
  const files = Array.isArray(data.files)
    ? data.files.filter((f): f is string => typeof f === "string")
    : [];
  return { reason, message: reason ? REASONS[reason] : err.message, files };
}

/** `a1b2c3d` */
export function shortHash(hash: string | null | undefined): string {
  return hash ? hash.slice(0, 7) : "";
}

/** `Squashed into main as a1b2c3d · …`, `Discarded: …` (the card's words, with the commit). */
export function runLandedText(worker: Pick<Worker, "landed" | "baseBranch">): string {
  const landed = worker.landed;
  const words = landedText(worker) ?? "";
  const text = words.charAt(0).toUpperCase() + words.slice(1);
  if (!landed || landed.how === "discarded")
    return `${text}: the run's branch and worktree are gone`;
  return landed.commit ? `${text} as ${shortHash(landed.commit)}` : text;
}

/** Why Merge is not possible now, or undefined when it is. */
export function mergeBlocked(worker: Worker): string | undefined {
  if (worker.landed) return "This run has already landed";
  if (isActive(worker)) return "Wait for the run to end (or stop it)";
  if (!worker.branch) return "This run has no branch to merge";
  return undefined;
}

/** Why Discard is not possible now, or undefined when it is. */
export function discardBlocked(worker: Worker): string | undefined {
  if (worker.landed) return "This run has already landed";
  if (isActive(worker)) return "Wait for the run to end (or stop it)";
  if (!worker.branch) return "This run worked in place: there is no branch to discard";
  return undefined;
}

/** A failed or stopped run whose work is still there can be run again from where it stopped. */
export function canRetry(worker: Worker): boolean {
  return (worker.status === "failed" || worker.status === "stopped") && !worker.landed;
}

/** The newest run of the same spec when it is not `worker` (only the newest can be retried). */
export function newerRunOf(worker: Worker, latest: Worker | undefined): Worker | undefined {
  if (!latest || latest.id === worker.id) return undefined;
  return (latest.startedAt ?? 0) >= (worker.startedAt ?? 0) ? latest : undefined;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** One sentence per overlap: `2 files also changed by "Search" — merge one first`. */
export function conflictLines(conflicts: RunConflicts, baseBranch: string | null): string[] {
  const lines = conflicts.runs.map(
    (run) =>
      `${plural(run.files.length, "file")} also changed by "${run.specTitle}" — merge one first`,
  );
  if (conflicts.base.length > 0) {
    lines.unshift(
      `${plural(conflicts.base.length, "file")} also changed on ${baseBranch ?? "the base branch"} since this run started`,
    );
  }
  return lines;
}
