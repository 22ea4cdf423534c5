import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { DrizzleDb } from "@glm-workers/db/client";
import { claimQueueItem, createWorkersRepository } from "@glm-workers/db/repositories";
import { settings } from "@glm-workers/db/schema";
import { and, asc, count, desc, eq, inArray } from "drizzle-orm";
import { coerceError, OrchestratorError } from "../errors.ts";
import { isAlive } from "../process-tree.ts";
import type {
  ExecutorConfig,
  ExecutorKind,
  RunResult,
  RunSnapshot,
  ThreadToMain,
} from "../protocol.ts";
import { type AdmissionOptions, availableMemory, decide } from "./admission.ts";
import type { EventBus } from "./bus.ts";
import { reorderPriorities } from "./queue-order.ts";
import { RunSink } from "./run-sink.ts";
import {
  ACTIVE_STATUSES,
  activeWorkerForSpec,
  chunks,
  type Db,
  eventsAfter,
  getWorkerView,
  insertEvents,
  joinReason,
  listQueueViews,
  listWorkerViews,
  loadRunInputs,
  type NewEvent,
  projects,
  queueItemForSpec,
  recoverableWorkers,
  resetRunningChunks,
  specs,
  trimEvents,
  updateWorker,
  type WriteFn,
  workerQueue,
  workers,
} from "./store.ts";
import type {
  OrchestratorSnapshot,
  QueueItemView,
  StartResult,
  WorkerEvent,
  WorkerView,
} from "./types.ts";

/** What the orchestrator needs from a run pool (the Piscina RunPool in production). */
export interface RunHandleLike {
  pause(): Promise<void> | void;
  resume(): Promise<void> | void;
  abort(reason: string): Promise<void> | void;
  readonly result: Promise<RunResult>;
}
export interface RunLauncher {
  start(snapshot: RunSnapshot, handlers: { onMessage: (msg: ThreadToMain) => void }): RunHandleLike;
  close(opts?: { force?: boolean }): Promise<void>;
}

export interface OrchestratorOptions {
  db: DrizzleDb;
  write: WriteFn;
  pool: RunLauncher;
  bus: EventBus;
  executor: ExecutorConfig;
  executorLabel: (kind: ExecutorKind) => string;
  maxWorkers: number;
  perProjectLimit?: number;
  perGitProjectLimit?: number;
  perRunBytes?: number;
  reserveBytes?: number;
  memoryProbe?: () => number;
  chunkTimeoutMs?: number;
  worktreeRoot?: string | null;
  leaseMs?: number;
  /** Event retention: rows older than this are trimmed (the newest `keepEvents` always stay). */
  retentionMs?: number;
  keepEvents?: number;
  /** How long pause/resume wait for the thread's acknowledgement. */
  ackTimeoutMs?: number;
  log?: (level: "info" | "warn" | "error", msg: string) => void;
}

interface Active {
  sink: RunSink;
  handle: RunHandleLike | null;
  stopRequested: boolean;
  shutdown: boolean;
  /** Settles once the run's final state is committed (or checkpointed on shutdown). */
  finished: Promise<void>;
  markFinished: () => void;
}

const SETTING_MAX_WORKERS = "maxWorkers";
const SETTING_QUEUE_PAUSED = "queuePaused";
const MAX_WORKERS_LIMIT = 64;

/**
 * Owns the worker slots and the persistent queue. The only component that starts, pauses,
 * resumes and stops runs; every state change is committed before it is published.
 */
export class Orchestrator {
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  readonly #o: Required<Omit<OrchestratorOptions, "worktreeRoot" | "log">> & {
    worktreeRoot: string | null;
    log: NonNullable<OrchestratorOptions["log"]>;
  };
  readonly #active = new Map<string, Active>();
  readonly #workersRepo: ReturnType<typeof createWorkersRepository>;
  #maxWorkers: number;
  #queuePaused = false;
  #pumpRequested = false;
  #pumping: Promise<void> | null = null;
  #timers: NodeJS.Timeout[] = [];
  #closing: Promise<void> | null = null;
  #started = false;

  constructor(options: OrchestratorOptions) {
    this.#o = {
      perProjectLimit: 1,
      perGitProjectLimit: MAX_WORKERS_LIMIT,
      perRunBytes: options.executor.kind === "opencode" ? 640 * 1048576 : 64 * 1048576,
      reserveBytes: 256 * 1048576,
      memoryProbe: availableMemory,
      chunkTimeoutMs: 15 * 60_000,
      leaseMs: 15_000,
      retentionMs: 7 * 24 * 3600_000,
      keepEvents: 100_000,
      ackTimeoutMs: 10_000,
      log: () => {},
      ...options,
      worktreeRoot: options.worktreeRoot ?? null,
    };
    this.#maxWorkers = options.maxWorkers;
    this.#workersRepo = createWorkersRepository({ db: options.db, write: options.write });
  }

  get maxWorkers(): number {
    return this.#maxWorkers;
  }
  get activeCount(): number {
    return this.#active.size;
  }
  get queuePaused(): boolean {
    return this.#queuePaused;
  }

  // ---- life cycle -----------------------------------------------------------

  /** Loads settings, recovers runs left by a previous process, starts timers and the queue. */
  async init(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    const stored = await this.#o.db.select().from(settings);
    for (const row of stored) {
      // A run-time change of maxWorkers holds across restarts until the configured value changes.
      const saved = row.value as { value?: unknown; configured?: unknown } | null;
      if (
        row.key === SETTING_MAX_WORKERS &&
        typeof saved?.value === "number" &&
        saved.configured === this.#o.maxWorkers
      ) {
        this.#maxWorkers = saved.value;
      }
      if (row.key === SETTING_QUEUE_PAUSED) this.#queuePaused = row.value === true;
    }
    await this.#recover();
    const beat = Math.max(250, Math.floor(this.#o.leaseMs / 3));
    this.#timers.push(setInterval(() => void this.#heartbeat(), beat));
    this.#timers.push(setInterval(() => void this.#trim(), 3600_000));
    for (const t of this.#timers) t.unref();
    await this.#trim();
    await this.pump();
  }

  /**
   * Graceful (default): every running thread is aborted with its current chunk checkpointed
   * back to `pending`; the rows keep `running`/`paused` so the next start resumes them.
   * Forceful: the same without waiting for the threads to answer.
   */
  close(opts: { force?: boolean; timeoutMs?: number } = {}): Promise<void> {
    if (!this.#closing) this.#closing = this.#close(opts);
    else if (opts.force) {
      // escalate a graceful close that is still waiting for its threads
      return this.#o.pool.close({ force: true }).catch(() => {});
    }
    return this.#closing;
  }

  async #close(opts: { force?: boolean; timeoutMs?: number }): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    const list = [...this.#active.values()];
    for (const a of list) {
      a.shutdown = true;
      void Promise.resolve(a.handle?.abort("server shutting down")).catch(() => {});
    }
    if (!opts.force) {
      await withTimeout(Promise.all(list.map((a) => a.finished)), opts.timeoutMs ?? 10_000).catch(
        () => {},
      );
    }
    await this.#o.pool.close({ force: opts.force ?? false }).catch(() => {});
    await this.#pumping?.catch(() => {});
  }

  get closing(): boolean {
    return this.#closing !== null;
  }

  // ---- queries --------------------------------------------------------------

  async snapshot(): Promise<OrchestratorSnapshot> {
    const [workersList, queue] = await Promise.all([this.listWorkers(), this.listQueue()]);
    return {
      workers: workersList,
      activeCount: this.activeCount,
      maxWorkers: this.#maxWorkers,
      queue,
    };
  }

  async listWorkers(opts: { recent?: number } = {}): Promise<WorkerView[]> {
    const views = await listWorkerViews(this.#o.db, this.#o.executorLabel, opts);
    // a running worker's live view is at least as fresh as its row
    return views.map((v) => {
      const live = this.#active.get(v.id)?.sink.view;
      return live ? { ...live, projectName: v.projectName, specTitle: v.specTitle } : v;
    });
  }

  async getWorker(id: string): Promise<WorkerView> {
    const live = this.#active.get(id);
    if (live) return { ...live.sink.view };
    const view = await getWorkerView(this.#o.db, id, this.#o.executorLabel);
    if (!view) throw new OrchestratorError("NOT_FOUND", `worker ${id} not found`);
    return view;
  }

  /** Log and tool events of a worker after `after` (an event id), oldest first. */
  async logs(workerId: string, after = 0, limit = 500): Promise<WorkerEvent[]> {
    await this.getWorker(workerId);
    return eventsAfter(this.#o.db, after, { workerId, types: ["log", "tool"], limit });
  }

  /** The newest `limit` log/tool events of a worker, oldest first (for a log tail). */
  async logTail(workerId: string, limit = 200): Promise<WorkerEvent[]> {
    await this.getWorker(workerId);
    const rows = await eventsAfter(this.#o.db, 0, {
      workerId,
      types: ["log", "tool"],
      limit,
      newestFirst: true,
    });
    return rows.reverse();
  }

  get db(): Db {
    return this.#o.db;
  }

  get bus(): EventBus {
    return this.#o.bus;
  }

  listQueue(): Promise<QueueItemView[]> {
    return listQueueViews(this.#o.db);
  }

  async getQueueItem(id: string): Promise<QueueItemView> {
    const item = (await this.listQueue()).find((q) => q.id === id);
    if (!item) throw new OrchestratorError("NOT_FOUND", `queue item ${id} not found`);
    return item;
  }

  // ---- starting ----------------------------------------------------------------

  /** Starts the spec now when admission allows, else queues it. 409 when already running/queued. */
  async start(specId: string, priority = 0): Promise<StartResult> {
    const item = await this.enqueue(specId, priority);
    await this.pump();
    const worker = await activeWorkerForSpec(this.#o.db, specId);
    if (worker) return { status: "started", worker: await this.getWorker(worker.id) };
    const queued = (await this.listQueue()).find((q) => q.id === item.id);
    if (queued) return { status: "queued", queueItem: queued };
    // It left the queue without a worker: the start failed and said why on the worker row.
    throw new OrchestratorError("UNAVAILABLE", "the run could not be started");
  }

  async enqueue(specId: string, priority = 0): Promise<QueueItemView> {
    this.#assertOpen();
    const [spec] = await this.#o.db.select().from(specs).where(eq(specs.id, specId)).limit(1);
    if (!spec) throw new OrchestratorError("NOT_FOUND", `spec ${specId} not found`);
    const [chunkCount] = await this.#o.db
      .select({ n: count() })
      .from(chunks)
      .where(eq(chunks.specId, specId));
    if (!chunkCount || chunkCount.n === 0) {
      throw new OrchestratorError("BAD_REQUEST", "the spec has no chunks to run");
    }
    const id = randomUUID();
    await this.#o.write(async (tx) => {
      const running = await activeWorkerForSpec(tx, specId);
      if (running) {
        throw new OrchestratorError(
          "CONFLICT",
          `spec is already ${running.status} (worker ${running.id})`,
        );
      }
      if (await queueItemForSpec(tx, specId)) {
        throw new OrchestratorError("CONFLICT", "spec is already queued");
      }
      await tx.insert(workerQueue).values({
        id,
        specId,
        projectId: spec.projectId,
        priority,
        addedAt: Date.now(),
        waitReason: null,
      });
    });
    await this.#queueChanged();
    const item = await this.getQueueItem(id);
    void this.pump(); // whoever queued it, it starts as soon as admission allows
    return item;
  }

  /** Runs the admission loop until nothing more can start. Serialised; callers share a pass. */
  pump(): Promise<void> {
    this.#pumpRequested = true;
    if (!this.#pumping) {
      this.#pumping = (async () => {
        try {
          while (this.#pumpRequested && !this.#closing) {
            this.#pumpRequested = false;
            await this.#pumpOnce();
          }
        } catch (err) {
          this.#o.log("error", `queue pump failed: ${coerceError(err).message}`);
        } finally {
          this.#pumping = null;
        }
      })();
    }
    return this.#pumping;
  }

  async #pumpOnce(): Promise<void> {
    const queue = await this.listQueue();
    if (queue.length === 0) return;
    const byProject = new Map<string, number>();
    for (const a of this.#active.values()) {
      const pid = a.sink.view.projectId;
      byProject.set(pid, (byProject.get(pid) ?? 0) + 1);
    }
    const dirs = new Map(
      (
        await this.#o.db
          .select({ id: projects.id, directory: projects.directory })
          .from(projects)
          .where(inArray(projects.id, [...new Set(queue.map((q) => q.projectId))]))
      ).map((p) => [p.id, p.directory]),
    );
    const admission: AdmissionOptions = { ...this.#o, maxWorkers: this.#maxWorkers };
    const reasons = new Map<string, string | null>();
    for (const item of queue) {
      if (this.#closing) return;
      if (this.#queuePaused) {
        reasons.set(item.id, joinReason("paused_queue", "the queue is paused"));
        continue;
      }
      const decision = decide(
        admission,
        { active: this.#active.size, byProject },
        { id: item.projectId, directory: dirs.get(item.projectId) ?? "" },
      );
      if (!decision.ok) {
        reasons.set(item.id, joinReason(decision.reason, decision.detail));
        continue;
      }
      const started = await this.#claimAndLaunch(item);
      if (started) byProject.set(item.projectId, (byProject.get(item.projectId) ?? 0) + 1);
    }
    const changed = queue.filter(
      (q) =>
        reasons.has(q.id) && (reasons.get(q.id) ?? null) !== joinReason(q.waitReason, q.waitDetail),
    );
    if (changed.length > 0) {
      await this.#o.write(async (tx) => {
        for (const q of changed) {
          await tx
            .update(workerQueue)
            .set({ waitReason: reasons.get(q.id) ?? null })
            .where(eq(workerQueue.id, q.id));
        }
      });
      await this.#queueChanged();
    }
  }

  /** Claims a queue item and creates its worker in one transaction, then launches it. */
  async #claimAndLaunch(item: QueueItemView): Promise<boolean> {
    const now = Date.now();
    const claimed = await this.#o.write((tx) =>
      claimQueueItem(
        tx,
        { ...item, waitReason: null },
        {
          worker: {
            executor: this.#o.executor.kind,
            leaseOwner: this.owner,
            leaseExpiresAt: now + this.#o.leaseMs,
          },
          prepare: async (ptx, { worker }) => {
            await resetRunningChunks(ptx, item.specId);
            // A new Run All retries what failed or was cancelled last time; completed chunks stay done.
            await ptx
              .update(chunks)
              .set({ status: "pending", error: null, startedAt: null, completedAt: null })
              .where(
                and(
                  eq(chunks.specId, item.specId),
                  inArray(chunks.status, ["failed", "cancelled"]),
                ),
              );
            const [total] = await ptx
              .select({ n: count() })
              .from(chunks)
              .where(eq(chunks.specId, item.specId));
            await updateWorker(ptx, worker.id, { progressTotal: total?.n ?? 0 });
          },
        },
      ),
    );
    await this.#queueChanged();
    if (!claimed) return false;
    const row = await this.#workerRow(claimed.worker.id);
    if (row) await this.#launch(row, { startPaused: false, reason: "started" });
    return true;
  }

  async #workerRow(id: string) {
    const [row] = await this.#o.db.select().from(workers).where(eq(workers.id, id)).limit(1);
    return row ?? null;
  }

  /** Starts (or restarts after a crash/pause) the thread of a worker row that holds a slot. */
  async #launch(
    row: typeof workers.$inferSelect,
    opts: { startPaused: boolean; reason: "started" | "recovered" | "resumed" },
  ): Promise<void> {
    const view = await getWorkerView(this.#o.db, row.id, this.#o.executorLabel);
    const inputs = await loadRunInputs(this.#o.db, row.specId);
    if (!view || !inputs) {
      await this.#markFailed(row.id, row.specId, "the spec or its project no longer exists");
      return;
    }
    view.status = opts.startPaused ? "paused" : "running";
    const active = this.#track(
      view,
      inputs.chunks.map((c) => [c.id, c.title] as [string, string]),
    );
    const snapshot: RunSnapshot = {
      workerId: row.id,
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
      chunks: inputs.chunks,
      executor: this.#o.executor,
      options: {
        chunkTimeoutMs: this.#o.chunkTimeoutMs,
        useWorktree: true,
        workdir: row.workdir,
        branch: row.branch,
        startPaused: opts.startPaused,
        ...(this.#o.worktreeRoot ? { worktreeRoot: this.#o.worktreeRoot } : {}),
      },
    };
    const type = opts.reason === "started" ? "worker_started" : "worker_resumed";
    const events: NewEvent[] = [
      {
        workerId: row.id,
        specId: row.specId,
        type,
        payload: { worker: { ...view }, reason: opts.reason },
      },
    ];
    const published = await this.#o.write(async (tx) => {
      await updateWorker(tx, row.id, {
        status: view.status,
        error: null,
        finishedAt: null,
        leaseOwner: this.owner,
        leaseExpiresAt: Date.now() + this.#o.leaseMs,
      });
      return insertEvents(tx, events);
    });
    this.#publish(published);
    let handle: RunHandleLike;
    try {
      handle = this.#o.pool.start(snapshot, { onMessage: (msg) => active.sink.push(msg) });
    } catch (err) {
      this.#settle(row.id, active, {
        outcome: "failed",
        error: `could not start the run: ${coerceError(err).message}`,
        progress: view.progress,
      });
      return;
    }
    active.handle = handle;
    handle.result.then(
      (result) => this.#settle(row.id, active, result),
      (err) =>
        this.#settle(row.id, active, {
          outcome: "failed",
          error: coerceError(err).message,
          progress: view.progress,
        }),
    );
  }

  #track(view: WorkerView, titles: Array<[string, string]>): Active {
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
          write: this.#o.write,
          publish: (events) => this.#publish(events),
          onError: (err) => this.#o.log("error", `persisting run events failed: ${err.message}`),
          stopping: () => active.stopRequested || active.shutdown,
        },
        titles,
      ),
    };
    this.#active.set(view.id, active);
    return active;
  }

  #settle(workerId: string, active: Active, result: RunResult): void {
    void this.#finish(workerId, active, result)
      .catch((err) =>
        this.#o.log("error", `finishing worker ${workerId} failed: ${coerceError(err).message}`),
      )
      .finally(() => {
        active.markFinished();
        void this.pump();
      });
  }

  async #finish(workerId: string, active: Active, result: RunResult): Promise<void> {
    await active.sink.flushed();
    this.#active.delete(workerId);
    const view = active.sink.view;
    const now = Date.now();
    if (active.shutdown) {
      // checkpoint: the row keeps its status, the next process resumes it
      await this.#o.write(async (tx) => {
        await resetRunningChunks(tx, view.specId);
        await updateWorker(tx, workerId, { leaseExpiresAt: 0 });
      });
      return;
    }
    const status =
      active.stopRequested || result.outcome === "aborted"
        ? "stopped"
        : result.outcome === "completed"
          ? "completed"
          : "failed";
    const specStatus =
      status === "completed" ? "completed" : status === "failed" ? "failed" : "ready";
    const error = status === "failed" ? (result.error ?? "the run failed") : null;
    view.status = status;
    view.finishedAt = now;
    view.error = error;
    view.currentStep = null;
    view.progress = {
      ...result.progress,
      total: Math.max(result.progress.total, view.progress.total),
    };
    const events = await this.#o.write(async (tx) => {
      await resetRunningChunks(tx, view.specId);
      await updateWorker(tx, workerId, {
        status,
        error,
        finishedAt: now,
        currentStep: null,
        leaseOwner: null,
        leaseExpiresAt: null,
        progressCurrent: view.progress.current,
        progressTotal: view.progress.total,
        progressPassed: view.progress.passed,
        progressFailed: view.progress.failed,
      });
      await tx
        .update(specs)
        .set({ status: specStatus, updatedAt: now })
        .where(eq(specs.id, view.specId));
      return insertEvents(tx, [
        {
          workerId,
          specId: view.specId,
          type: `worker_${status}`,
          payload: { worker: { ...view } },
        },
      ]);
    });
    this.#publish(events);
    active.sink.view.status = status;
  }

  async #markFailed(workerId: string, specId: string, error: string): Promise<void> {
    const now = Date.now();
    const events = await this.#o.write(async (tx) => {
      await updateWorker(tx, workerId, {
        status: "failed",
        error,
        finishedAt: now,
        leaseOwner: null,
        leaseExpiresAt: null,
      });
      await tx.update(specs).set({ status: "failed", updatedAt: now }).where(eq(specs.id, specId));
      return insertEvents(tx, [{ workerId, specId, type: "worker_failed", payload: { error } }]);
    });
    this.#publish(events);
  }

  // ---- control ----------------------------------------------------------------

  async pause(workerId: string): Promise<WorkerView> {
    this.#assertOpen();
    const active = this.#active.get(workerId);
    if (!active) throw await this.#notActive(workerId, "pause");
    if (active.sink.view.status === "paused") return { ...active.sink.view };
    if (!active.handle) throw new OrchestratorError("CONFLICT", "worker is starting; try again");
    await active.handle.pause();
    await this.#waitFor(
      active,
      () => active.sink.view.status === "paused" || !this.#active.has(workerId),
      "pause",
    );
    return this.getWorker(workerId);
  }

  async resume(workerId: string): Promise<WorkerView> {
    this.#assertOpen();
    const active = this.#active.get(workerId);
    if (!active) throw await this.#notActive(workerId, "resume");
    if (active.sink.view.status === "running") return { ...active.sink.view };
    if (!active.handle) {
      // paused across a restart: no thread yet, start one from the first unfinished chunk
      this.#active.delete(workerId);
      const row = await this.#workerRow(workerId);
      if (!row) throw new OrchestratorError("NOT_FOUND", `worker ${workerId} not found`);
      await this.#launch(row, { startPaused: false, reason: "resumed" });
      return this.getWorker(workerId);
    }
    await active.handle.resume();
    await this.#waitFor(
      active,
      () => active.sink.view.status === "running" || !this.#active.has(workerId),
      "resume",
    );
    return this.getWorker(workerId);
  }

  async stop(workerId: string, reason = "stopped by user"): Promise<WorkerView> {
    this.#assertOpen();
    const active = this.#active.get(workerId);
    if (!active) throw await this.#notActive(workerId, "stop");
    active.stopRequested = true;
    if (active.handle) {
      await active.handle.abort(reason);
      await active.finished;
    } else {
      this.#settle(workerId, active, {
        outcome: "aborted",
        error: null,
        progress: active.sink.view.progress,
      });
      await active.finished;
    }
    return this.getWorker(workerId);
  }

  async pauseAll(): Promise<WorkerView[]> {
    const ids = [...this.#active.entries()]
      .filter(([, a]) => a.sink.view.status === "running")
      .map(([id]) => id);
    const settled = await Promise.allSettled(ids.map((id) => this.pause(id)));
    return settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  }

  /** Stops every active run and holds the queue so nothing new starts until it is resumed. */
  async stopAll(): Promise<WorkerView[]> {
    await this.setQueuePaused(true);
    const ids = [...this.#active.keys()];
    const settled = await Promise.allSettled(ids.map((id) => this.stop(id, "stopped by stop all")));
    return settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  }

  async #notActive(workerId: string, action: string): Promise<OrchestratorError> {
    const view = await getWorkerView(this.#o.db, workerId, this.#o.executorLabel);
    if (!view) return new OrchestratorError("NOT_FOUND", `worker ${workerId} not found`);
    return new OrchestratorError("CONFLICT", `cannot ${action} a worker that is ${view.status}`);
  }

  async #waitFor(active: Active, done: () => boolean, what: string): Promise<void> {
    if (done()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(
          new OrchestratorError("UNAVAILABLE", `the worker did not acknowledge ${what} in time`),
        );
      }, this.#o.ackTimeoutMs);
      const off = active.sink.onChange(() => {
        if (!done()) return;
        clearTimeout(timer);
        off();
        resolve();
      });
      void active.finished.then(() => {
        clearTimeout(timer);
        off();
        resolve();
      });
    });
  }

  // ---- queue management --------------------------------------------------------

  async removeFromQueue(id: string): Promise<void> {
    const removed = await this.#o.write((tx) =>
      tx.delete(workerQueue).where(eq(workerQueue.id, id)).returning(),
    );
    if (removed.length === 0)
      throw new OrchestratorError("NOT_FOUND", `queue item ${id} not found`);
    await this.#queueChanged();
  }

  async setPriority(id: string, priority: number): Promise<QueueItemView> {
    const updated = await this.#o.write((tx) =>
      tx.update(workerQueue).set({ priority }).where(eq(workerQueue.id, id)).returning(),
    );
    if (updated.length === 0)
      throw new OrchestratorError("NOT_FOUND", `queue item ${id} not found`);
    await this.#queueChanged();
    void this.pump();
    return this.getQueueItem(id);
  }

  /** `ids` is the full new order of the queue. Priorities change only where the order needs it. */
  async reorder(ids: string[]): Promise<QueueItemView[]> {
    await this.#o.write(async (tx) => {
      const rows = await tx
        .select()
        .from(workerQueue)
        .orderBy(desc(workerQueue.priority), asc(workerQueue.addedAt));
      const known = new Set(rows.map((r) => r.id));
      if (
        ids.length !== rows.length ||
        new Set(ids).size !== ids.length ||
        !ids.every((id) => known.has(id))
      ) {
        throw new OrchestratorError(
          "BAD_REQUEST",
          `ids must list every queued item exactly once (${rows.length} queued, ${ids.length} given)`,
        );
      }
      const next = reorderPriorities(rows, ids);
      for (const r of next) {
        await tx
          .update(workerQueue)
          .set({ priority: r.priority, addedAt: r.addedAt })
          .where(eq(workerQueue.id, r.id));
      }
    });
    await this.#queueChanged();
    void this.pump();
    return this.listQueue();
  }

  async setQueuePaused(paused: boolean): Promise<void> {
    this.#queuePaused = paused;
    await this.#saveSetting(SETTING_QUEUE_PAUSED, paused);
    await this.#queueChanged();
    if (!paused) await this.pump();
    else await this.pump(); // refresh wait reasons
  }

  async setMaxWorkers(n: number): Promise<number> {
    if (!Number.isInteger(n) || n < 1 || n > MAX_WORKERS_LIMIT) {
      throw new OrchestratorError(
        "BAD_REQUEST",
        `maxWorkers must be an integer from 1 to ${MAX_WORKERS_LIMIT}`,
      );
    }
    this.#maxWorkers = n;
    await this.#saveSetting(SETTING_MAX_WORKERS, { value: n, configured: this.#o.maxWorkers });
    await this.pump();
    return n;
  }

  async #saveSetting(key: string, value: unknown): Promise<void> {
    const now = Date.now();
    const events = await this.#o.write(async (tx) => {
      await tx
        .insert(settings)
        .values({ key, value, updatedAt: now })
        .onConflictDoUpdate({ target: settings.key, set: { value, updatedAt: now } });
      return insertEvents(tx, [
        { workerId: null, specId: null, type: "settings_updated", payload: { key, value } },
      ]);
    });
    this.#publish(events);
  }

  async #queueChanged(): Promise<void> {
    const queue = await this.listQueue();
    const events = await this.#o.write((tx) =>
      insertEvents(tx, [
        {
          workerId: null,
          specId: null,
          type: "queue_updated",
          payload: { queue, paused: this.#queuePaused },
        },
      ]),
    );
    this.#publish(events);
  }

  // ---- recovery, leases, retention --------------------------------------------

  async #recover(): Promise<void> {
    const now = Date.now();
    const rows = await recoverableWorkers(this.#o.db, this.owner, now);
    const candidates = (
      await this.#o.db
        .select()
        .from(workers)
        .where(inArray(workers.status, [...ACTIVE_STATUSES]))
    ).filter((r) => !rows.some((x) => x.id === r.id) && ownerIsDead(r.leaseOwner));
    for (const row of [...rows, ...candidates]) {
      if (this.#active.has(row.id)) continue;
      await this.#o.write((tx) => resetRunningChunks(tx, row.specId));
      if (row.status === "paused") {
        const view = await getWorkerView(this.#o.db, row.id, this.#o.executorLabel);
        if (!view) continue;
        view.currentStep = null;
        this.#track(view, []);
        await this.#o.write((tx) =>
          updateWorker(tx, row.id, {
            leaseOwner: this.owner,
            leaseExpiresAt: now + this.#o.leaseMs,
            currentStep: null,
          }),
        );
        this.#o.log("info", `worker ${row.id} stays paused after restart`);
      } else {
        this.#o.log("info", `resuming worker ${row.id} from its first unfinished chunk`);
        await this.#launch(row, { startPaused: false, reason: "recovered" });
      }
    }
  }

  async #heartbeat(): Promise<void> {
    if (this.#closing) return;
    try {
      const ids = [...this.#active.keys()];
      await this.#workersRepo.heartbeat(ids, this.owner, Date.now() + this.#o.leaseMs);
    } catch (err) {
      this.#o.log("warn", `lease heartbeat failed: ${coerceError(err).message}`);
    }
  }

  async #trim(): Promise<void> {
    try {
      const n = await this.#o.write((tx) =>
        trimEvents(tx, Date.now() - this.#o.retentionMs, this.#o.keepEvents),
      );
      if (n > 0) this.#o.log("info", `trimmed ${n} old worker events`);
    } catch (err) {
      this.#o.log("warn", `event retention failed: ${coerceError(err).message}`);
    }
  }

  #publish(events: WorkerEvent[]): void {
    for (const e of events) this.#o.bus.publish(e);
  }

  #assertOpen(): void {
    if (this.#closing) throw new OrchestratorError("UNAVAILABLE", "the server is shutting down");
  }
}

/** A lease owner `host:pid:…` of this host whose process is gone holds nothing. */
function ownerIsDead(owner: string | null): boolean {
  if (!owner) return true;
  const [host, pidText] = owner.split(":");
  const pid = Number(pidText);
  return host === hostname() && Number.isInteger(pid) && pid !== process.pid && !isAlive(pid);
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error("timed out")), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
