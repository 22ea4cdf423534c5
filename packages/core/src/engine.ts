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

export interface RunSpecDeps {
  control: RunControl;
  send: Send;
  /** Defaults to the executor registry (`createExecutor`). */
  createExecutor?: ExecutorFactory;
}

/**
 * Runs one spec (DESIGN §3) in the calling thread:
 * for each chunk that is not completed, in order — cancel it when a dependency failed or was
 * cancelled; execute (failure: non-zero exit, timeout, or an unchanged working tree); review
 * (strict JSON `{status, feedback, fixChunk?}`); `pass` → commit + completed; `needs_fix` →
 * completed with reviewStatus `needs_fix` (its work is committed too) and a fix chunk is
 * inserted right after it and run once (a fix that is not accepted fails the run); `fail` (or a
 * failed/malformed review) → the chunk fails, every remaining chunk is cancelled, the run
 * fails. An execution failure fails only that chunk and its dependents; independent chunks
 * still run and the run's outcome is `failed`.
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
    });
    for (const line of workspace.notes) {
      send({ type: "log", chunkId: null, level: "warn", line, at: Date.now() });
    }
    executor = (deps.createExecutor ?? defaultCreateExecutor)(run.executor);
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
      const blocker = blockedBy(state, chunk);
      if (blocker) {
        state.update(chunk, "cancelled", {
          status: "cancelled",
          error: `dependency "${blocker.title}" ${blocker.status}`,
          completedAt: Date.now(),
        });
        continue;
      }
      const result = await runChunk(ctx, chunk);
      if (result.kind === "aborted") throw new RunAbortedError(control.abortReason ?? "aborted");
      if (result.kind === "exec_failed") {
        outcome = "failed";
        firstError ??= `chunk "${chunk.title}" failed: ${result.error}`;
        if (chunk.fixOf !== null) {
          state.cancelFrom(i + 1, `the fix chunk "${chunk.title}" failed`);
          break;
        }
      } else if (result.kind === "review_failed") {
        outcome = "failed";
        firstError ??= `chunk "${chunk.title}" failed: ${result.error}`;
        state.cancelFrom(i + 1, `the run stopped after "${chunk.title}" failed its review`);
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
  });
}

/** The first dependency of `chunk` that failed or was cancelled in this run, if any. */
function blockedBy(state: RunState, chunk: ChunkSnapshot): ChunkSnapshot | null {
  for (const id of chunk.dependencies) {
    const dep = state.get(id);
    if (dep && (dep.status === "failed" || dep.status === "cancelled")) return dep;
  }
  return null;
}
