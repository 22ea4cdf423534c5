import type { Changes } from "@glm-workers/db/events";
import { git } from "../git.ts";
import type { DiffFile, DiffFileStatus } from "./types.ts";

/** Reading what a run changed: files, counts and patches between two commits. */

/** A file's patch is cut after this many characters (`truncated`). */
export const PATCH_CAP = 200_000;
/** At most this many files get a patch; the rest are left out (`truncated` on the diff). */
export const FILE_CAP = 500;

/** Options every diff read shares: no external diff tools, no colour, renames found. */
const DIFF = ["diff", "--no-color", "--no-ext-diff", "-M"] as const;
/** Paths given to git are taken literally (no globs). */
const LITERAL = { GIT_LITERAL_PATHSPECS: "1" };

const STATUS: Record<string, DiffFileStatus> = {
  A: "added",
  C: "added",
  D: "deleted",
  M: "modified",
  R: "renamed",
  T: "modified",
};

interface Entry {
  path: string;
  oldPath: string | null;
  status: DiffFileStatus;
}

/** `--name-status -z`: `R100\0old\0new\0`, `M\0path\0`, … */
function parseNameStatus(out: string): Entry[] {
  const parts = out.split("\0");
  const entries: Entry[] = [];
  for (let i = 0; i < parts.length; ) {
    const code = parts[i++] ?? "";
    if (!code) continue;
    const letter = code[0] ?? "M";
    if (letter === "R" || letter === "C") {
      const oldPath = parts[i++] ?? "";
      const path = parts[i++] ?? "";
      entries.push({
        path,
        oldPath: letter === "R" ? oldPath : null,
        status: STATUS[letter] ?? "modified",
      });
    } else {
      entries.push({ path: parts[i++] ?? "", oldPath: null, status: STATUS[letter] ?? "modified" });
    }
  }
  return entries;
}

interface Count {
  additions: number;
  deletions: number;
  binary: boolean;
}

/** `--numstat -z`: `add\tdel\tpath\0`, or for a rename `add\tdel\t\0old\0new\0`; `-` for binary. */
function parseNumstat(out: string): Map<string, Count> {
  const parts = out.split("\0");
  const counts = new Map<string, Count>();
  for (let i = 0; i < parts.length; ) {
    const head = parts[i++] ?? "";
    if (!head) continue;
    const [add = "0", del = "0", inline = ""] = head.split("\t");
    let path = inline;
    if (!path) {
      i++; // the old path of a rename
      path = parts[i++] ?? "";
    }
    const binary = add === "-" || del === "-";
    counts.set(path, {
      additions: binary ? 0 : Number(add),
      deletions: binary ? 0 : Number(del),
      binary,
    });
  }
  return counts;
}

/** Splits a multi-file unified diff at its `diff --git` headers. */
function splitPatches(out: string): string[] {
  if (!out) return [];
  const pieces = out.split(/^(?=diff --git )/m);
  return pieces.filter((p) => p.startsWith("diff --git "));
}

/** Every file changed between `base` and `head`, with counts and (up to the caps) patches. */
export async function diffFiles(
  repo: string,
  base: string,
  head: string,
): Promise<{ files: DiffFile[]; truncated: boolean; stats: Changes }> {
  const [names, numstat] = await Promise.all([
    git(repo, [...DIFF, "--name-status", "-z", base, head]),
    git(repo, [...DIFF, "--numstat", "-z", base, head]),
  ]);
  const entries = parseNameStatus(names);
  const counts = parseNumstat(numstat);
  const shown = entries.slice(0, FILE_CAP);
  const paths = shown.flatMap((e) => (e.oldPath ? [e.oldPath, e.path] : [e.path]));
  // One process for every patch; limited to the shown files when there are more.
  const patchOut =
    shown.length === 0
      ? ""
      : await git(
          repo,
          [...DIFF, base, head, ...(entries.length > FILE_CAP ? ["--", ...paths] : [])],
          { env: LITERAL },
        );
  const patches = splitPatches(patchOut);
  const aligned = patches.length === shown.length;
  const files: DiffFile[] = [];
  for (const [i, entry] of shown.entries()) {
    const patch = aligned
      ? (patches[i] ?? "")
      : await git(
          repo,
          [...DIFF, base, head, "--", ...(entry.oldPath ? [entry.oldPath] : []), entry.path],
          {
            env: LITERAL,
          },
        );
    const count = counts.get(entry.path) ?? { additions: 0, deletions: 0, binary: false };
    const truncated = patch.length > PATCH_CAP;
    files.push({
      ...entry,
      ...count,
      patch: truncated ? patch.slice(0, patch.lastIndexOf("\n", PATCH_CAP) + 1) : patch,
      truncated,
    });
  }
  return { files, truncated: entries.length > shown.length, stats: sum(counts) };
}

/** `+additions −deletions in files` between two commits. */
export async function diffStats(repo: string, base: string, head: string): Promise<Changes> {
  return sum(parseNumstat(await git(repo, [...DIFF, "--numstat", "-z", base, head])));
}

function sum(counts: Map<string, Count>): Changes {
  let additions = 0;
  let deletions = 0;
  for (const c of counts.values()) {
    additions += c.additions;
    deletions += c.deletions;
  }
  return { files: counts.size, additions, deletions };
}

/** The paths changed between two commits; a rename counts as both its paths. */
export async function changedPaths(repo: string, base: string, head: string): Promise<Set<string>> {
  const out = await git(repo, [
    "diff",
    "--no-ext-diff",
    "--no-renames",
    "--name-only",
    "-z",
    base,
    head,
  ]);
  return new Set(out.split("\0").filter(Boolean));
}
