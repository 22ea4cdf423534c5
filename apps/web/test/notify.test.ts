import { describe, expect, it } from "vitest";
import {
  changesText,
  countedTitle,
  createTitleCounter,
  RunWatcher,
  type TitleTarget,
} from "../src/lib/notify.ts";
import type { Worker } from "../src/lib/types.ts";
import { event, worker } from "./helpers/fixtures.ts";

const completed = (id: string, patch: Partial<Worker> = {}) =>
  event(
    "worker_completed",
    { worker: worker(id, { status: "completed", finishedAt: 5000, ...patch }) },
    id,
  );
const reviewed = (workerId: string, chunkId: string, reviewStatus: "pass" | "needs_fix") =>
  event(
    "chunk_updated",
    { event: "finished", chunk: { id: chunkId, status: "completed", reviewStatus } },
    workerId,
  );

describe("which events notify", () => {
  it("tells a completed run as ready to review, with its changes, linking to the run page", () => {
    const watcher = new RunWatcher();
    expect(
      watcher.handle(completed("a", { changes: { files: 4, additions: 12, deletions: 3 } })),
    ).toEqual({
      workerId: "a",
      kind: "completed",
      title: "Spec a",
      body: "Completed — ready to review · +12 −3 in 4 files",
      href: "/workers/a",
    });
    expect(watcher.handle(completed("b"))?.body).toBe("Completed — ready to review");
  });

  it("counts the chunks the review sent back with needs_fix during the run", () => {
    const watcher = new RunWatcher();
    expect(watcher.handle(reviewed("a", "c1", "needs_fix"))).toBeNull();
    expect(watcher.handle(reviewed("a", "c2", "pass"))).toBeNull();
    expect(watcher.handle(reviewed("a", "c3", "needs_fix"))).toBeNull();
    expect(watcher.handle(reviewed("other", "c9", "needs_fix"))).toBeNull();
    expect(watcher.handle(completed("a"))).toMatchObject({
      kind: "fixed",
      body: "Completed after 2 review fixes — ready to review",
    });
    expect(watcher.handle(completed("other", { finishedAt: 6000 }))?.body).toBe(
      "Completed after 1 review fix — ready to review",
    );
  });

  it("tells a failure with its error, shortened", () => {
    const watcher = new RunWatcher();
    const error = `the review rejected the chunk: ${"x".repeat(300)}`;
    const outcome = watcher.handle(
      event(
        "worker_failed",
        { worker: worker("a", { status: "failed", error, finishedAt: 5000 }), error },
        "a",
      ),
    );
    expect(outcome).toMatchObject({ kind: "failed", title: "Spec a", href: "/workers/a" });
    expect(outcome?.body.startsWith("Failed: the review rejected the chunk: xxx")).toBe(true);
    expect(outcome?.body.length).toBeLessThanOrEqual(170);
    expect(outcome?.body.endsWith("…")).toBe(true);
  });

  it("stays quiet about starts, progress, stops, landings and output, and tells each end once", () => {
    const watcher = new RunWatcher();
    const quiet = [
      event("worker_started", { worker: worker("a"), reason: "started" }, "a"),
      event("worker_progress", { worker: worker("a"), progress: worker("a").progress }, "a"),
      event("worker_paused", { worker: worker("a", { status: "paused" }) }, "a"),
      event(
        "worker_stopped",
        { worker: worker("a", { status: "stopped", finishedAt: 5000 }), reason: "user" },
        "a",
      ),
      event(
        "worker_landed",
        {
          worker: worker("a", {
            status: "completed",
            finishedAt: 5000,
            landed: { how: "squashed", commit: "abc", at: 6000 },
          }),
          how: "squashed",
        },
        "a",
      ),
      event("log", { chunkId: null, level: "info", line: "hello" }, "a"),
    ];
    for (const e of quiet) expect(watcher.handle(e), e.type).toBeNull();

    const end = completed("b");
    expect(watcher.handle(end)).not.toBeNull();
    expect(watcher.handle(end)).toBeNull(); // the feed delivered it again
    // a later run of the same worker id (another finish time) is told again
    expect(watcher.handle(completed("b", { finishedAt: 9000 }))).not.toBeNull();
  });

  it("prints changes", () => {
    expect(changesText(null)).toBeNull();
    expect(changesText({ files: 1, additions: 0, deletions: 5 })).toBe("+0 −5 in 1 file");
  });
});

class FakeDocument implements TitleTarget {
  title = "glm-workers";
  visibilityState: DocumentVisibilityState = "visible";
  private listeners = new Set<() => void>();
  addEventListener(_type: "visibilitychange", listener: () => void): void {
    this.listeners.add(listener);
  }
  removeEventListener(_type: "visibilitychange", listener: () => void): void {
    this.listeners.delete(listener);
  }
  setVisibility(state: DocumentVisibilityState): void {
    this.visibilityState = state;
    for (const listener of this.listeners) listener();
  }
  get listening(): number {
    return this.listeners.size;
  }
}

describe("the title counter", () => {
  it("prefixes a count, replacing an earlier one, and drops it at zero", () => {
    expect(countedTitle("glm-workers", 2)).toBe("(2) glm-workers");
    expect(countedTitle("(2) glm-workers", 3)).toBe("(3) glm-workers");
    expect(countedTitle("(3) glm-workers", 0)).toBe("glm-workers");
    expect(countedTitle("(v2) notes", 0)).toBe("(v2) notes");
  });

  it("counts ended runs only while the tab is hidden and clears when it is shown", () => {
    const doc = new FakeDocument();
    const counter = createTitleCounter(doc);
    expect(counter.bump()).toBe(false);
    expect(doc.title).toBe("glm-workers");

    doc.setVisibility("hidden");
    expect(counter.bump()).toBe(true);
    expect(doc.title).toBe("(1) glm-workers");
    counter.bump();
    expect(doc.title).toBe("(2) glm-workers");
    expect(counter.count()).toBe(2);
    // a page that changes the title meanwhile keeps its own title under the count
    doc.title = "Run · glm-workers";
    counter.bump();
    expect(doc.title).toBe("(3) Run · glm-workers");

    doc.setVisibility("visible");
    expect(doc.title).toBe("Run · glm-workers");
    expect(counter.count()).toBe(0);

    doc.setVisibility("hidden");
    counter.bump();
    counter.dispose();
    expect(doc.title).toBe("Run · glm-workers");
    expect(doc.listening).toBe(0);
  });
});
