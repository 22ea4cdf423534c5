import type { NewEvent } from "@glm-workers/db/events";
import {
  addUsage,
  progressColumns,
  type RunBatch,
  type RunStore,
  type UsageReport,
} from "@glm-workers/db/store";
import type { ThreadToMain } from "../protocol.ts";
import type { WorkerEvent, WorkerView } from "./types.ts";

/** A finished model request of the run (model and cost resolved), not yet attributed. */
export type RunUsage = Omit<UsageReport, "chunkId" | "step">;

/** Usage reported for the run (by the gateway), queued in order with the thread's messages. */
interface UsageItem {
  type: "recorded_usage";
  usage: RunUsage;
  /** Called once the batch that holds it was committed (or failed). */
  done: () => void;
}

type SinkItem = ThreadToMain | UsageItem;

/**
 * Persists the messages of one run thread, in order, in batches: every message that arrived
 * while the previous batch was being committed goes into the next transaction. Only after a
 * batch commits are its events published. Model usage reported for the run joins the same
 * queue, so it is attributed to the chunk step the run is on at that point and its writes are
 * batched with the rest.
 */
export class RunSink {
  readonly #inbox: SinkItem[] = [];
  #draining: Promise<void> | null = null;
  readonly #chunkTitles = new Map<string, string>();
  readonly #changeListeners = new Set<() => void>();

  constructor(
    readonly view: WorkerView,
    private readonly deps: {
      store: Pick<RunStore, "persistBatch">;
      publish: (events: WorkerEvent[]) => void;
      onError: (err: Error) => void;
      /** True once the user asked to stop: late `paused`/`resumed` acks no longer flip status. */
      stopping: () => boolean;
    },
    chunkTitles: Iterable<[string, string]>,
  ) {
    for (const [id, title] of chunkTitles) this.#chunkTitles.set(id, title);
  }

  push(msg: ThreadToMain): void {
    this.#enqueue(msg);
  }

  /**
   * Records one finished model request against the current chunk and step (the run only when
   * there is none). Resolves once it is committed and published; a failed write is reported
   * through `onError`, never thrown.
   */
  recordUsage(usage: RunUsage): Promise<void> {
    return new Promise<void>((done) => this.#enqueue({ type: "recorded_usage", usage, done }));
  }

  #enqueue(item: SinkItem): void {
    this.#inbox.push(item);
    if (!this.#draining) this.#draining = this.#drain();
  }

  /** Resolves when every message received so far is committed and published. */
  async flushed(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  /** Called after each committed batch (status waiters use it). */
  onChange(listener: () => void): () => void {
    this.#changeListeners.add(listener);
    return () => this.#changeListeners.delete(listener);
  }

  async #drain(): Promise<void> {
    try {
      while (this.#inbox.length > 0) {
        const batch = this.#inbox.splice(0);
        try {
          await this.#persist(batch);
        } catch (err) {
          this.deps.onError(err instanceof Error ? err : new Error(String(err)));
        }
        for (const item of batch) if (item.type === "recorded_usage") item.done();
        for (const listener of this.#changeListeners) listener();
      }
    } finally {
      this.#draining = null;
    }
  }

  async #persist(messages: SinkItem[]): Promise<void> {
    // Changes go to a copy that becomes the live view only once the batch has committed, so
    // whoever waits for a status (e.g. `paused`) sees it together with everything before it.
    const view: WorkerView = { ...this.view, progress: { ...this.view.progress } };
    const batch: RunBatch & {
      chunks: RunBatch["chunks"][number][];
      events: NewEvent[];
      usage: UsageReport[];
    } = {
      workerId: view.id,
      specId: view.specId,
      worker: {},
      chunks: [],
      events: [],
      usage: [],
    };
    const ids = { workerId: view.id, specId: view.specId };
    const snapshot = () => ({ ...view, progress: { ...view.progress } });
    let progressChanged = false;

    for (const msg of messages) {
      switch (msg.type) {
        case "workspace":
          batch.worker.workdir = msg.workdir;
          batch.worker.branch = msg.branch;
          batch.worker.baseBranch = msg.baseBranch;
          batch.worker.baseCommit = msg.baseCommit;
          batch.branch = msg.branch;
          view.workdir = msg.workdir;
          view.branch = msg.branch;
          view.baseBranch = msg.baseBranch;
          view.baseCommit = msg.baseCommit;
          break;
        case "paused":
          if (this.deps.stopping() || view.status !== "running") break;
          batch.worker.status = "paused";
          view.status = "paused";
          batch.events.push({
            ...ids,
            type: "worker_paused",
            payload: { worker: snapshot() },
            at: msg.at,
          });
          break;
        case "resumed":
          if (this.deps.stopping() || view.status !== "paused") break;
          batch.worker.status = "running";
          view.status = "running";
          batch.events.push({
            ...ids,
            type: "worker_resumed",
            payload: { worker: snapshot(), reason: "resumed" },
            at: msg.at,
          });
          break;
        case "process":
          break; // only the pool's hard-abort fallback needs it
        case "step":
          batch.worker.currentChunkId = msg.chunkId;
          batch.worker.currentStep = msg.step;
          batch.worker.stepDetail = null;
          view.currentChunkId = msg.chunkId;
          view.currentChunkTitle = this.#chunkTitles.get(msg.chunkId) ?? null;
          view.currentStep = msg.step;
          view.stepDetail = null;
          progressChanged = true;
          break;
        case "state":
          // a live state of the step (a retrying request): shown on the card, not logged
          if (view.stepDetail === msg.text) break;
          batch.worker.stepDetail = msg.text;
          view.stepDetail = msg.text;
          progressChanged = true;
          break;
        case "chunk": {
          const chunk = msg.chunk;
          if (chunk.title) this.#chunkTitles.set(chunk.id, chunk.title);
          batch.chunks.push({ event: msg.event, chunk });
          if (msg.event === "started") {
            batch.worker.currentChunkId = chunk.id;
            view.currentChunkId = chunk.id;
            view.currentChunkTitle = this.#chunkTitles.get(chunk.id) ?? null;
            progressChanged = true;
          }
          batch.events.push({
            ...ids,
            type: "chunk_updated",
            payload: { event: msg.event, chunk },
            at: msg.at,
          });
          break;
        }
        case "progress":
          Object.assign(batch.worker, progressColumns(msg.progress));
          view.progress = { ...msg.progress };
          progressChanged = true;
          break;
        case "log":
          batch.events.push({
            ...ids,
            type: "log",
            payload: { chunkId: msg.chunkId, level: msg.level, line: msg.line },
            at: msg.at,
          });
          break;
        case "tool":
          batch.events.push({
            ...ids,
            type: "tool",
            payload: {
              chunkId: msg.chunkId,
              name: msg.name,
              status: msg.status,
              detail: msg.detail ?? null,
            },
            at: msg.at,
          });
          break;
        case "error":
          batch.events.push({
            ...ids,
            type: "log",
            payload: { chunkId: null, level: "error", line: msg.message },
            at: msg.at,
          });
          break;
        case "recorded_usage": {
          const attributed = view.currentChunkId !== null && view.currentStep !== null;
          batch.usage.push({
            ...msg.usage,
            chunkId: attributed ? view.currentChunkId : null,
            step: attributed ? view.currentStep : null,
          });
          view.usage = addUsage(view.usage, msg.usage);
          break;
        }
        case "ready":
        case "done":
          break; // the task result decides the final state
      }
    }
    if (progressChanged) {
      const worker = snapshot();
      batch.events.push({
        ...ids,
        type: "worker_progress",
        payload: { worker, progress: worker.progress },
      });
    }
    const usageOnly =
      Object.keys(batch.worker).length === 0 &&
      batch.chunks.length === 0 &&
      batch.events.length === 0 &&
      batch.branch === undefined;
    if (usageOnly && batch.usage.length === 0) return;
    const events = await this.deps.store.persistBatch(batch);
    // the store's sums are the truth (they equal the view's own unless a write was lost)
    const stored = events.findLast((e) => e.type === "usage_updated");
    if (stored?.type === "usage_updated") view.usage = stored.usage;
    // usage alone changes nothing else: a run that ended meanwhile keeps its final view
    if (usageOnly) this.view.usage = view.usage;
    else Object.assign(this.view, view);
    this.deps.publish(events);
  }
}
