import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { z } from "zod";
import { coerceError } from "./errors.ts";
import { type ChildExit, runChild } from "./executors/child.ts";
import { git, type Workspace } from "./git.ts";
import { RunAbortedError, type RunControl } from "./run-control.ts";
import type { Send } from "./run-state.ts";

/**
 * The repository's setup command (DESIGN §3): a `glm-workers.json` at the root of the
 * repository with `{"setup": "<shell command>"}` runs that command in each new worktree before
 * the first chunk — `sh -c` in the worktree's top level, with the run's time limit, its output
 * streamed to the run log, pause/resume/abort through the RunControl like an agent step. The
 * command comes from the repository only, never from an API caller, and it never sees the
 * server's secrets (the agent's key above all).
 */

/** The repository's own configuration file, at the root of the repository. */
export const REPO_CONFIG_FILE = "glm-workers.json";
/** Written to the worktree's private git dir once its setup succeeded. */
export const SETUP_MARKER_FILE = "glm-workers-setup.json";

/** `glm-workers.json`; keys other than `setup` are allowed (kept for later use). */
export const repoConfigSchema = z.looseObject({
  setup: z.string().trim().min(1, "must be a non-empty shell command").optional(),
});
export type RepoConfig = z.infer<typeof repoConfigSchema>;

/** A setup failure: the run fails with this message and no chunk runs. */
export class WorktreeSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WorktreeSetupError";
  }
}

/** What of the output a failure shows: the last lines, at most this many characters. */
const TAIL_LINES = 20;
const TAIL_CHARS = 2000;
/** How much of a long command the live state and the messages show. */
const SHOWN_COMMAND = 200;

/**
 * Reads and validates `glm-workers.json` in `root`. Null when there is none; a
 * WorktreeSetupError naming the file when it cannot be read, is not JSON or has a wrong shape.
 */
export function readRepoConfig(root: string): RepoConfig | null {
  const file = join(root, REPO_CONFIG_FILE);
  if (!existsSync(file)) return null;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new WorktreeSetupError(
      `the repository's ${REPO_CONFIG_FILE} could not be read (${file}): ${coerceError(err).message}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new WorktreeSetupError(
      `the repository's ${REPO_CONFIG_FILE} is not valid JSON (${file}): ${coerceError(err).message}`,
    );
  }
  const parsed = repoConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .map((i) => `${i.path.length > 0 ? `${i.path.join(".")}: ` : ""}${i.message}`)
      .join("; ");
    throw new WorktreeSetupError(
      `the repository's ${REPO_CONFIG_FILE} is invalid (${file}): ${issues} — expected {"setup": "<shell command>"}`,
    );
  }
  return parsed.data;
}

/** Variable names a repository script never gets (secrets, and the agent's own settings). */
const SECRET_NAME =
  /KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|^ZHIPU_|^ZAI_|^GLM_|^DATABASE_URL$/i;

/** The server's environment minus its secrets: what the setup command runs with. */
export function setupEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || SECRET_NAME.test(name)) continue;
    out[name] = value;
  }
  return out;
}

/** What the marker records: the command that succeeded and when. */
export interface SetupMarker {
  command: string;
  succeededAt: string;
  durationMs: number;
}

/** The worktree's private git dir (`git rev-parse --absolute-git-dir`). */
async function gitDirOf(root: string, signal?: AbortSignal): Promise<string> {
  const out = (
    await git(root, ["rev-parse", "--absolute-git-dir"], signal ? { signal } : {})
  ).trim();
  return isAbsolute(out) ? out : join(root, out);
}

function readMarker(file: string): SetupMarker | null {
  try {
    const json = JSON.parse(readFileSync(file, "utf8")) as Partial<SetupMarker>;
    return typeof json.command === "string" ? (json as SetupMarker) : null;
  } catch {
    return null;
  }
}

export interface WorktreeSetupOptions {
  workspace: Workspace;
  control: RunControl;
  send: Send;
  /** The run's time limit (`chunkTimeoutMs`); time spent paused does not count. */
  timeoutMs: number;
  /** Defaults to `setupEnv(process.env)`. */
  env?: NodeJS.ProcessEnv;
}

export type WorktreeSetupOutcome =
  /** No setup applies: in place, not git, or no `setup` in the file. */
  | { kind: "none" }
  /** It already succeeded in this worktree (an earlier run): not repeated. */
  | { kind: "done-before"; marker: SetupMarker }
  | { kind: "ran"; command: string; durationMs: number };

/**
 * Runs the repository's setup command in the run's worktree when it applies: a worktree made
 * for a run (not in place, git), and not already set up (its marker is missing, or the
 * worktree was made just now). Resolves once it succeeded or was not needed; throws a
 * WorktreeSetupError when the file is invalid or the command fails or times out, and
 * RunAbortedError when the run is aborted meanwhile.
 */
export async function runWorktreeSetup(opts: WorktreeSetupOptions): Promise<WorktreeSetupOutcome> {
  const { workspace, control, send } = opts;
  const log = (level: "info" | "warn" | "error", line: string) =>
    send({ type: "log", chunkId: null, level, line, at: Date.now() });

  if (workspace.inPlace || !workspace.isGit || !workspace.repoRoot) {
    const root = workspace.repoRoot ?? workspace.workdir;
    if (existsSync(join(root, REPO_CONFIG_FILE))) {
      log(
        "warn",
        `setup: ${REPO_CONFIG_FILE} found, but its setup command runs only in a worktree made for the run; skipped for this in-place run`,
      );
    }
    return { kind: "none" };
  }

  const root = workspace.repoRoot;
  const config = readRepoConfig(root);
  const command = config?.setup;
  if (!command) return { kind: "none" };

  await control.checkpoint();
  const marker = join(await gitDirOf(root, control.signal), SETUP_MARKER_FILE);
  if (!workspace.created) {
    const before = readMarker(marker);
    if (before) {
      log("info", `setup: already done in this worktree (${before.succeededAt}); not repeated`);
      return { kind: "done-before", marker: before };
    }
  } else {
    rmSync(marker, { force: true }); // a stale marker of a worktree that was at this path before
  }

  const shown = showCommand(command);
  const timeoutMs = opts.timeoutMs;
  const setState = (text: string | null) =>
    send({ type: "state", chunkId: null, text, at: Date.now() });

  await control.checkpoint();
  log("info", `setup: running \`${shown}\` in ${root}`);
  setState(`setting up the worktree: ${shown}`.slice(0, 500));
  const started = Date.now();
  const output: string[] = [];
  const remember = (line: string) => {
    output.push(line);
    if (output.length > TAIL_LINES) output.shift();
  };
  let exit: ChildExit | null = null;
  const handle = runChild({
    file: "sh",
    args: ["-c", command],
    cwd: root,
    env: opts.env ?? setupEnv(process.env),
    timeoutMs,
    onStdoutLine: (line) => {
      remember(line);
      log("info", `setup: ${line}`);
    },
    onStderrLine: (line) => {
      remember(line);
      log("warn", `setup: ${line}`);
    },
    settle: (e) => {
      exit = e;
      const ok = e.spawnError === null && !e.timedOut && !e.aborted && e.exitCode === 0;
      return {
        ok,
        exitCode: e.exitCode,
        signal: e.signal,
        timedOut: e.timedOut,
        aborted: e.aborted,
        output: "",
        error: null,
      };
    },
  });
  // the pool's hard-abort fallback ends this tree if the thread itself has to go
  if (handle.pid !== undefined) send({ type: "process", pid: handle.pid, at: Date.now() });
  try {
    await control.attach(handle);
    await handle.result;
  } finally {
    control.detach(handle);
    setState(null);
  }

  const e = exit as ChildExit | null;
  if (!e || e.aborted || control.aborted) {
    throw new RunAbortedError(control.abortReason ?? e?.abortReason ?? "aborted");
  }
  const step = `the setup step (\`${shown}\`)`;
  let error: string | null = null;
  if (e.spawnError) error = `${step} could not be started: ${e.spawnError.message}`;
  else if (e.timedOut) error = `${step} timed out after ${formatSeconds(timeoutMs)}`;
  else if (e.exitCode !== 0) {
    const how = e.signal
      ? `was ended by signal ${e.signal}`
      : `failed with exit code ${e.exitCode}`;
    error = `${step} ${how}: ${tail(output)}`;
  }
  if (error) {
    log("error", `setup: ${error}`);
    throw new WorktreeSetupError(error);
  }

  const durationMs = Date.now() - started;
  const record: SetupMarker = { command, succeededAt: new Date().toISOString(), durationMs };
  try {
    writeFileSync(marker, `${JSON.stringify(record, null, 2)}\n`);
  } catch (err) {
    // the setup itself succeeded; a retry would only run it once more
    log("warn", `setup: could not record the setup in ${marker}: ${coerceError(err).message}`);
  }
  log("info", `setup: done in ${formatSeconds(durationMs)}`);
  return { kind: "ran", command, durationMs };
}

function showCommand(command: string): string {
  const one = command.replace(/\s*\n\s*/g, " ");
  return one.length > SHOWN_COMMAND ? `${one.slice(0, SHOWN_COMMAND - 1)}…` : one;
}

function tail(lines: readonly string[]): string {
  const text = lines.join("\n").trim();
  if (!text) return "(no output)";
  return text.length > TAIL_CHARS ? `…${text.slice(-(TAIL_CHARS - 1))}` : text;
}

function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${s >= 10 || Number.isInteger(s) ? Math.round(s) : s.toFixed(1)} s`;
}
