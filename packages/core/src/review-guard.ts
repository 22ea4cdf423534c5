import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { git } from "./git.ts";
import { treeFingerprint } from "./tree-state.ts";

/**
 * A reviewer must leave the work alone. Before a review the working tree is recorded (HEAD and
 * the tree of every tracked and untracked, not ignored, file, written with a throw-away index);
 * afterwards it is compared, and whatever the reviewer changed — files, new files, deletions,
 * commits — is put back exactly as it was. Without git only the detection is possible.
 */

export interface TreeRecord {
  isGit: boolean;
  head: string | null;
  /** git: the tree object of the whole working tree; otherwise a fingerprint. */
  tree: string;
}

export interface TreeCheck {
  changed: boolean;
  /** What the reviewer touched (paths, and a moved HEAD). */
  touched: string[];
  /** The tree is back as it was recorded. */
  reverted: boolean;
}

async function head(dir: string): Promise<string | null> {
  const out = await git(dir, ["rev-parse", "--verify", "--quiet", "HEAD"]).catch(() => "");
  return out.trim() || null;
}

/** The tree object of the working tree as it is (the real index is not touched). */
async function writeWorkTree(dir: string): Promise<string> {
  const index = join(tmpdir(), `glm-review-index-${randomUUID()}`);
  const env = { GIT_INDEX_FILE: index };
  try {
    // start from HEAD so tracked files that a .gitignore pattern matches still count
    if (await head(dir)) await git(dir, ["read-tree", "HEAD"], { env });
    await git(dir, ["add", "-A", "."], { env });
    return (await git(dir, ["write-tree"], { env })).trim();
  } finally {
    rmSync(index, { force: true });
  }
}

export async function recordTree(dir: string, isGit: boolean): Promise<TreeRecord> {
  if (!isGit) return { isGit, head: null, tree: await treeFingerprint(dir, false) };
  return { isGit, head: await head(dir), tree: await writeWorkTree(dir) };
}

async function names(dir: string, args: string[]): Promise<string[]> {
  const out = await git(dir, [...args, "-z"]);
  return out.split("\0").filter(Boolean);
}

/** Compares the tree with `before` and, in git, restores `before` when anything changed. */
export async function checkTree(dir: string, before: TreeRecord): Promise<TreeCheck> {
  if (!before.isGit) {
    const now = await treeFingerprint(dir, false);
    const changed = now !== before.tree;
    return { changed, touched: changed ? ["(files in the directory)"] : [], reverted: false };
  }
  const nowHead = await head(dir);
  const nowTree = await writeWorkTree(dir);
  if (nowHead === before.head && nowTree === before.tree) {
    return { changed: false, touched: [], reverted: false };
  }
  const touched = await names(dir, ["diff", "--name-only", before.tree, nowTree]);
  if (nowHead !== before.head)
    touched.unshift(`HEAD (moved from ${short(before.head)} to ${short(nowHead)})`);
  await restore(dir, before);
  const after = await writeWorkTree(dir);
  return {
    changed: true,
    touched,
    reverted: after === before.tree && (await head(dir)) === before.head,
  };
}

async function restore(dir: string, before: TreeRecord): Promise<void> {
  if (before.head) await git(dir, ["reset", "-q", "--hard", before.head]);
  // write every file of the recorded tree, then drop what the tree did not have
  const index = join(tmpdir(), `glm-review-index-${randomUUID()}`);
  const env = { GIT_INDEX_FILE: index };
  try {
    await git(dir, ["read-tree", before.tree], { env });
    await git(dir, ["checkout-index", "-a", "-f"], { env });
  } finally {
    rmSync(index, { force: true });
  }
  const extra = await names(dir, [
    "diff",
    "--name-only",
    "--diff-filter=A",
    before.tree,
    await writeWorkTree(dir),
  ]);
  for (const path of extra) rmSync(join(dir, path), { force: true, recursive: true });
}

function short(hash: string | null): string {
  return hash ? hash.slice(0, 10) : "none";
}
