import { type ChunkContext, runChunk } from "./chunk-runner.ts";
import { coerceError } from "./errors.ts";
import { createExecutor as defaultCreateExecutor } from "./executors/index.ts";
import type { Executor, ExecutorFactory } from "./executors/types.ts";
import { prepareWorkspace, type Workspace } from "./git.ts";
import {
  type ChunkSnapshot,
  type RunOutcome,
  type RunResult,
  type RunSnapshot,
  type RunSnapshotInput,
  runSnapshotSchema,
} from "./protocol.ts";
import { RunAbortedError, type RunControl } from "./run-control.ts";
import { RunState, type Send } from "./run-state.ts";
import { runWorktreeSetup, WorktreeSetupError } from "./worktree-setup.ts";

export interface RunSpecDeps {
  control: RunControl;
  send: Send;
  /** Defaults to the executor registry (`createExecutor`). */
  createExecutor?: ExecutorFactory;
}

/**
 * Runs one spec (DESIGN §3) in the calling thread:
 * for each chunk that is not completed, in order — execute; review (strict JSON
 * `{status, feedback, fixChunk?}`); `pass` → commit + completed; `needs_fix` → completed with
 * reviewStatus `needs_fix` (its work is committed too) and a fix chunk is inserted right after
 * it and run once. Whatever fails a chunk — the agent exits non-zero, times out or changes
 * nothing, the review says `fail`, fails itself or answers malformed, a fix is not accepted —
 * stops the run: the chunk is failed, every later chunk that is not completed is `cancelled`
 * without being started, and the run's outcome is `failed` with that chunk's error.
 *
 * A run only ever sees its own failures (a retry starts with every chunk that is not completed
 * back to `pending`, see RunState), so no chunk is reached with a failed or cancelled
 * dependency; a dependency's failure cancels its dependents like every other later chunk.
 *
 * Before the first chunk, the repository's `glm-workers.json` setup command runs in a worktree
 * made for the run (see worktree-setup.ts); when it fails, the run fails with its error and every
 * chunk that is not completed is `cancelled` without being started.
 *
 * Every change is sent as a typed message; the returned result is also sent as `done`.
 */
export async function runSpec(
  input: RunSnapshot | RunSnapshotInput,
  deps: RunSpecDeps,
): Promise<RunResult> {
  const { control, send } = deps;
  send({ type: "ready", at: Date.now() });
  const parsed = runSnapshotSchema.safeParse(input);
  if (!parsed.success) {
    const error = `invalid run snapshot: ${parsed.error.issues
      .map((i) => `${i.path.join(".")}: ${i.message}`)
      .join("; ")}`;
    return finish(send, { outcome: "failed", error, progress: emptyProgress() });
  }
  const run = parsed.data;
  const state = new RunState(run.chunks, send);
  if (run.options.startPaused) await control.pause();
  state.sendProgress(true);

  let executor: Executor | null = null;
  let outcome: RunOutcome = "completed";
  let firstError: string | null = null;
  try {
    // A pause that arrives while the thread starts holds the set-up too: after `paused` the
    // run writes nothing and says nothing until it is resumed.
    await control.checkpoint();
    const workspace = await openWorkspace(run);
    await control.checkpoint();
    send({
      type: "workspace",
      workdir: workspace.workdir,
      branch: workspace.branch,
      isGit: workspace.isGit,
      baseBranch: workspace.baseBranch,
      baseCommit: workspace.baseCommit,
    });
    for (const line of workspace.notes) {
      send({ type: "log", chunkId: null, level: "warn", line, at: Date.now() });
    }
    // The repository's `glm-workers.json` setup command, once per worktree made for a run.
    // A failure there fails the run before any chunk (they are cancelled below).
    await runWorktreeSetup({ workspace, control, send, timeoutMs: run.options.chunkTimeoutMs });
    await control.checkpoint();
    executor = (deps.createExecutor ?? defaultCreateExecutor)({
      ...run.executor,
      runId: run.workerId,
    });
    send({
      type: "log",
      chunkId: null,
      level: "info",
      line: `Executor: ${executor.label}; working in ${workspace.workdir}${
        workspace.branch ? ` on branch ${workspace.branch}` : ""
      }`,
      at: Date.now(),
    });
    const ctx: ChunkContext = { run, state, control, executor, workspace, send };

    for (let i = 0; i < state.chunks.length; i++) {
      const chunk = state.chunks[i] as ChunkSnapshot;
      if (chunk.status !== "pending") continue;
      await control.checkpoint();
      const result = await runChunk(ctx, chunk);
      if (result.kind === "aborted") throw new RunAbortedError(control.abortReason ?? "aborted");
      if (result.kind === "failed") {
        outcome = "failed";
        firstError = `chunk "${chunk.title}" failed: ${result.error}`;
        state.cancelFrom(i + 1, `the run stopped after "${chunk.title}" failed`);
        break;
      }
    }
  } catch (err) {
    if (err instanceof RunAbortedError || control.aborted) {
      outcome = "aborted";
      firstError = control.abortReason ?? "aborted";
    } else {
      outcome = "failed";
      firstError = coerceError(err).message;
      // no chunk runs after a failed setup: like after a failed chunk, the rest is cancelled
      if (err instanceof WorktreeSetupError) {
        state.cancelFrom(0, "the run stopped: the worktree's setup step failed");
      }
    }
  } finally {
    await executor?.close().catch(() => {});
  }
  if (control.aborted) {
    outcome = "aborted";
    firstError = control.abortReason ?? "aborted";
  }
  return finish(send, { outcome, error: firstError, progress: state.progress() });
}

function emptyProgress() {
  return { current: 0, total: 0, passed: 0, failed: 0 };
}

function finish(send: Send, result: RunResult): RunResult {
  send({ type: "progress", progress: result.progress, at: Date.now() });
  send({ type: "done", ...result, at: Date.now() });
  return result;
}

function openWorkspace(run: RunSnapshot): Promise<Workspace> {
  return prepareWorkspace({
    projectDir: run.project.directory,
    specTitle: run.spec.title,
    runId: run.workerId,
    useWorktree: run.options.useWorktree,
    branch: run.options.branch ?? run.spec.branch,
    worktreeRoot: run.options.worktreeRoot ?? null,
    baseBranch: run.options.baseBranch,
    baseCommit: run.options.baseCommit,
  });
}
