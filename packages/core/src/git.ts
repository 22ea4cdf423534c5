import { execFile } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { coerceError } from "./errors.ts";

/**
 * Git plumbing for a run: a worktree and branch per run, change detection and one commit per
 * passed chunk. Every call runs `git` with argv (no shell) and a fixed identity.
 */

export class GitError extends Error {
  constructor(
    message: string,
    readonly args: readonly string[],
    readonly stderr: string,
  ) {
    super(message);
    this.name = "GitError";
  }
}

export const IDENTITY = ["-c", "user.name=glm-workers", "-c", "user.email=glm-workers@localhost"];

/**
 * What git gets of the server's environment: what it needs to find itself, its config and its
 * credentials helpers — not the server's secrets (a repository's hooks run with this).
 */
const GIT_ENV_KEYS = [
  "PATH",
  "HOME",
  "USER",
  "LOGNAME",
  "TMPDIR",
  "TZ",
  "XDG_CONFIG_HOME",
  "SSH_AUTH_SOCK",
  "GIT_SSH_COMMAND",
  "GIT_CONFIG_GLOBAL",
  "GIT_CONFIG_NOSYSTEM",
];

function gitEnv(extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const key of GIT_ENV_KEYS) if (process.env[key] !== undefined) env[key] = process.env[key];
  return { ...env, GIT_TERMINAL_PROMPT: "0", LC_ALL: "C", ...extra };
}

export interface GitExit {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `git <args>` in `cwd` and resolves with its exit code and output; rejects only when git
 * could not be run to its end (not found, aborted, output over the buffer).
 */
export function gitExit(
  cwd: string,
  args: readonly string[],
  opts: { signal?: AbortSignal; env?: Record<string, string> } = {},
): Promise<GitExit> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      "git",
      [...args],
      {
        cwd,
        maxBuffer: 64 * 1024 * 1024,
        env: gitEnv(opts.env),
        ...(opts.signal ? { signal: opts.signal } : {}),
      },
      (err, stdout, stderr) => {
        const code = err ? (err as { code?: unknown }).code : 0;
        if (err && typeof code !== "number") reject(coerceError(err));
        else
          resolvePromise({ code: code as number, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

/** Runs `git <args>` in `cwd` and resolves with stdout; any failure is a GitError. */
export async function git(
  cwd: string,
  args: readonly string[],
  opts: { signal?: AbortSignal; env?: Record<string, string> } = {},
): Promise<string> {
  const what = `git ${args.join(" ")}`;
  let r: GitExit;
  try {
    r = await gitExit(cwd, args, opts);
  } catch (err) {
    throw new GitError(`${what}: ${coerceError(err).message}`, args, "");
  }
  if (r.code !== 0) {
    const detail = r.stderr.trim() || `Command failed with exit code ${r.code}`;
    throw new GitError(`${what}: ${detail}`, args, r.stderr);
  }
  return r.stdout;
}

/** Whether `git <args>` exits 0 (false also when git cannot run). */
async function gitSucceeds(dir: string, args: readonly string[]): Promise<boolean> {
  return (await gitExit(dir, args).catch(() => null))?.code === 0;
}

/** The trimmed output of `git <args>`; null when it fails or prints nothing. */
async function gitValue(dir: string, args: readonly string[]): Promise<string | null> {
  const r = await gitExit(dir, args).catch(() => null);
  return r?.code === 0 ? r.stdout.trim() || null : null;
}

/** The top-level directory of the repository containing `dir`, or null when not in a repo. */
export async function gitTopLevel(dir: string): Promise<string | null> {
  // No `.git` here or above (and no GIT_DIR): git would say the same after a process start.
  if (!process.env.GIT_DIR && !hasGitAbove(resolve(dir))) return null;
  return gitValue(dir, ["rev-parse", "--show-toplevel"]);
}

/** Is there a `.git` (directory or worktree file) in `directory` or above it? No subprocess. */
export function hasGitAbove(directory: string): boolean {
  let dir = directory;
  for (let i = 0; i < 64; i++) {
    if (existsSync(join(dir, ".git"))) return true;
    const parent = dirname(dir);
    if (parent === dir) return false;
    dir = parent;
  }
  return true; // deeper than any real tree: let git decide
}

export async function isGitRepo(dir: string): Promise<boolean> {
  return (await gitTopLevel(dir)) !== null;
}

function hasCommit(dir: string): Promise<boolean> {
  return gitSucceeds(dir, ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"]);
}

export function branchExists(dir: string, branch: string): Promise<boolean> {
  return gitSucceeds(dir, ["show-ref", "--verify", "--quiet", `refs/heads/${branch}`]);
}

export function currentBranch(dir: string): Promise<string | null> {
  return gitValue(dir, ["symbolic-ref", "--quiet", "--short", "HEAD"]);
}

export function slugify(text: string, max = 40): string {
  const slug = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, max)
    .replace(/-+$/g, "");
  return slug || "spec";
}

/** `glm-workers/<spec-slug>-<short-id>` */
export function branchName(specTitle: string, id: string): string {
  const short =
    id
      .replace(/[^a-zA-Z0-9]/g, "")
      .slice(-8)
      .toLowerCase() || "run";
  return `glm-workers/${slugify(specTitle)}-${short}`;
}

/** Worktrees registered in the repository: path → branch (null when detached). */
export async function listWorktrees(repoDir: string): Promise<Map<string, string | null>> {
  const out = await git(repoDir, ["worktree", "list", "--porcelain"]);
  const map = new Map<string, string | null>();
  let path: string | null = null;
  for (const line of out.split("\n")) {
    if (line.startsWith("worktree ")) {
      path = line.slice("worktree ".length);
      map.set(path, null);
    } else if (line.startsWith("branch ") && path) {
      map.set(path, line.slice("branch ".length).replace(/^refs\/heads\//, ""));
    }
  }
  return map;
}

export interface Workspace {
  /** Where the agent works (a worktree, or the project directory itself). */
  workdir: string;
  /** The run's branch in a git repository, else null. */
  branch: string | null;
  isGit: boolean;
  /** True when the run works in the project directory itself (no worktree). */
  inPlace: boolean;
  /** Top-level directory of the worktree (git only). */
  repoRoot: string | null;
  /** True when the worktree was made for this run just now (its setup step has not run). */
  created: boolean;
  /** The branch checked out in the project when the run's branch was made (null: detached, no git). */
  baseBranch: string | null;
  /** The commit the run's branch started from (null: no git, or no commit yet). */
  baseCommit: string | null;
  /** Notes for the run log (fallbacks taken). */
  notes: string[];
}

export interface PrepareWorkspaceOptions {
  projectDir: string;
  specTitle: string;
  /** Used for a new branch name (`<slug>-<last 8 chars>`). */
  runId: string;
  useWorktree: boolean;
  /** Branch to reuse (resume, or the spec's branch from an earlier run). */
  branch?: string | null;
  /** Where new worktrees go; default `<git-common-dir>/glm-workers/worktrees`. */
  worktreeRoot?: string | null;
  /** The base recorded by an earlier run on `branch` (kept when the branch is reused). */
  baseBranch?: string | null;
  baseCommit?: string | null;
}

/**
 * Chooses where a run works. Not a git repo: the project directory itself. A git repo with
 * worktrees enabled: a worktree on the run's branch, reusing an existing worktree or branch
 * (resume), else a new branch from HEAD. A repository without any commit, or worktrees
 * disabled, works in place on the current branch.
 */
export async function prepareWorkspace(opts: PrepareWorkspaceOptions): Promise<Workspace> {
  const projectDir = resolve(opts.projectDir);
  if (!existsSync(projectDir)) throw new Error(`project directory ${projectDir} does not exist`);
  const top = await gitTopLevel(projectDir);
  const notes: string[] = [];
  if (!top) {
    return {
      workdir: projectDir,
      branch: null,
      isGit: false,
      inPlace: true,
      repoRoot: null,
      created: false,
      baseBranch: null,
      baseCommit: null,
      notes,
    };
  }
  const sub = relative(top, projectDir);
  const inPlace = async (): Promise<Workspace> => {
    const branch = await currentBranch(top);
    return {
      workdir: projectDir,
      branch,
      isGit: true,
      inPlace: true,
      repoRoot: top,
      created: false,
      baseBranch: branch,
      baseCommit: (await revParse(top, "HEAD")) ?? null,
      notes,
    };
  };
  if (!opts.useWorktree) return inPlace();
  if (!(await hasCommit(top))) {
    notes.push("the repository has no commit yet: working in place on the current branch");
    return inPlace();
  }

  const branch = opts.branch ?? branchName(opts.specTitle, opts.runId);
  const projectBranch = await currentBranch(top);
  const reused = await branchExists(top, branch);
  // A reused branch keeps the base its first run recorded; without one (an older run), the
  // fork point with the project's branch stands in.
  const base = reused
    ? {
        baseBranch: opts.baseBranch ?? projectBranch,
        baseCommit:
          opts.baseCommit ??
          (projectBranch ? await mergeBase(top, projectBranch, branch) : null) ??
          null,
      }
    : { baseBranch: projectBranch, baseCommit: await revParse(top, "HEAD") };
  const worktrees = await listWorktrees(top);
  for (const [path, b] of worktrees) {
    if (b === branch && existsSync(path)) {
      return {
        workdir: join(path, sub),
        branch,
        isGit: true,
        inPlace: false,
        repoRoot: path,
        created: false,
        ...base,
        notes,
      };
    }
  }
  await git(top, ["worktree", "prune"]).catch(() => "");
  const common = (await git(top, ["rev-parse", "--git-common-dir"])).trim();
  const commonAbs = isAbsolute(common) ? common : resolve(top, common);
  const root = opts.worktreeRoot ?? join(commonAbs, "glm-workers", "worktrees");
  mkdirSync(root, { recursive: true });
  let path = join(root, branch.replace(/[^a-zA-Z0-9._-]+/g, "-"));
  for (let n = 2; existsSync(path); n++) path = `${path.replace(/-\d+$/, "")}-${n}`;
  const args = reused
    ? ["worktree", "add", path, branch]
    : ["worktree", "add", "-b", branch, path, base.baseCommit ?? "HEAD"];
  await git(top, args);
  return {
    workdir: join(path, sub),
    branch,
    isGit: true,
    inPlace: false,
    repoRoot: path,
    created: true,
    ...base,
    notes,
  };
}

/** The commit `rev` names in `dir`, or null when it names none. */
export function revParse(dir: string, rev: string): Promise<string | null> {
  return gitValue(dir, ["rev-parse", "--verify", "--quiet", `${rev}^{commit}`]);
}

function mergeBase(dir: string, a: string, b: string): Promise<string | null> {
  return gitValue(dir, ["merge-base", a, b]);
}

/**
 * Stages everything in the worktree and commits it as glm-workers; resolves with the new
 * commit hash. `--allow-empty` keeps one commit per passed chunk even when the change was to
 * ignored files only.
 */
export async function commitAll(workdir: string, message: string): Promise<string> {
  await git(workdir, ["add", "-A"]);
  await git(workdir, [...IDENTITY, "commit", "--allow-empty", "--no-verify", "-q", "-m", message]);
  return (await git(workdir, ["rev-parse", "HEAD"])).trim();
}
