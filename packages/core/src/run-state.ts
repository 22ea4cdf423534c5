import type { ChunkPatch, ChunkSnapshot, Progress, ThreadToMain } from "./protocol.ts";

export type Send = (msg: ThreadToMain) => void;

/**
 * The thread's view of a spec's chunks during a run, and the only place that changes them:
 * every change is applied locally and sent to the main thread as a `chunk` message, followed by
 * a `progress` message when the counts moved.
 */
export class RunState {
  readonly chunks: ChunkSnapshot[];
  #lastProgress = "";

  constructor(
    chunks: readonly ChunkSnapshot[],
    private readonly send: Send,
  ) {
    // A resumed or re-run spec starts at its first unfinished chunk: everything that is not
    // `completed` (pending, running from a crashed run, failed or cancelled) is pending again.
    this.chunks = [...chunks]
      .sort((a, b) => a.order - b.order)
      .map((c) => (c.status === "completed" ? { ...c } : { ...c, status: "pending" as const }));
  }

  /** current = chunks in a final state; passed = completed; failed = failed. */
  progress(): Progress {
    let current = 0;
    let passed = 0;
    let failed = 0;
    for (const c of this.chunks) {
      if (c.status === "completed") passed++;
      if (c.status === "failed") failed++;
      if (c.status === "completed" || c.status === "failed" || c.status === "cancelled") current++;
    }
    return { current, total: this.chunks.length, passed, failed };
  }

  sendProgress(force = false): void {
    const progress = this.progress();
    const key = JSON.stringify(progress);
    if (!force && key === this.#lastProgress) return;
    this.#lastProgress = key;
    this.send({ type: "progress", progress, at: Date.now() });
  }

  get(id: string): ChunkSnapshot | undefined {
    return this.chunks.find((c) => c.id === id);
  }

  /** Applies `patch` to the chunk and sends it as `event`. */
  update(
    chunk: ChunkSnapshot,
    event: "started" | "finished" | "cancelled" | "updated",
    patch: Omit<ChunkPatch, "id">,
  ): void {
    if (patch.status !== undefined) chunk.status = patch.status;
    if (patch.reviewStatus !== undefined) chunk.reviewStatus = patch.reviewStatus;
    if (patch.commitHash !== undefined) chunk.commitHash = patch.commitHash;
    this.send({ type: "chunk", event, chunk: { id: chunk.id, ...patch }, at: Date.now() });
    this.sendProgress();
  }

  /**
   * Inserts a fix chunk right after `after` (order + 1; every later chunk moves down one, as
   * the main thread does when it stores the `inserted` event).
   */
  insertAfter(after: ChunkSnapshot, fix: ChunkSnapshot): void {
    const index = this.chunks.indexOf(after);
    for (const c of this.chunks) if (c.order >= fix.order) c.order += 1;
    this.chunks.splice(index + 1, 0, fix);
    this.send({
      type: "chunk",
      event: "inserted",
      chunk: {
        id: fix.id,
        title: fix.title,
        description: fix.description,
        order: fix.order,
        status: fix.status,
        dependencies: fix.dependencies,
        fixOf: fix.fixOf,
        reviewStatus: null,
        reviewFeedback: null,
        commitHash: null,
        error: null,
        outputSummary: null,
        startedAt: null,
        completedAt: null,
      },
      at: Date.now(),
    });
    this.sendProgress();
  }

  /**
   * Marks every chunk from `index` on that is not in a final state as cancelled (`reason` is
   * its error); the engine calls it with the index after the chunk that stopped the run.
   */
  cancelFrom(index: number, reason: string): void {
    for (const c of this.chunks.slice(index)) {
      if (c.status === "completed" || c.status === "failed" || c.status === "cancelled") continue;
      this.update(c, "cancelled", { status: "cancelled", error: reason, completedAt: Date.now() });
    }
  }
}
