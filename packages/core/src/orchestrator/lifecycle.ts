import type { RunInputs } from "@glm-workers/db/store";
import { coerceError, OrchestratorError } from "../errors.ts";
import type { ChunkSnapshot, RunResult, RunSnapshot } from "../protocol.ts";
import type { Active, OrchestratorContext, RunHandleLike } from "./context.ts";
import type { Landing } from "./landing.ts";
import { RunSink } from "./run-sink.ts";
import type { WorkerView } from "./types.ts";

type LaunchReason = "started" | "recovered" | "resumed";

/**
 * The life of one run in this process: launch its thread, persist what it says, pause, resume
 * and stop it, and commit its end. `onSlotFreed` is called whenever a run let go of its slot.
 */
export class RunLifecycle {
  constructor(
    private readonly ctx: OrchestratorContext,
    private readonly landing: Landing,
    private readonly onSlotFreed: () => void,
  ) {}

  /** Starts (or restarts after a crash/pause) the thread of a worker that holds a slot. */
  async launch(workerId: string, opts: { startPaused: boolean; reason: LaunchReason }) {
    const { ctx } = this;
    const inputs = await ctx.store.runInputs(workerId);
    if (!inputs) {
      const { events } = await ctx.store.finishRun(workerId, {
        status: "failed",
        error: "the spec or its project no longer exists",
        progress: { current: 0, total: 0, passed: 0, failed: 0 },
      });
      ctx.publish(events);
      return;
    }
    const status = opts.startPaused ? "paused" : "running";
    const active = this.track(
      { ...inputs.view, status },
      inputs.chunks.map((c) => [c.id, c.title] as [string, string]),
    );
    let handle: RunHandleLike;
    try {
      const events = await ctx.store.markLaunched(workerId, {
        status,
        reason: opts.reason,
        leaseOwner: ctx.owner,
        leaseExpiresAt: Date.now() + ctx.o.leaseMs,
      });
      ctx.publish(events);
      handle = ctx.o.pool.start(this.#snapshot(inputs, opts.startPaused), {
        onMessage: (msg) => active.sink.push(msg),
      });
    } catch (err) {
      // the slot must not stay taken by a run that never started
      this.settle(workerId, active, {
        outcome: "failed",
        error: `could not start the run: ${coerceError(err).message}`,
        progress: active.sink.view.progress,
      });
      return;
    }
    active.handle = handle;
    handle.result.then(
      (result) => this.settle(workerId, active, result),
      (err) =>
        this.settle(workerId, active, {
          outcome: "failed",
          error: coerceError(err).message,
          progress: active.sink.view.progress,
        }),
    );
  }

  #snapshot(inputs: RunInputs, startPaused: boolean): RunSnapshot {
    const { o } = this.ctx;
    const chunks: ChunkSnapshot[] = inputs.chunks.map((c) => ({
      id: c.id,
      title: c.title,
      description: c.description,
      order: c.order,
      status: c.status,
      dependencies: c.dependencies,
      fixOf: c.fixOf,
      reviewStatus: c.reviewStatus,
      commitHash: c.commitHash,
    }));
    return {
      workerId: inputs.row.id,
      project: {
        id: inputs.project.id,
        name: inputs.project.name,
        directory: inputs.project.directory,
      },
      spec: {
        id: inputs.spec.id,
        title: inputs.spec.title,
        content: inputs.spec.content,
        branch: inputs.spec.branch,
      },
      chunks,
      // exactly the model recorded when the run was claimed (also after a restart)
      executor: this.#executorFor(inputs),
      options: {
        chunkTimeoutMs: o.chunkTimeoutMs,
        useWorktree: true,
        workdir: inputs.row.workdir,
        branch: inputs.row.branch,
        baseBranch: inputs.row.baseBranch,
        baseCommit: inputs.row.baseCommit,
        startPaused,
        ...(o.worktreeRoot ? { worktreeRoot: o.worktreeRoot } : {}),
      },
    };
  }

  /**
   * The run's executor settings: the recorded model; with the GLM gateway, the run's gateway
   * URL and token in place of the upstream and any key (the key never reaches the agent).
   */
  #executorFor(inputs: RunInputs): RunSnapshot["executor"] {
    const { o } = this.ctx;
    const executor = { ...o.executor, model: inputs.row.model ?? o.executor.model };
    if (!o.gateway || executor.kind !== "opencode") return executor;
    const run = o.gateway.forRun(inputs.row.id);
    return { ...executor, baseURL: run.baseURL, env: { ZHIPU_API_KEY: run.apiKey } };
  }

  /** A live state of the run's current step (`retrying in 8 s: …`); persisted like the thread's own. */
  setStepDetail(workerId: string, text: string | null): void {
    this.ctx.active
      .get(workerId)
      ?.sink.push({ type: "state", chunkId: null, text, at: Date.now() });
  }

  /** Registers a run of this process (a slot is taken from now on). */
  track(view: WorkerView, titles: Array<[string, string]>): Active {
    const { ctx } = this;
    let markFinished: () => void = () => {};
    const finished = new Promise<void>((r) => {
      markFinished = r;
    });
    const active: Active = {
      markFinished,
      handle: null,
      stopRequested: false,
      shutdown: false,
      finished,
      sink: new RunSink(
        view,
        {
          store: ctx.store,
          publish: (events) => ctx.publish(events),
          onError: (err) => ctx.o.log("error", `persisting run events failed: ${err.message}`),
          stopping: () => active.stopRequested || active.shutdown,
        },
        titles,
      ),
    };
    ctx.active.set(view.id, active);
    ctx.launching.delete(view.id);
    return active;
  }

  settle(workerId: string, active: Active, result: RunResult): void {
    void this.#finish(workerId, active, result)
      .catch((err) =>
        this.ctx.o.log("error", `finishing worker ${workerId} failed: ${coerceError(err).message}`),
      )
      .finally(() => {
        active.markFinished();
        this.onSlotFreed();
      });
  }

  async #finish(workerId: string, active: Active, result: RunResult): Promise<void> {
    const { ctx } = this;
    await active.sink.flushed();
    ctx.active.delete(workerId);
    ctx.priorities.delete(workerId);
    if (active.shutdown) {
      // checkpoint: the row keeps its status, the next process resumes it
      await ctx.store.checkpointRun(workerId);
      return;
    }
    const status =
      active.stopRequested || result.outcome === "aborted"
        ? "stopped"
        : result.outcome === "completed"
          ? "completed"
          : "failed";
    const live = active.sink.view;
    const directory = (await ctx.store.projectDirectories([live.projectId])).get(live.projectId);
    const changes = directory ? await this.landing.changes(live, directory) : null;
    const { view, events } = await ctx.store.finishRun(workerId, {
      status,
      error: status === "failed" ? result.error || "the run failed" : null,
      progress: { ...result.progress, total: Math.max(result.progress.total, live.progress.total) },
      reason: result.error ?? "stopped",
      changes,
    });
    if (view) Object.assign(live, view);
    else live.status = status;
    ctx.publish(events);
  }

  // ---- control ------------------------------------------------------------------

  async pause(workerId: string): Promise<void> {
    const active = await this.#activeOr(workerId, "pause");
    if (active.sink.view.status === "paused") return;
    if (!active.handle) throw new OrchestratorError("CONFLICT", "worker is starting; try again");
    await active.handle.pause();
    await this.#ack(active, () => active.sink.view.status === "paused", "pause");
  }

  async resume(workerId: string): Promise<void> {
    const { ctx } = this;
    const active = await this.#activeOr(workerId, "resume");
    if (active.sink.view.status === "running") return;
    if (!active.handle) {
      // paused across a restart: no thread yet, start one from the first unfinished chunk
      ctx.active.delete(workerId);
      await this.launch(workerId, { startPaused: false, reason: "resumed" });
      return;
    }
    await active.handle.resume();
    await this.#ack(active, () => active.sink.view.status === "running", "resume");
  }

  async stop(workerId: string, reason: string): Promise<void> {
    const active = await this.#activeOr(workerId, "stop");
    active.stopRequested = true;
    if (active.handle) await active.handle.abort(reason);
    else {
      this.settle(workerId, active, {
        outcome: "aborted",
        error: reason,
        progress: active.sink.view.progress,
      });
    }
    await active.finished;
  }

  async #activeOr(workerId: string, action: string): Promise<Active> {
    const { ctx } = this;
    ctx.assertOpen();
    const active = ctx.active.get(workerId);
    if (active) return active;
    const view = await ctx.store.worker(workerId);
    if (!view) throw new OrchestratorError("NOT_FOUND", `worker ${workerId} not found`);
    throw new OrchestratorError("CONFLICT", `cannot ${action} a worker that is ${view.status}`);
  }

  /** Waits until the thread's acknowledgement is committed (or the run ended). */
  async #ack(active: Active, done: () => boolean, what: string): Promise<void> {
    if (done()) return;
    await new Promise<void>((resolve, reject) => {
      const settle = (err?: Error) => {
        clearTimeout(timer);
        off();
        if (err) reject(err);
        else resolve();
      };
      const timer = setTimeout(
        () =>
          settle(
            new OrchestratorError("UNAVAILABLE", `the worker did not acknowledge ${what} in time`),
          ),
        this.ctx.o.ackTimeoutMs,
      );
      const off = active.sink.onChange(() => {
        if (done()) settle();
      });
      void active.finished.then(() => settle());
    });
  }
}
