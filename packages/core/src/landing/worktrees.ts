import { existsSync } from "node:fs";
import { lstat, opendir } from "node:fs/promises";
import { join, sep } from "node:path";
import { branchExists, gitExit, gitTopLevel, listWorktrees } from "../git.ts";

/** The run worktrees of a repository: removal, clean-up and the disk they take. */

/** Branches of runs are named `glm-workers/…` (see `branchName`). */
const RUN_BRANCH_PREFIX = "glm-workers/";

/** A landed run's tip stays reachable under this ref after its branch is deleted (its diff). */
export function landedRef(workerId: string): string {
  return `refs/glm-workers/landed/${workerId}`;
}

/** Removes a run's worktree (when it is still there) and, when asked, its branch. */
export async function removeRunWorktree(
  top: string,
  opts: { branch: string | null; workdir: string | null; deleteBranch: boolean },
): Promise<void> {
  const worktrees = await listWorktrees(top);
  for (const [path, branch] of worktrees) {
    if (path === top) continue;
    const inside = opts.workdir === path || opts.workdir?.startsWith(`${path}${sep}`) === true;
    const ours = (opts.branch !== null && branch === opts.branch) || inside;
    if (!ours) continue;
    const r = await gitExit(top, ["worktree", "remove", "--force", path]);
    if (r.code !== 0 && existsSync(path))
      throw new Error(`could not remove the worktree ${path}: ${r.stderr.trim()}`);
  }
  await gitExit(top, ["worktree", "prune"]);
  forgetWorktreeUsage();
  if (opts.deleteBranch && opts.branch && (await branchExists(top, opts.branch))) {
    const r = await gitExit(top, ["branch", "-D", opts.branch]);
    if (r.code !== 0)
      throw new Error(`could not delete the branch ${opts.branch}: ${r.stderr.trim()}`);
  }
}

/** Disk taken by a directory tree (allocated blocks, like `du`), not following links. */
export async function diskUsage(dir: string): Promise<number> {
  let total = 0;
  const stack = [dir];
  while (stack.length > 0) {
    const current = stack.pop() as string;
    let handle: Awaited<ReturnType<typeof opendir>>;
    try {
      handle = await opendir(current);
    } catch {
      continue;
    }
    for await (const entry of handle) {
      const path = join(current, entry.name);
      try {
        const st = await lstat(path);
        total += st.blocks * 512;
        if (entry.isDirectory()) stack.push(path);
      } catch {
        // gone meanwhile
      }
    }
  }
  return total;
}

/** How many run worktrees a repository has and the bytes they take on disk. */
export async function runWorktreeUsage(top: string): Promise<{ count: number; bytes: number }> {
  const worktrees = await listWorktrees(top);
  let count = 0;
  let bytes = 0;
  for (const [path, branch] of worktrees) {
    if (path === top || !branch?.startsWith(RUN_BRANCH_PREFIX) || !existsSync(path)) continue;
    count++;
    bytes += await diskUsage(path);
  }
  return { count, bytes };
}

const usageCache = new Map<
  string,
  { at: number; value: Promise<{ count: number; bytes: number }> }
>();
/** How long a project's worktree disk use is reused before it is measured again. */
const USAGE_TTL_MS = 30_000;

/**
 * The run worktrees of the repository holding `directory` (none when it is not one): how many
 * and their bytes on disk, measured at most every 30 s per repository.
 */
export async function worktreeUsage(directory: string): Promise<{ count: number; bytes: number }> {
  const top = await gitTopLevel(directory).catch(() => null);
  if (!top) return { count: 0, bytes: 0 };
  const cached = usageCache.get(top);
  if (cached && Date.now() - cached.at < USAGE_TTL_MS) return cached.value;
  const value = runWorktreeUsage(top);
  usageCache.set(top, { at: Date.now(), value });
  value.catch(() => usageCache.delete(top));
  return value;
}

/** Forgets measured disk use (after a worktree was added or removed). */
export function forgetWorktreeUsage(): void {
  usageCache.clear();
}
