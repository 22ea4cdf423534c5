import { inArray } from "drizzle-orm";
import type { LandingKind } from "../enums.ts";
import {
  type EventPayload,
  type NewEvent,
  type QueueItemView,
  toWorkerEvent,
  type WorkerEvent,
  type WorkerView,
} from "../events.ts";
import {
  type EventQuery,
  eventsAfter,
  insertEvents,
  lastEventId,
  latestEvents,
  trimEvents,
} from "../repositories/events.ts";
import { upsertSetting } from "../repositories/settings.ts";
import type { DatabaseHandle } from "../repositories/shared.ts";
import { projects, settings } from "../schema.ts";
import type { WriteTx } from "../writer.ts";
import {
  clearWorkdirs,
  latestWorkerOf,
  markLanded,
  staleWorktrees,
  unlandedRuns,
  workerRow,
} from "./landing.ts";
import {
  type Announce,
  enqueue,
  moveQueueItem,
  queueHoldReason,
  queuePaused,
  queueUpdated,
  removeQueueItem,
  reorderQueue,
  SETTING_QUEUE_HOLD_REASON,
  SETTING_QUEUE_PAUSED,
  setQueuePriority,
  setQueueWaitReasons,
  setWaitReasons,
} from "./queue.ts";
import {
  activeWorkers,
  applyRunBatch,
  type ClaimWorker,
  checkpointRun,
  claimRun,
  finishRun,
  holdPaused,
  type LaunchOptions,
  markLaunched,
  type RunBatch,
  type RunEnd,
  recoverableWorkers,
  renewLeases,
  runInputs,
} from "./runs.ts";
import { recordUsage, type UsageReport, usageReads } from "./usage.ts";
import {
  activeWorkerOf,
  type ExecutorLabel,
  nextQueued,
  queueItemView,
  queueLength,
  queueViews,
  type WorkerViewQuery,
  workerView,
  workerViews,
} from "./views.ts";

export type { StaleWorktree, UnlandedRun } from "./landing.ts";
export { reorderPriorities } from "./queue-order.ts";
export type { LaunchOptions, RunBatch, RunEnd, RunInputs, WorkerPatch } from "./runs.ts";
export { progressColumns } from "./runs.ts";
export type { UsageCounters, UsageReads, UsageReport } from "./usage.ts";
export { addUsage, toUsage, USAGE_WINDOW_MS, usageReads } from "./usage.ts";
export type { ExecutorLabel, WorkerViewQuery } from "./views.ts";
export { joinWaitReason, splitWaitReason } from "./views.ts";

export const SETTING_MAX_WORKERS = "maxWorkers";

export interface RunStoreOptions extends DatabaseHandle {
  executorLabel: ExecutorLabel;
}

export interface EventReadOptions extends EventQuery {
  /** Read the newest `limit` events instead of those after `after` (returned oldest first). */
  newest?: boolean;
  after?: number;
}

/** The orchestrator's settings as stored (absent keys are undefined). */
export interface StoredSettings {
  maxWorkers?: { value: number; configured: number };
  queuePaused: boolean;
}

/**
 * The one store under the orchestrator: every read and write of runs, the queue, settings and
 * the event log. Each write is one group-committed transaction that returns the events it
 * stored, ready to publish (already in their published form).
 */
export function createRunStore(options: RunStoreOptions) {
  const { db, write, executorLabel: label } = options;

  /** Runs `fn` in one transaction and stores the events it returns with the rest of its work. */
  async function commit<T>(
    fn: (tx: WriteTx) => Promise<{ result: T; events: readonly NewEvent[] }>,
  ): Promise<{ result: T; events: WorkerEvent[] }> {
    return write(async (tx) => {
      const { result, events } = await fn(tx);
      const rows = await insertEvents(tx, events);
      return { result, events: rows.map(toWorkerEvent) };
    });
  }

  const eventsOnly = (fn: (tx: WriteTx) => Promise<readonly NewEvent[]>) =>
    commit(async (tx) => ({ result: undefined, events: await fn(tx) })).then((r) => r.events);

  return {
    // ---- reads -------------------------------------------------------------------
    worker: (id: string): Promise<WorkerView | null> => workerView(db, id, label),
    workers: (opts: WorkerViewQuery = {}): Promise<WorkerView[]> => workerViews(db, label, opts),
    /** The queue in order: all of it, or one page (`limit`, `offset`). */
    queue: (page: { limit?: number; offset?: number } = {}): Promise<QueueItemView[]> =>
      queueViews(db, page),
    /** One queued item with its position; null when it is not queued. */
    queueItem: (id: string): Promise<QueueItemView | null> => queueItemView(db, id),
    queueLength: (): Promise<number> => queueLength(db),
    /** The first queued item of a project not in `skipProjects` (admission's next candidate). */
    nextQueued: (skipProjects: readonly string[]) => nextQueued(db, skipProjects),
    queuePaused: (): Promise<boolean> => queuePaused(db),
    queueHoldReason: (): Promise<string | null> => queueHoldReason(db),
    /** Records (or clears) why the product holds the queue. */
    setQueueHoldReason: (reason: string | null) =>
      write(async (tx) => {
        await upsertSetting(tx, SETTING_QUEUE_HOLD_REASON, reason ?? "");
      }),
    runInputs: (workerId: string) => runInputs(db, workerId, label),
    recoverableWorkers: (owner: string, now: number) => recoverableWorkers(db, owner, now),
    activeWorkers: () => activeWorkers(db),
    /** The worker that holds a slot for this spec, if any. */
    activeWorkerOf: (specId: string) => activeWorkerOf(db, specId),
    /** Usage sums of specs, projects and chunks, and the server-wide summary. */
    usage: usageReads(db),

    /** Events after `after` (or the newest `limit`), oldest first. */
    async events(opts: EventReadOptions = {}): Promise<WorkerEvent[]> {
      const rows = opts.newest
        ? await latestEvents(db, opts.limit ?? 1000, opts)
        : await eventsAfter(db, opts.after ?? 0, opts);
      return rows.map(toWorkerEvent);
    },
    lastEventId: (): Promise<number> => lastEventId(db),

    async projectDirectories(ids: readonly string[]): Promise<Map<string, string>> {
      if (ids.length === 0) return new Map();
      const rows = await db
        .select({ id: projects.id, directory: projects.directory })
        .from(projects)
        .where(inArray(projects.id, [...new Set(ids)]));
      return new Map(rows.map((p) => [p.id, p.directory]));
    },

    /** Every project's directory. */
    async allProjectDirectories(): Promise<string[]> {
      const rows = await db.select({ directory: projects.directory }).from(projects);
      return [...new Set(rows.map((p) => p.directory))];
    },

    async settings(): Promise<StoredSettings> {
      const rows = await db
        .select()
        .from(settings)
        .where(inArray(settings.key, [SETTING_MAX_WORKERS, SETTING_QUEUE_PAUSED]));
      const out: StoredSettings = { queuePaused: false };
      for (const row of rows) {
        const v = row.value as { value?: unknown; configured?: unknown } | null;
        if (
          row.key === SETTING_MAX_WORKERS &&
          typeof v?.value === "number" &&
          typeof v.configured === "number"
        ) {
          out.maxWorkers = { value: v.value, configured: v.configured };
        }
        if (row.key === SETTING_QUEUE_PAUSED) out.queuePaused = row.value === true;
      }
      return out;
    },

    // ---- queue -------------------------------------------------------------------
    /** `model`: the run's model override (null/absent: the spec's, else the server default). */
    async enqueue(
      specId: string,
      priority: number,
      model: string | null = null,
      opts: Announce = {},
    ) {
      const r = await commit(async (tx) => {
        const { item, events } = await enqueue(tx, { specId, priority, model }, opts);
        return { result: item, events };
      });
      return { item: r.result, events: r.events };
    },
    removeQueueItem: (id: string) => eventsOnly((tx) => removeQueueItem(tx, id)),
    async setPriority(id: string, priority: number) {
      const r = await commit(async (tx) => {
        const { item, events } = await setQueuePriority(tx, id, priority);
        return { result: item, events };
      });
      return { item: r.result, events: r.events };
    },
    async reorder(ids: readonly string[]) {
      const r = await commit(async (tx) => {
        const { queue, events } = await reorderQueue(tx, ids);
        return { result: queue, events };
      });
      return { queue: r.result, events: r.events };
    },
    /** Moves one item to a 1-based position; the others keep their order. */
    async move(id: string, position: number) {
      const r = await commit(async (tx) => {
        const { item, events } = await moveQueueItem(tx, id, position);
        return { result: item, events };
      });
      return { item: r.result, events: r.events };
    },
    setWaitReasons: (reasons: ReadonlyArray<{ id: string; waitReason: string | null }>) =>
      eventsOnly((tx) => setWaitReasons(tx, reasons)),
    /** Every item's wait reason in one statement: by project, else `rest` (see queue.ts). */
    /** `announce`: store a `queue_updated` even when no reason changed (earlier changes did). */
    setQueueWaitReasons: (reasons: {
      byProject: ReadonlyMap<string, string | null>;
      rest: string | null;
      keep?: readonly string[];
      announce?: boolean;
    }): Promise<WorkerEvent[]> =>
      eventsOnly(async (tx) =>
        (await setQueueWaitReasons(tx, reasons)) || reasons.announce
          ? [await queueUpdated(tx)]
          : [],
      ),
    /** `queue_updated` as the queue stands now (after a change kept only in memory). */
    queueUpdated: () => eventsOnly(async (tx) => [await queueUpdated(tx)]),

    // ---- runs --------------------------------------------------------------------
    async claim(itemId: string, worker: ClaimWorker, opts: Announce = {}) {
      const r = await commit(async (tx) => {
        const claimed = await claimRun(tx, itemId, worker, opts);
        return { result: claimed?.worker ?? null, events: claimed?.events ?? [] };
      });
      return { worker: r.result, events: r.events };
    },
    markLaunched: (workerId: string, opts: LaunchOptions) =>
      eventsOnly((tx) => markLaunched(tx, workerId, opts, label)),
    /** One batch of a run thread's messages, with the events it produced. */
    persistBatch: (batch: RunBatch) =>
      eventsOnly(async (tx) => {
        const usage = await applyRunBatch(tx, batch);
        return usage.length > 0 ? [...batch.events, ...usage] : batch.events;
      }),
    /**
     * Usage of a run this process does not drive (or outside its batches), in one transaction:
     * its `usage_updated` events; none when the worker does not exist.
     */
    recordUsage: (workerId: string, reports: readonly UsageReport[]) =>
      eventsOnly((tx) => recordUsage(tx, workerId, reports)),
    async finishRun(workerId: string, end: RunEnd) {
      const r = await commit(async (tx) => {
        const { view, events } = await finishRun(tx, workerId, end, label);
        return { result: view, events };
      });
      return { view: r.result, events: r.events };
    },
    checkpointRun: (workerId: string) => write((tx) => checkpointRun(tx, workerId)),
    holdPaused: (workerId: string, lease: { leaseOwner: string; leaseExpiresAt: number }) =>
      write((tx) => holdPaused(tx, workerId, lease, label)),
    renewLeases: (ids: readonly string[], owner: string, expiresAt: number) =>
      write((tx) => renewLeases(tx, ids, owner, expiresAt)),

    // ---- landing -----------------------------------------------------------------
    /** A run's work was merged (`commit`: the base branch's new head) or discarded. */
    async markLanded(workerId: string, landed: { how: LandingKind; commit: string | null }) {
      const r = await commit(async (tx) => {
        const { view, events } = await markLanded(tx, workerId, landed, label);
        return { result: view, events };
      });
      return { view: r.result, events: r.events };
    },
    unlandedRuns: (projectId: string) => unlandedRuns(db, projectId),
    latestWorkerOf: (specId: string) => latestWorkerOf(db, specId),
    staleWorktrees: (before: number) => staleWorktrees(db, before),
    clearWorkdirs: (ids: readonly string[]) => write((tx) => clearWorkdirs(tx, ids)),
    workerRow: (id: string) => workerRow(db, id),

    // ---- settings and retention -----------------------------------------------------
    /** Stores a setting and publishes the orchestrator's settings after the change. */
    saveSetting(
      key: "maxWorkers" | "queuePaused",
      value: EventPayload<"settings_updated">["value"],
      effective: { maxWorkers: number; queuePaused: boolean },
    ) {
      return eventsOnly(async (tx) => {
        await upsertSetting(tx, key, value);
        return [
          {
            type: "settings_updated",
            workerId: null,
            specId: null,
            payload: { key, value, ...effective },
          },
        ];
      });
    },
    /** Deletes events older than `olderThanMs` except the newest `keepLast`; returns how many went. */
    trimEvents: (opts: { olderThanMs: number; keepLast: number; now?: number }) =>
      write((tx) => trimEvents(tx, opts)),
  };
}

export type RunStore = ReturnType<typeof createRunStore>;
