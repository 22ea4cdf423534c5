import { parseWorkerEvent } from "@glm-workers/core/events";
import { describe, expect, it } from "vitest";
import { formatDuration } from "../src/lib/clock.ts";
import { type LogLine, mergeLines, toLogLine } from "../src/lib/log-lines.ts";
import type { Worker } from "../src/lib/types.ts";
import { compactNumber, costText, formatCost, tokensText, usageTitle } from "../src/lib/usage.ts";
import {
  activeWorkers,
  applyEvent,
  RECENT_LIMIT,
  recentWorkers,
  type WorkersData,
} from "../src/lib/workers-events.ts";
import { event, item, worker } from "./helpers/fixtures.ts";

const empty: WorkersData = {
  workers: [],
  queue: [],
  maxWorkers: 2,
  queuePaused: false,
  queueHoldReason: null,
};

describe("applyEvent", () => {
  it("adds a started worker and replaces it with each newer view", () => {
    let data = applyEvent(
      empty,
      event("worker_started", { worker: worker("a"), reason: "started" }, "a"),
    );
    expect(data.workers.map((w) => w.id)).toEqual(["a"]);
    const moved = worker("a", {
      currentChunkTitle: "Beta",
      currentStep: "reviewing",
      progress: { current: 2, total: 4, passed: 1, failed: 1 },
    });
    data = applyEvent(
      data,
      event("worker_progress", { worker: moved, progress: moved.progress }, "a"),
    );
    expect(data.workers).toEqual([moved]);
  });

  it("takes the status from the view each status event carries (pause/resume acks, failures)", () => {
    let data: WorkersData = { ...empty, workers: [worker("a"), worker("b")] };
    data = applyEvent(
      data,
      event("worker_paused", { worker: worker("a", { status: "paused" }) }, "a"),
    );
    expect(data.workers.map((w) => w.status)).toEqual(["paused", "running"]);
    data = applyEvent(
      data,
      event("worker_resumed", { worker: worker("a"), reason: "resumed" }, "a"),
    );
    expect(data.workers[0]?.status).toBe("running");
    const failed = worker("b", { status: "failed", error: "review said fail", finishedAt: 5000 });
    data = applyEvent(
      data,
      event("worker_failed", { worker: failed, error: "review said fail" }, "b"),
    );
    expect(data.workers[1]).toMatchObject({
      status: "failed",
      error: "review said fail",
      finishedAt: 5000,
    });
  });

  it("updates a landed run in place from worker_landed (merged or discarded), replays included", () => {
    const done = worker("a", {
      status: "completed",
      finishedAt: 4000,
      branch: "glm/spec-a",
      baseBranch: "main",
      changes: { files: 3, additions: 40, deletions: 7 },
    });
    let data: WorkersData = { ...empty, workers: [worker("live"), done] };
    const squashed = { ...done, landed: { how: "squashed" as const, commit: "abc123", at: 6000 } };
    const landed = event("worker_landed", { worker: squashed, how: "squashed" }, "a");
    expect(landed).toMatchObject({ type: "worker_landed", how: "squashed" });
    data = applyEvent(data, landed);
    expect(data.workers.map((w) => w.id)).toEqual(["live", "a"]);
    expect(data.workers[1]).toEqual(squashed);
    expect(recentWorkers(data.workers)[0]?.landed).toEqual({
      how: "squashed",
      commit: "abc123",
      at: 6000,
    });
    expect(applyEvent(data, landed)).toEqual(data);

    const discarded = {
      ...done,
      id: "b",
      landed: { how: "discarded" as const, commit: null, at: 1 },
    };
    data = applyEvent(data, event("worker_landed", { worker: discarded, how: "discarded" }, "b"));
    expect(data.workers.find((w) => w.id === "b")?.landed?.how).toBe("discarded");
    expect(() =>
      parseWorkerEvent({
        id: 1,
        workerId: "a",
        specId: null,
        at: 1,
        type: "worker_landed",
        payload: { worker: squashed, how: "thrown-away" },
        worker: squashed,
        how: "thrown-away",
      }),
    ).toThrow();
  });

  it("rejects malformed events at the protocol (the feed skips them)", () => {
    const base = { id: 1, workerId: "a", specId: null, at: 1 };
    expect(() =>
      parseWorkerEvent({
        ...base,
        type: "worker_progress",
        payload: { worker: "nope" },
        worker: "nope",
      }),
    ).toThrow();
    expect(() =>
      parseWorkerEvent({
        ...base,
        workerId: null,
        type: "queue_updated",
        payload: { queue: [{ bad: 1 }], paused: false },
        queue: [{ bad: 1 }],
        paused: false,
      }),
    ).toThrow();
    const failed = worker("a", { status: "failed" });
    expect(() =>
      parseWorkerEvent({
        ...base,
        type: "worker_failed",
        payload: { worker: failed, error: "" },
        worker: failed,
        error: "",
      }),
    ).toThrow();
    expect(() => parseWorkerEvent({ ...base, type: "no_such_event", payload: {} })).toThrow();
  });

  it("takes the whole queue and the pause flag from queue_updated, numbering positions", () => {
    const data = applyEvent(
      empty,
      event("queue_updated", {
        queue: [item("x", 5), item("y")],
        paused: true,
        holdReason: "the upstream refused the key",
      }),
    );
    expect(data.queue.map((q) => [q.id, q.position])).toEqual([
      ["x", 1],
      ["y", 2],
    ]);
    expect(data.queuePaused).toBe(true);
    expect(data.queueHoldReason).toBe("the upstream refused the key");
  });

  it("follows settings changes", () => {
    let data = applyEvent(
      empty,
      event("settings_updated", {
        key: "maxWorkers",
        value: { value: 5, configured: 2 },
        maxWorkers: 5,
        queuePaused: false,
      }),
    );
    expect(data.maxWorkers).toBe(5);
    data = applyEvent(
      data,
      event("settings_updated", {
        key: "queuePaused",
        value: true,
        maxWorkers: 5,
        queuePaused: true,
      }),
    );
    expect(data).toMatchObject({ maxWorkers: 5, queuePaused: true });
  });

  it("converges when events the snapshot already holds are replayed over it", () => {
    const events = [
      event("worker_started", { worker: worker("a"), reason: "started" }, "a"),
      event(
        "worker_progress",
        { worker: worker("a", { currentStep: "executing" }), progress: worker("a").progress },
        "a",
      ),
      event("worker_paused", { worker: worker("a", { status: "paused" }) }, "a"),
      event("queue_updated", { queue: [item("q")], paused: false, holdReason: null }),
    ];
    const live = events.reduce(applyEvent, empty);
    const replayed = events.reduce(applyEvent, live);
    expect(replayed).toEqual(live);
    expect(live.workers[0]?.status).toBe("paused");
  });

  it("keeps every active worker and only the newest finished ones", () => {
    const finished = Array.from({ length: RECENT_LIMIT + 5 }, (_, i) =>
      worker(`f${i}`, { status: "completed", finishedAt: 10_000 + i }),
    );
    let data: WorkersData = { ...empty, workers: [worker("live"), ...finished.slice(0, -1)] };
    const last = finished.at(-1);
    if (!last) throw new Error("no worker");
    data = applyEvent(data, event("worker_completed", { worker: last }, last.id));
    expect(activeWorkers(data.workers).map((w) => w.id)).toEqual(["live"]);
    const recent = recentWorkers(data.workers);
    expect(recent).toHaveLength(RECENT_LIMIT);
    expect(recent[0]?.id).toBe(last.id);
  });
});

describe("log lines", () => {
  const line = (id: number): LogLine => ({
    id,
    at: id,
    kind: "log",
    level: "info",
    text: `l${id}`,
  });

  it("merges a tail with live lines without duplicates, in id order, keeping the newest", () => {
    expect(mergeLines([line(1), line(2)], [line(3)], 10).map((l) => l.id)).toEqual([1, 2, 3]);
    expect(
      mergeLines([line(2), line(3), line(4)], [line(3), line(1), line(5)], 10).map((l) => l.id),
    ).toEqual([1, 2, 3, 4, 5]);
    expect(mergeLines([line(1), line(2), line(3)], [line(4)], 2).map((l) => l.id)).toEqual([3, 4]);
  });

  it("renders log and tool events as lines, and nothing else", () => {
    expect(
      toLogLine(event("log", { chunkId: null, level: "warn", line: "slow disk" }, "a")),
    ).toMatchObject({
      kind: "log",
      level: "warn",
      text: "slow disk",
    });
    expect(
      toLogLine(
        event("tool", { chunkId: null, name: "bash", status: "failed", detail: "exit 1" }, "a"),
      ),
    ).toMatchObject({ kind: "tool", level: "error", text: "⚙ bash failed exit 1" });
    expect(toLogLine(event("worker_paused", { worker: worker("a") }, "a"))).toBeNull();
  });
});

describe("formatDuration", () => {
  it("prints seconds, minutes and hours", () => {
    expect(formatDuration(-5)).toBe("0s");
    expect(formatDuration(42_400)).toBe("42s");
    expect(formatDuration(185_000)).toBe("3m 05s");
    expect(formatDuration(3_720_000)).toBe("1h 02m");
  });
});

describe("usage", () => {
  const usage = (patch: Partial<Worker["usage"]> = {}): Worker["usage"] => ({
    inputTokens: 12_345,
    outputTokens: 4_100,
    reasoningTokens: 900,
    cacheReadTokens: 10_000,
    requests: 3,
    costUsd: 0.0412,
    ...patch,
  });

  it("usage_updated sets the run's usage on the worker it names (absolute, so replays converge)", () => {
    let data: WorkersData = { ...empty, workers: [worker("a"), worker("b")] };
    const e = event(
      "usage_updated",
      {
        chunkId: "c1",
        step: "reviewing",
        usage: usage(),
        chunkUsage: usage({ requests: 1 }),
        specUsage: usage(),
      },
      "a",
    );
    data = applyEvent(data, e);
    data = applyEvent(data, e);
    expect(data.workers.map((w) => w.usage.requests)).toEqual([3, 0]);
    expect(data.workers[0]?.usage).toEqual(usage());
    // a worker the store does not show is not invented
    const stranger = event(
      "usage_updated",
      { chunkId: null, step: null, usage: usage(), chunkUsage: null, specUsage: usage() },
      "zzz",
    );
    expect(applyEvent(data, stranger).workers).toEqual(data.workers);
  });

  it("prints compact tokens and the API-equivalent cost, with a tooltip that says the plan is flat-rate", () => {
    expect([0, 950, 1000, 12_345, 123_456, 999_999, 1_234_567].map(compactNumber)).toEqual([
      "0",
      "950",
      "1k",
      "12.3k",
      "123k",
      "1M",
      "1.2M",
    ]);
    expect(tokensText(usage())).toBe("12.3k in · 4.1k out");
    expect(costText(usage())).toBe("≈ $0.04 API-equivalent");
    expect(costText(usage({ costUsd: null }))).toBe("API-equivalent cost unknown");
    expect([0, 0.0004, 0.0042, 1.5].map(formatCost)).toEqual([
      "$0.00",
      "<$0.001",
      "$0.004",
      "$1.50",
    ]);
    expect(usageTitle(usage())).toMatch(/flat-rate/);
    expect(usageTitle(usage())).toContain("12,345 input tokens (10,000 from the cache)");
  });
});
