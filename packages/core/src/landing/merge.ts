import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MergeStrategy } from "@glm-workers/db/enums";
import { conflictError as conflict } from "../errors.ts";
import { currentBranch, GitError, git, gitExit, IDENTITY, revParse } from "../git.ts";

/**
 * Bringing a run's branch into the branch it started from, in the project's own checkout.
 * Everything that can refuse is decided before the checkout is touched: the merged commit is
 * built from trees alone (`merge-tree`, `commit-tree`; a rebase replays in a throw-away
 * worktree), and only then is the checkout fast-forwarded to it — which git itself does
 * completely or not at all. A refusal leaves the repository exactly as it was.
 */

/** Hooks of the repository do not run for our own plumbing. */
const NO_HOOKS = ["-c", "core.hooksPath=/dev/null"];

export interface MergeRequest {
  /** The repository's top-level directory (the user's checkout). */
  top: string;
  baseBranch: string;
  /** The run's branch (for messages) and its tip, the commit that is merged. */
  branch: string;
  runHead: string;
  strategy: MergeStrategy;
  message: string;
}

/** The user's identity when git has one for this repository, else the product's. */
async function identity(top: string): Promise<string[]> {
  const [name, email] = await Promise.all([
    gitExit(top, ["config", "user.name"]),
    gitExit(top, ["config", "user.email"]),
  ]);
  return name.stdout.trim() && email.stdout.trim() ? [] : IDENTITY;
}

/** Paths with staged or unstaged changes to tracked files (untracked files do not count). */
export async function uncommittedChanges(top: string): Promise<string[]> {
  const out = await git(top, ["status", "--porcelain=v1", "-z", "--untracked-files=no"]);
  const files: string[] = [];
  const parts = out.split("\0");
  for (let i = 0; i < parts.length; i++) {
    const entry = parts[i] ?? "";
    if (!entry) continue;
    files.push(entry.slice(3));
    if (entry[0] === "R" || entry[0] === "C") i++; // the original path follows
  }
  return files;
}

/** Refuses unless `baseBranch` is checked out in `top` with a clean tracked tree. */
export async function checkCheckout(top: string, baseBranch: string): Promise<string> {
  const checkedOut = await currentBranch(top);
  if (checkedOut !== baseBranch) {
    throw conflict(
      "WRONG_BRANCH",
      `the project has ${checkedOut ? `branch ${checkedOut}` : "a detached HEAD"} checked out; the run started from ${baseBranch}: check out ${baseBranch} to merge`,
    );
  }
  const gitDir = (await git(top, ["rev-parse", "--absolute-git-dir"])).trim();
  for (const marker of [
    "MERGE_HEAD",
    "CHERRY_PICK_HEAD",
    "REVERT_HEAD",
    "rebase-merge",
    "rebase-apply",
  ]) {
    if (existsSync(join(gitDir, marker))) {
      throw conflict(
        "DIRTY_WORKTREE",
        `the project's checkout is in the middle of a merge, rebase or cherry-pick: finish or abort it first`,
      );
    }
  }
  const dirty = await uncommittedChanges(top);
  if (dirty.length > 0) {
    throw conflict(
      "DIRTY_WORKTREE",
      `the project's working tree has uncommitted changes (${dirty.slice(0, 5).join(", ")}${dirty.length > 5 ? ", …" : ""}): commit or stash them first`,
      dirty,
    );
  }
  const head = await revParse(top, "HEAD");
  if (!head) throw conflict("NO_BRANCH", `branch ${baseBranch} has no commit`);
  return head;
}

/** The merged tree of two commits, or the conflicting paths. */
async function mergeTree(
  top: string,
  ours: string,
  theirs: string,
): Promise<{ tree: string } | { conflicts: string[] }> {
  const r = await gitExit(top, ["merge-tree", "--write-tree", "--name-only", "-z", ours, theirs]);
  if (r.code !== 0 && r.code !== 1) {
    throw new GitError(`git merge-tree: ${r.stderr.trim()}`, ["merge-tree"], r.stderr);
  }
  const parts = r.stdout.split("\0");
  const tree = parts[0]?.trim() ?? "";
  if (r.code === 0) return { tree };
  const conflicts: string[] = [];
  for (let i = 1; i < parts.length && parts[i]; i++) conflicts.push(parts[i] as string);
  return { conflicts: [...new Set(conflicts)] };
}

async function commitTree(
  top: string,
  tree: string,
  parents: string[],
  message: string,
): Promise<string> {
  const who = await identity(top);
  const args = [...who, "commit-tree", tree, ...parents.flatMap((p) => ["-p", p]), "-m", message];
  return (await git(top, args)).trim();
}

/** Replays the run's commits onto `onto` in a throw-away worktree; the new tip, or the conflicts. */
async function replay(
  top: string,
  onto: string,
  runHead: string,
): Promise<{ commit: string } | { conflicts: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), "glm-workers-rebase-"));
  const path = join(dir, "tree");
  await git(top, [...NO_HOOKS, "worktree", "add", "--detach", "--quiet", path, runHead]);
  try {
    const who = await identity(top);
    const r = await gitExit(path, [...NO_HOOKS, ...who, "rebase", "--no-autosquash", onto]);
    if (r.code === 0) return { commit: (await git(path, ["rev-parse", "HEAD"])).trim() };
    const unmerged = await gitExit(path, ["diff", "--name-only", "-z", "--diff-filter=U"]);
    await gitExit(path, [...NO_HOOKS, "rebase", "--abort"]);
    const conflicts = unmerged.stdout.split("\0").filter(Boolean);
    if (conflicts.length === 0) {
      throw new GitError(`git rebase: ${r.stderr.trim() || r.stdout.trim()}`, ["rebase"], r.stderr);
    }
    return { conflicts };
  } finally {
    await gitExit(top, ["worktree", "remove", "--force", path]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    await gitExit(top, ["worktree", "prune"]).catch(() => undefined);
  }
}

/** Untracked files a checkout of the merged commit would overwrite (git lists them on refusal). */
function overwrittenUntracked(stderr: string): string[] {
  const files: string[] = [];
  let inList = false;
  for (const line of stderr.split("\n")) {
    if (/would be (overwritten|removed)/.test(line)) inList = true;
    else if (inList && /^\s+\S/.test(line)) files.push(line.trim());
    else if (inList) inList = false;
  }
  return files;
}

/**
 * Lands `branch` on `baseBranch` in the checkout `top`; resolves with the base branch's new
 * head. Refusals (`OrchestratorError` CONFLICT with a reason) change nothing.
 */
export async function mergeBranch(req: MergeRequest): Promise<string> {
  const { top, baseBranch, branch, runHead, strategy, message } = req;
  const onto = await checkCheckout(top, baseBranch);

  const merged = await mergeTree(top, onto, runHead);
  if ("conflicts" in merged) {
    throw conflict(
      "MERGE_CONFLICT",
      `${branch} conflicts with ${baseBranch} in ${merged.conflicts.length} file${merged.conflicts.length === 1 ? "" : "s"}: ${merged.conflicts.slice(0, 10).join(", ")}`,
      merged.conflicts,
    );
  }
  let target: string;
  if (strategy === "squash") target = await commitTree(top, merged.tree, [onto], message);
  else if (strategy === "merge")
    target = await commitTree(top, merged.tree, [onto, runHead], message);
  else {
    const replayed = await replay(top, onto, runHead);
    if ("conflicts" in replayed) {
      throw conflict(
        "MERGE_CONFLICT",
        `rebasing ${branch} onto ${baseBranch} stops at a conflict in ${replayed.conflicts.join(", ")}`,
        replayed.conflicts,
      );
    }
    target = replayed.commit;
  }

  // The only step that touches the checkout: all or nothing, and only from `onto`.
  const ff = await gitExit(top, [...NO_HOOKS, "merge", "--ff-only", "--quiet", target]);
  if (ff.code !== 0) {
    const files = overwrittenUntracked(ff.stderr);
    if (files.length > 0) {
      throw conflict(
        "UNTRACKED_FILES",
        `untracked files in the project would be overwritten by the merge: ${files.slice(0, 10).join(", ")}: move them away first`,
        files,
      );
    }
    const now = await revParse(top, "HEAD");
    if (now !== onto) {
      throw conflict("WRONG_BRANCH", `${baseBranch} moved while merging: try again`);
    }
    throw new GitError(`git merge --ff-only: ${ff.stderr.trim()}`, ["merge"], ff.stderr);
  }
  return target;
}
