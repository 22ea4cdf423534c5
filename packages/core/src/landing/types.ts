import type { MergeStrategy } from "@glm-workers/db/enums";

/** What the landing API answers (REST and tRPC alike). */

export type DiffFileStatus = "added" | "modified" | "deleted" | "renamed";

export interface DiffFile {
  /** The file's path after the change (a deleted file: its old path). */
  path: string;
  /** A renamed file's path before the change; null otherwise. */
  oldPath: string | null;
  status: DiffFileStatus;
  additions: number;
  deletions: number;
  binary: boolean;
  /** The unified diff of this file (`diff --git …` included); cut at the cap when `truncated`. */
  patch: string;
  truncated: boolean;
}

export interface DiffView {
  base: { branch: string | null; commit: string };
  head: { branch: string | null; commit: string };
  /** The chunk whose commit this is (`?chunkId=`); null: the whole run. */
  chunkId: string | null;
  files: DiffFile[];
  stats: { files: number; additions: number; deletions: number };
  /** True when files were left out because the diff has more than the file cap. */
  truncated: boolean;
}

export interface ConflictingRun {
  workerId: string;
  specId: string;
  specTitle: string;
  files: string[];
}

export interface ConflictsView {
  /** Paths changed on the base branch since the run started that the run changed too. */
  base: string[];
  /** Other unlanded runs of the project that changed the same paths as this run. */
  runs: ConflictingRun[];
}

export interface MergeResult {
  merged: true;
  strategy: MergeStrategy;
  /** The base branch's new head. */
  commit: string;
  /** The branch the work went into. */
  into: string;
  /** Whether the run's branch was kept. */
  branchKept: boolean;
}
