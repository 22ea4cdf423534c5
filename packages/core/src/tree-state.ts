import { createHash } from "node:crypto";
import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";
import { git } from "./git.ts";

/**
 * "Did the agent change the working tree?" A fingerprint is taken before and after a chunk is
 * executed; they differ when anything changed. In a git worktree it covers every path that
 * `git status` reports (so a file that was already dirty and is rewritten still counts) with
 * its size and mtime; without git it covers every file of the directory.
 */

const SKIP_DIRS = new Set([".git", "node_modules", ".glm-workers"]);
const MAX_FILES = 200_000;

async function statKey(path: string): Promise<string> {
  try {
    const st = await lstat(path, { bigint: true });
    return `${st.size}:${st.mtimeNs}:${st.ino}:${st.mode}`;
  } catch {
    return "gone";
  }
}

async function gitFingerprint(dir: string): Promise<string> {
  const out = await git(dir, ["status", "--porcelain=v1", "-z", "--untracked-files=all"]);
  const entries = out.split("\0").filter((e) => e.length > 3);
  const hash = createHash("sha1");
  const head = await git(dir, ["rev-parse", "--verify", "--quiet", "HEAD"]).catch(() => "");
  hash.update(`HEAD ${head.trim()}\n`);
  const top = (await git(dir, ["rev-parse", "--show-toplevel"])).trim();
  for (const entry of entries.sort()) {
    const path = entry.slice(3);
    hash.update(`${entry}\0${await statKey(join(top, path))}\n`);
  }
  return hash.digest("hex");
}

async function dirFingerprint(dir: string): Promise<string> {
  const hash = createHash("sha1");
  let count = 0;
  const walk = async (abs: string, rel: string): Promise<void> => {
    let names: string[];
    try {
      names = (await readdir(abs)).sort();
    } catch {
      return;
    }
    for (const name of names) {
      if (count++ > MAX_FILES) return;
      const childAbs = join(abs, name);
      const childRel = rel ? `${rel}/${name}` : name;
      const st = await lstat(childAbs, { bigint: true }).catch(() => null);
      if (!st) continue;
      if (st.isDirectory()) {
        if (SKIP_DIRS.has(name)) continue;
        hash.update(`d ${childRel}\n`);
        await walk(childAbs, childRel);
      } else {
        hash.update(`f ${childRel} ${st.size}:${st.mtimeNs}:${st.ino}:${st.mode}\n`);
      }
    }
  };
  await walk(dir, "");
  return hash.digest("hex");
}

export async function treeFingerprint(dir: string, isGit: boolean): Promise<string> {
  return isGit ? gitFingerprint(dir) : dirFingerprint(dir);
}
