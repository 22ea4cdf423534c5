import type { WriteTx } from "@glm-workers/db/client";
import { eq } from "drizzle-orm";
import type { ThreadToMain } from "../protocol.ts";
import {
  applyChunkPatch,
  insertEvents,
  type NewEvent,
  progressPatch,
  specs,
  updateWorker,
  type WorkerPatch,
  type WriteFn,
} from "./store.ts";
import type { WorkerEvent, WorkerView } from "./types.ts";

/**
 * Persists the messages of one run thread, in order, in batches: every message that arrived
 * while the previous batch was being committed goes into the next transaction. Only after a
 * batch commits are its events published.
 */
export class RunSink {
  readonly #inbox: ThreadToMain[] = [];
  #draining: Promise<void> | null = null;
  readonly #chunkTitles = new Map<string, string>();
  readonly #changeListeners = new Set<() => void>();

  constructor(
    readonly view: WorkerView,
    private readonly deps: {
      write: WriteFn;
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
    this.#inbox.push(msg);
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
        for (const listener of this.#changeListeners) listener();
      }
    } finally {
      this.#draining = null;
    }
  }

  async #persist(batch: ThreadToMain[]): Promise<void> {
    // Changes go to a copy that becomes the live view only once the batch has committed, so
    // whoever waits for a status (e.g. `paused`) sees it together with everything before it.
    const view: WorkerView = { ...this.view, progress: { ...this.view.progress } };
    const patch: WorkerPatch = {};
    const ops: Array<(tx: WriteTx) => Promise<void>> = [];
    const events: NewEvent[] = [];
    let progressChanged = false;
    const ids = { workerId: view.id, specId: view.specId };

    for (const msg of batch) {
      switch (msg.type) {
        case "workspace":
          patch.workdir = msg.workdir;
          patch.branch = msg.branch;
          view.workdir = msg.workdir;
          view.branch = msg.branch;
          ops.push(async (tx) => {
            await tx.update(specs).set({ branch: msg.branch }).where(eq(specs.id, view.specId));
          });
          break;
        case "paused":
          if (this.deps.stopping() || view.status !== "running") break;
          patch.status = "paused";
          view.status = "paused";
          events.push({ ...ids, type: "worker_paused", payload: {}, at: msg.at });
          break;
        case "resumed":
          if (this.deps.stopping() || view.status !== "paused") break;
          patch.status = "running";
          view.status = "running";
          events.push({ ...ids, type: "worker_resumed", payload: {}, at: msg.at });
          break;
        case "step":
          patch.currentChunkId = msg.chunkId;
          patch.currentStep = msg.step;
          view.currentChunkId = msg.chunkId;
          view.currentChunkTitle = this.#chunkTitles.get(msg.chunkId) ?? null;
          view.currentStep = msg.step;
          progressChanged = true;
          break;
        case "chunk": {
          const chunk = msg.chunk;
          if (chunk.title) this.#chunkTitles.set(chunk.id, chunk.title);
          const inserted = msg.event === "inserted";
          ops.push((tx) => applyChunkPatch(tx, view.specId, chunk, inserted));
          if (msg.event === "started") {
            patch.currentChunkId = chunk.id;
            view.currentChunkId = chunk.id;
            view.currentChunkTitle = this.#chunkTitles.get(chunk.id) ?? null;
            progressChanged = true;
          }
          events.push({
            ...ids,
            type: "chunk_updated",
            payload: { event: msg.event, chunk },
            at: msg.at,
          });
          break;
        }
        case "progress":
          Object.assign(patch, progressPatch(msg.progress));
          view.progress = { ...msg.progress };
          progressChanged = true;
          break;
        case "log":
          events.push({
            ...ids,
            type: "log",
            payload: { chunkId: msg.chunkId, level: msg.level, line: msg.line },
            at: msg.at,
          });
          break;
        case "tool":
          events.push({
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
          events.push({
            ...ids,
            type: "log",
            payload: { chunkId: null, level: "error", line: msg.message },
            at: msg.at,
          });
          break;
        case "ready":
        case "done":
          break; // the task result decides the final state
      }
    }
    if (progressChanged) {
      events.push({ ...ids, type: "worker_progress", payload: { worker: { ...view } } });
    }
    const hasPatch = Object.keys(patch).length > 0;
    if (!hasPatch && ops.length === 0 && events.length === 0) return;
    const rows = await this.deps.write(async (tx) => {
      for (const op of ops) await op(tx);
      if (hasPatch) await updateWorker(tx, view.id, patch);
      return insertEvents(tx, events);
    });
    Object.assign(this.view, view);
    this.deps.publish(rows);
  }
}
