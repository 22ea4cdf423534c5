import { randomUUID } from "node:crypto";
import { coerceError } from "./errors.ts";
import type { ExecuteResult, ExecutionHandle, Executor, ExecutorEvent } from "./executors/types.ts";
import { commitAll, type Workspace } from "./git.ts";
import { continuationPrompt, executePrompt, reviewPrompt } from "./prompts.ts";
import type { ChunkSnapshot, RunSnapshot } from "./protocol.ts";
import { parseReview } from "./review.ts";
import { checkTree, recordTree } from "./review-guard.ts";
import { RunAbortedError, type RunControl } from "./run-control.ts";
import type { RunState, Send } from "./run-state.ts";
import { treeFingerprint } from "./tree-state.ts";

export interface ChunkContext {
  run: RunSnapshot;
  state: RunState;
  control: RunControl;
  executor: Executor;
  workspace: Workspace;
  send: Send;
}

/**
 * - `passed`: reviewed `pass`, committed, completed.
 * - `needs_fix`: completed with reviewStatus `needs_fix` (and committed); `fix` was inserted
 *   right after it.
 * - `failed`: the chunk is failed and the run stops (the engine cancels every later chunk).
 *   Any of: the agent failed, timed out or changed nothing; the review said `fail`, gave a
 *   malformed answer or itself failed; a fix chunk was not accepted; the chunk could not be
 *   run at all (e.g. a git error while committing). `error` says which.
 * - `aborted`: the run was aborted; the chunk is back to `pending`.
 */
export type ChunkOutcome =
  | { kind: "passed" }
  | { kind: "needs_fix"; fix: ChunkSnapshot }
  | { kind: "failed"; error: string }
  | { kind: "aborted" };

const SUMMARY_MAX = 4000;

function forward(ctx: ChunkContext, chunkId: string, step: () => "executing" | "reviewing") {
  return (event: ExecutorEvent) => {
    const at = Date.now();
    if (event.type === "process") {
      // the pool's hard-abort fallback ends the tree of the last pid a step reported
      ctx.send({ type: "step", chunkId, step: step(), pid: event.pid, at });
      return;
    }
    if (event.type === "log") {
      ctx.send({ type: "log", chunkId, level: event.level, line: event.line, at });
    } else if (event.type === "state") {
      ctx.send({ type: "state", chunkId, text: event.text, at });
    } else if (event.type === "tool") {
      ctx.send({
        type: "tool",
        chunkId,
        name: event.name,
        status: event.status,
        ...(event.detail !== undefined ? { detail: event.detail } : {}),
        at,
      });
    }
  };
}

/** Runs one step through the control: waits while paused, attaches the handle, awaits it. */
async function step(
  ctx: ChunkContext,
  chunk: ChunkSnapshot,
  which: "executing" | "reviewing",
  start: () => ExecutionHandle,
): Promise<ExecuteResult> {
  await ctx.control.checkpoint();
  const handle = start();
  ctx.send({
    type: "step",
    chunkId: chunk.id,
    step: which,
    ...(handle.pid !== undefined ? { pid: handle.pid } : {}),
    at: Date.now(),
  });
  await ctx.control.attach(handle);
  try {
    return await handle.result;
  } finally {
    ctx.control.detach(handle);
  }
}

function fail(
  ctx: ChunkContext,
  chunk: ChunkSnapshot,
  error: string,
  review: { status: "needs_fix" | "fail" | null; feedback: string | null } = {
    status: null,
    feedback: null,
  },
): void {
  ctx.state.update(chunk, "finished", {
    status: "failed",
    error,
    reviewStatus: review.status,
    reviewFeedback: review.feedback,
    completedAt: Date.now(),
  });
  ctx.send({ type: "log", chunkId: chunk.id, level: "error", line: error, at: Date.now() });
}

async function commit(ctx: ChunkContext, chunk: ChunkSnapshot): Promise<string | null> {
  if (!ctx.workspace.isGit) return null;
  const message = `${chunk.title}\n\nglm-workers: spec "${ctx.run.spec.title}", chunk ${chunk.id}`;
  return commitAll(ctx.workspace.workdir, message);
}

/** Executes, reviews and (when accepted) commits one chunk. Never throws. */
export async function runChunk(ctx: ChunkContext, chunk: ChunkSnapshot): Promise<ChunkOutcome> {
  try {
    return await runChunkSteps(ctx, chunk);
  } catch (err) {
    if (err instanceof RunAbortedError || ctx.control.aborted) {
      ctx.state.update(chunk, "updated", { status: "pending", startedAt: null });
      return { kind: "aborted" };
    }
    const error = `the chunk could not be run: ${coerceError(err).message}`;
    fail(ctx, chunk, error);
    return { kind: "failed", error };
  }
}

async function runChunkSteps(ctx: ChunkContext, chunk: ChunkSnapshot): Promise<ChunkOutcome> {
  const { run, executor, workspace } = ctx;
  let current: "executing" | "reviewing" = "executing";
  const onEvent = forward(ctx, chunk.id, () => current);
  const timeoutMs = run.options.chunkTimeoutMs;
  await ctx.control.checkpoint();
  ctx.state.update(chunk, "started", {
    status: "running",
    startedAt: Date.now(),
    completedAt: null,
    error: null,
    reviewStatus: null,
    reviewFeedback: null,
    commitHash: null,
    outputSummary: null,
  });

  const before = await treeFingerprint(workspace.workdir, workspace.isGit);
  const exec = await step(ctx, chunk, "executing", () =>
    executor.execute({
      cwd: workspace.workdir,
      prompt: executePrompt(run, chunk),
      continuation: continuationPrompt(chunk),
      chunk,
      timeoutMs,
      onEvent,
    }),
  );
  if (ctx.control.aborted) throw new RunAbortedError(ctx.control.abortReason ?? "aborted");
  const summary = exec.output.slice(-SUMMARY_MAX);
  if (!exec.ok) {
    const error = exec.timedOut
      ? `the agent timed out after ${Math.round(timeoutMs / 1000)} s`
      : (exec.error ?? "the agent failed");
    fail(ctx, chunk, error);
    return { kind: "failed", error };
  }
  const after = await treeFingerprint(workspace.workdir, workspace.isGit);
  if (after === before) {
    const error = "the agent finished but the working tree did not change";
    fail(ctx, chunk, error);
    return { kind: "failed", error };
  }
  ctx.state.update(chunk, "updated", { outputSummary: summary || null });

  const beforeReview = await recordTree(workspace.workdir, workspace.isGit);
  current = "reviewing";
  const review = await step(ctx, chunk, "reviewing", () =>
    executor.review({
      cwd: workspace.workdir,
      prompt: reviewPrompt(run, chunk, summary),
      chunk,
      timeoutMs,
      onEvent,
    }),
  );
  if (ctx.control.aborted) throw new RunAbortedError(ctx.control.abortReason ?? "aborted");
  // The reviewer must not touch the work: whatever it changed is put back and the review fails.
  const tampered = await checkTree(workspace.workdir, beforeReview);
  if (tampered.changed) {
    const what = tampered.touched.slice(0, 20).join(", ") || "the working tree";
    const undo = tampered.reverted ? "reverted" : "could not be reverted";
    const error = `the review failed: the reviewer changed ${what} (${undo})`;
    fail(ctx, chunk, error);
    return { kind: "failed", error };
  }
  if (!review.ok) {
    const error = `the review failed: ${review.error ?? "unknown error"}`;
    fail(ctx, chunk, error);
    return { kind: "failed", error };
  }
  const parsed = parseReview(review.output);
  if (!parsed.ok) {
    fail(ctx, chunk, parsed.error);
    return { kind: "failed", error: parsed.error };
  }
  const { status, feedback } = parsed.answer;
  if (status === "fail") {
    const error = `the review rejected the chunk: ${feedback}`;
    fail(ctx, chunk, error, { status, feedback });
    return { kind: "failed", error };
  }
  if (status === "needs_fix" && chunk.fixOf !== null) {
    const error = `the fix was not accepted by the review: ${feedback}`;
    fail(ctx, chunk, error, { status, feedback });
    return { kind: "failed", error };
  }

  const commitHash = await commit(ctx, chunk);
  ctx.state.update(chunk, "finished", {
    status: "completed",
    reviewStatus: status,
    reviewFeedback: feedback,
    commitHash,
    error: null,
    completedAt: Date.now(),
  });
  if (status === "pass") return { kind: "passed" };

  const proposal = parsed.answer.fixChunk;
  const fix: ChunkSnapshot = {
    id: randomUUID(),
    title: proposal?.title ?? `Fix: ${chunk.title}`,
    description: proposal?.description ?? feedback,
    order: chunk.order + 1,
    status: "pending",
    dependencies: [],
    fixOf: chunk.id,
    reviewStatus: null,
    commitHash: null,
  };
  ctx.state.insertAfter(chunk, fix);
  return { kind: "needs_fix", fix };
}
