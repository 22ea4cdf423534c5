import type { MergeStrategy } from "@glm-workers/db/enums";
import { type EventReadOptions, SETTING_MAX_WORKERS } from "@glm-workers/db/store";
import { coerceError, OrchestratorError } from "../errors.ts";
import type { ConflictsView, DiffView, MergeResult } from "../landing/types.ts";
import type { EventBus } from "./bus.ts";
import {
  MAX_WORKERS_LIMIT,
  OrchestratorContext,
  type OrchestratorOptions,
  quotaWaitText,
  storeCall,
} from "./context.ts";
import { Landing } from "./landing.ts";
import { RunLifecycle } from "./lifecycle.ts";
import { Maintenance } from "./maintenance.ts";
import { Scheduler } from "./scheduler.ts";
import { type EventStreamOptions, streamEvents } from "./stream.ts";
import type {
  ModelUsage,
  OrchestratorSnapshot,
  QueueItemView,
  StartResult,
  WorkerEvent,
  WorkerEventType,
  WorkerView,
} from "./types.ts";
import { recordUsage } from "./usage.ts";

export type { OrchestratorOptions, RunHandleLike, RunLauncher } from "./context.ts";

/** A cleanup step of `close()` that failed. */
export interface CloseFailure {
  step: string;
  error: Error;
}

const LOG_TYPES: WorkerEventType[] = ["log", "tool"];

/**
 * Owns the worker slots and the persistent queue. The only component that starts, pauses,
 * resumes and stops runs; every state change is committed (through the db package's run
 * store) before it is published. Its parts: `Scheduler` (admission and the queue),
 * `RunLifecycle` (one run's thread and state), `Maintenance` (recovery, leases, retention).
 */
export class Orchestrator {
  readonly #ctx: OrchestratorContext;
  readonly #runs: RunLifecycle;
  readonly #scheduler: Scheduler;
  readonly #maintenance: Maintenance;
  readonly #landing: Landing;
  #closing: Promise<CloseFailure[]> | null = null;
  readonly #failures: CloseFailure[] = [];
  #started = false;

  constructor(options: OrchestratorOptions) {
    this.#ctx = new OrchestratorContext(options);
    this.#landing = new Landing(this.#ctx);
    this.#runs = new RunLifecycle(this.#ctx, this.#landing, () => void this.pump());
    this.#scheduler = new Scheduler(this.#ctx, this.#runs);
    this.#maintenance = new Maintenance(this.#ctx, this.#runs, this.#landing);
  }

  get owner(): string {
    return this.#ctx.owner;
  }
  get maxWorkers(): number {
    return this.#ctx.maxWorkers;
  }
  get activeCount(): number {
    return this.#ctx.active.size + this.#ctx.launching.size;
  }
  get queuePaused(): boolean {
    return this.#ctx.queuePaused;
  }
  /** Why the product holds the queue (e.g. the upstream refused the key); null otherwise. */
  get queueHoldReason(): string | null {
    return this.#ctx.queuePaused ? this.#ctx.queueHoldReason : null;
  }
  get closing(): boolean {
    return this.#closing !== null;
  }
  get bus(): EventBus {
    return this.#ctx.o.bus;
  }

  // ---- life cycle -----------------------------------------------------------

  /** Loads settings, recovers runs left by a previous process, starts timers and the queue. */
  async init(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    const ctx = this.#ctx;
    const stored = await ctx.store.settings();
    // A run-time change of maxWorkers holds across restarts until the configured value changes.
    if (stored.maxWorkers && stored.maxWorkers.configured === ctx.o.maxWorkers) {
      ctx.maxWorkers = stored.maxWorkers.value;
    }
    ctx.queuePaused = stored.queuePaused;
    ctx.queueHoldReason = await ctx.store.queueHoldReason();
    await this.#maintenance.recover();
    await this.#maintenance.start();
    await this.pump();
  }

  /**
   * Graceful (default): every running thread is aborted with its current chunk checkpointed
   * back to `pending`; the rows keep `running`/`paused` so the next start resumes them.
   * Forceful: the same without waiting for the threads to answer. Every cleanup step runs even
   * when an earlier one fails; each failure is logged and returned. Idempotent.
   */
  close(opts: { force?: boolean; timeoutMs?: number } = {}): Promise<CloseFailure[]> {
    if (!this.#closing) {
      this.#closing = this.#close(opts);
    } else if (opts.force) {
      // escalate a graceful close that is still waiting for its threads
      void this.#ctx.o.pool
        .close({ force: true })
        .catch((err: unknown) => this.#report("force-close the thread pool", err));
    }
    return this.#closing;
  }

  async #close(opts: { force?: boolean; timeoutMs?: number }): Promise<CloseFailure[]> {
    const ctx = this.#ctx;
    ctx.closing = true;
    this.#maintenance.stop();
    // runs the queue is starting right now: let them register, then they are checkpointed too
    await Promise.allSettled([...ctx.launches.values()]);
    const list = [...ctx.active.entries()];
    for (const [, a] of list) a.shutdown = true;
    const aborts = await Promise.allSettled(
      list.map(([, a]) => Promise.resolve().then(() => a.handle?.abort("server shutting down"))),
    );
    aborts.forEach((r, i) => {
      if (r.status === "rejected") this.#report(`abort worker ${list[i]?.[0]}`, r.reason);
    });
    if (!opts.force) {
      const timeoutMs = opts.timeoutMs ?? 10_000;
      const pending = new Set(list.map(([id]) => id));
      const all = Promise.all(list.map(([id, a]) => a.finished.then(() => pending.delete(id))));
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        all.then(() => false),
        new Promise<boolean>((r) => {
          timer = setTimeout(() => r(true), timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        this.#report(
          "checkpoint the running workers",
          new Error(`${[...pending].join(", ")} did not stop within ${timeoutMs} ms`),
        );
      }
    }
    try {
      await ctx.o.pool.close({ force: opts.force ?? false });
    } catch (err) {
      this.#report("close the thread pool", err);
    }
    await this.#scheduler.idle();
    return this.#failures;
  }

  #report(step: string, err: unknown): void {
    const error = coerceError(err);
    this.#failures.push({ step, error });
    this.#ctx.o.log("error", `shutdown: could not ${step}: ${error.message}`);
  }

  // ---- queries --------------------------------------------------------------

  async snapshot(): Promise<OrchestratorSnapshot> {
    const [workers, queue] = await Promise.all([this.listWorkers(), this.listQueue()]);
    return { workers, activeCount: this.activeCount, maxWorkers: this.maxWorkers, queue };
  }

  async listWorkers(opts: { recent?: number } = {}): Promise<WorkerView[]> {
    const views = await this.#ctx.store.workers(opts);
    // a running worker's live view is at least as fresh as its row
    return views.map((v) => {
      const live = this.#ctx.active.get(v.id)?.sink.view;
      return live ? { ...live, projectName: v.projectName, specTitle: v.specTitle } : v;
    });
  }

  async getWorker(id: string): Promise<WorkerView> {
    const live = this.#ctx.active.get(id);
    if (live) return { ...live.sink.view };
    const view = await this.#ctx.store.worker(id);
    if (!view) throw new OrchestratorError("NOT_FOUND", `worker ${id} not found`);
    return view;
  }

  /** Log and tool events of a worker after `after` (an event id), oldest first. */
  async logs(workerId: string, after = 0, limit = 500): Promise<WorkerEvent[]> {
    await this.getWorker(workerId);
    return this.#ctx.store.events({ after, workerId, types: LOG_TYPES, limit });
  }

  /** The newest `limit` log/tool events of a worker, oldest first (for a log tail). */
  async logTail(workerId: string, limit = 200): Promise<WorkerEvent[]> {
    await this.getWorker(workerId);
    return this.#ctx.store.events({ newest: true, workerId, types: LOG_TYPES, limit });
  }

  /** Stored events, oldest first: after an id, or the newest `limit` (see the store). */
  events(opts: EventReadOptions = {}): Promise<WorkerEvent[]> {
    return this.#ctx.store.events(opts);
  }

  /** Every event after `lastEventId`, then live ones, without gaps or repeats (see `streamEvents`). */
  stream(opts: EventStreamOptions): AsyncGenerator<WorkerEvent> {
    return streamEvents(this.#ctx.o.bus, this.#ctx.store, opts);
  }

  /** The queue in order: all of it, or one page (`limit` items from `offset`). */
  listQueue(page: { limit?: number; offset?: number } = {}): Promise<QueueItemView[]> {
    return this.#ctx.store.queue(page);
  }

  /** Items in the queue. */
  queueLength(): Promise<number> {
    return this.#ctx.store.queueLength();
  }

  async getQueueItem(id: string): Promise<QueueItemView> {
    const item = await this.#ctx.store.queueItem(id);
    if (!item) throw new OrchestratorError("NOT_FOUND", `queue item ${id} not found`);
    return item;
  }

  /** Runs retention now (it also runs at start-up and hourly); returns how many events went. */
  trimEvents(): Promise<number> {
    return this.#maintenance.trimEvents();
  }

  // ---- usage -------------------------------------------------------------------

  /**
   * Records one finished model request of a run (the gateway calls this for every request):
   * attributed to the chunk and step the run is on (the run only when it is not active here or
   * has no current chunk), stored in one transaction with its API-equivalent cost (from the
   * model passed, else the run's), then published as `usage_updated`. Resolves once stored;
   * never throws: an unknown worker or a failed write is logged and ignored. While a run is
   * active its usage is queued with the thread's messages, so requests that finish together
   * share one transaction.
   */
  recordUsage(workerId: string, usage: ModelUsage): Promise<void> {
    return recordUsage(this.#ctx, workerId, usage);
  }

  // ---- starting ----------------------------------------------------------------

  /**
   * Starts the spec now when admission allows, else queues it. 409 when already running/queued.
   * `model` overrides the spec's model for this run (the caller checks that the server offers it).
   */
  async start(specId: string, priority = 0, model?: string | null): Promise<StartResult> {
    const item = await this.enqueue(specId, priority, model);
    await this.pump();
    const worker = await this.#ctx.store.activeWorkerOf(specId);
    if (worker) {
      await this.#ctx.launches.get(worker.id); // its thread is started (or its start failed)
      return { status: "started", worker: await this.getWorker(worker.id) };
    }
    const queued = await this.#ctx.store.queueItem(item.id);
    if (queued) return { status: "queued", queueItem: queued };
    // It left the queue without a worker: the start failed and said why on the worker row.
    throw new OrchestratorError("UNAVAILABLE", "the run could not be started");
  }

  /** Queues the spec; the item keeps `model` (this run's override) until it is claimed. */
  enqueue(specId: string, priority = 0, model?: string | null): Promise<QueueItemView> {
    return this.#scheduler.enqueue(specId, priority, model ?? null);
  }

  /** Runs the admission loop until nothing more can start. Serialised; callers share a pass. */
  pump(): Promise<void> {
    return this.#scheduler.pump();
  }

  // ---- control ----------------------------------------------------------------

  async pause(workerId: string): Promise<WorkerView> {
    await this.#runs.pause(workerId);
    return this.getWorker(workerId);
  }

  async resume(workerId: string): Promise<WorkerView> {
    await this.#runs.resume(workerId);
    return this.getWorker(workerId);
  }

  async stop(workerId: string, reason = "stopped by user"): Promise<WorkerView> {
    await this.#runs.stop(workerId, reason);
    return this.getWorker(workerId);
  }

  async pauseAll(): Promise<WorkerView[]> {
    const ids = [...this.#ctx.active.entries()]
      .filter(([, a]) => a.sink.view.status === "running")
      .map(([id]) => id);
    const settled = await Promise.allSettled(ids.map((id) => this.pause(id)));
    return settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  }

  /** Stops every active run and holds the queue so nothing new starts until it is resumed. */
  async stopAll(): Promise<WorkerView[]> {
    await this.setQueuePaused(true);
    const ids = [...this.#ctx.active.keys()];
    const settled = await Promise.allSettled(ids.map((id) => this.stop(id, "stopped by stop all")));
    return settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  }

  // ---- queue management --------------------------------------------------------

  async removeFromQueue(id: string): Promise<void> {
    this.#ctx.publish(await storeCall(() => this.#ctx.store.removeQueueItem(id)));
  }

  async setPriority(id: string, priority: number): Promise<QueueItemView> {
    const { item, events } = await storeCall(() => this.#ctx.store.setPriority(id, priority));
    this.#ctx.publish(events);
    void this.pump();
    return item;
  }

  /** `ids` is the full new order of the queue. Priorities change only where the order needs it. */
  async reorder(ids: string[]): Promise<QueueItemView[]> {
    const { queue, events } = await storeCall(() => this.#ctx.store.reorder(ids));
    this.#ctx.publish(events);
    void this.pump();
    return queue;
  }

  /** Moves one queued item to a 1-based position (clamped); the others keep their order. */
  async moveInQueue(id: string, position: number): Promise<QueueItemView> {
    const { item, events } = await storeCall(() => this.#ctx.store.move(id, position));
    this.#ctx.publish(events);
    void this.pump();
    return item;
  }

  async setQueuePaused(paused: boolean): Promise<void> {
    const ctx = this.#ctx;
    ctx.queuePaused = paused;
    // a resumed queue is the user's answer to whatever held it
    if (!paused && ctx.queueHoldReason !== null) {
      ctx.queueHoldReason = null;
      await ctx.store.setQueueHoldReason(null);
    }
    ctx.publish(await ctx.store.saveSetting("queuePaused", paused, this.#settings()));
    ctx.publish(await ctx.store.queueUpdated());
    await this.pump(); // starts what may start now, or records why the rest waits
  }

  async setMaxWorkers(n: number): Promise<number> {
    if (!Number.isInteger(n) || n < 1 || n > MAX_WORKERS_LIMIT) {
      throw new OrchestratorError(
        "BAD_REQUEST",
        `maxWorkers must be an integer from 1 to ${MAX_WORKERS_LIMIT}`,
      );
    }
    const ctx = this.#ctx;
    ctx.maxWorkers = n;
    ctx.publish(
      await ctx.store.saveSetting(
        SETTING_MAX_WORKERS,
        { value: n, configured: ctx.o.maxWorkers },
        this.#settings(),
      ),
    );
    await this.pump();
    return n;
  }

  // ---- landing the work ----------------------------------------------------------

  /** The run's branch against the commit it started from, or one chunk's commit. */
  diff(workerId: string, chunkId?: string): Promise<DiffView> {
    return this.#landing.diff(workerId, chunkId);
  }

  /** Paths the run changed that the base branch or other unlanded runs of the project changed too. */
  conflicts(workerId: string): Promise<ConflictsView> {
    return this.#landing.conflicts(workerId);
  }

  /** Merges a finished run into its base branch (default squash); refusals change nothing. */
  async merge(
    workerId: string,
    opts: { strategy?: MergeStrategy; message?: string | undefined; keepBranch?: boolean } = {},
  ): Promise<MergeResult> {
    this.#ctx.assertOpen();
    const { result } = await this.#landing.merge(workerId, {
      strategy: opts.strategy ?? "squash",
      message: opts.message,
      keepBranch: opts.keepBranch ?? false,
    });
    return result;
  }

  /** Throws a finished run's work away: its worktree and branch go. */
  async discard(workerId: string): Promise<WorkerView> {
    this.#ctx.assertOpen();
    await this.#landing.discard(workerId);
    return this.getWorker(workerId);
  }

  /**
   * A new run of a failed or stopped run's spec, on its branch and worktree when they still
   * exist, from the first chunk that is not completed.
   */
  async retry(workerId: string, priority = 0): Promise<StartResult> {
    this.#ctx.assertOpen();
    const { specId } = await this.#landing.retryable(workerId);
    return this.start(specId, priority);
  }

  /**
   * Removes the worktrees of unlanded runs that ended longer ago than `olderThanMs` (default:
   * the worktree retention; also done at start-up and hourly). Their branches stay.
   */
  removeStaleWorktrees(olderThanMs?: number): Promise<number> {
    return this.#maintenance.removeStaleWorktrees(olderThanMs);
  }

  // ---- the GLM gateway ------------------------------------------------------------

  /** The queue priority the run started with (0 when unknown, e.g. after a restart). */
  priorityOf(workerId: string): number {
    return this.#ctx.priorities.get(workerId) ?? 0;
  }

  /** Is the run paused (its waiting model requests wait too)? */
  isPaused(workerId: string): boolean {
    return this.#ctx.active.get(workerId)?.sink.view.status === "paused";
  }

  /** A live state of the run's current step, e.g. the gateway's `retrying in 8 s: rate limited`. */
  setStepDetail(workerId: string, text: string | null): void {
    this.#runs.setStepDetail(workerId, text);
  }

  /**
   * Every model request is held until `hold.until` (quota): running runs stay running and show
   * `waiting for quota until HH:MM`, the queue starts nothing new; null ends the hold.
   */
  async setGatewayHold(hold: { until: number; reason: string } | null): Promise<void> {
    const ctx = this.#ctx;
    ctx.gatewayHold = hold;
    const text = hold ? quotaWaitText(hold) : null;
    for (const id of ctx.active.keys()) this.#runs.setStepDetail(id, text);
    await this.pump();
  }

  /**
   * The upstream refused the key or the plan: hold the queue (nothing new starts, so queued
   * specs are not failed one after another) until the user resumes it; `reason` is shown.
   */
  async holdQueue(reason: string): Promise<void> {
    if (this.#ctx.queuePaused && this.#ctx.queueHoldReason === reason) return;
    this.#ctx.queueHoldReason = reason;
    await this.#ctx.store.setQueueHoldReason(reason);
    await this.setQueuePaused(true);
  }

  #settings() {
    return { maxWorkers: this.#ctx.maxWorkers, queuePaused: this.#ctx.queuePaused };
  }
}
