import { describe, expect, it } from "vitest";
import { emptyUsage } from "../src/events.ts";
import type { UsageReport } from "../src/store/index.ts";
import { addUsage, USAGE_WINDOW_MS, usageReads } from "../src/store/index.ts";
import { must, progress, seedSpecs, startRun, storeFixture } from "./store-helpers.ts";

/** Model usage: per chunk step, per run, per spec and project, and the time-window summary. */

const GLM = "zai-coding-plan/glm-4.7";

function report(patch: Partial<UsageReport> = {}): UsageReport {
  return {
    inputTokens: 1000,
    outputTokens: 200,
    reasoningTokens: 50,
    cacheReadTokens: 500,
    requests: 1,
    model: GLM,
    costMicros: 1234,
    at: Date.now(),
    chunkId: null,
    step: null,
    ...patch,
  };
}

/** `n` times the default report's usage, priced. */
const times = (n: number, costMicros = 1234) => ({
  inputTokens: 1000 * n,
  outputTokens: 200 * n,
  reasoningTokens: 50 * n,
  cacheReadTokens: 500 * n,
  requests: n,
  costUsd: (costMicros * n) / 1e6,
});

const batch = (workerId: string, specId: string, usage: UsageReport[]) => ({
  workerId,
  specId,
  worker: {},
  chunks: [],
  events: [],
  usage,
});

describe("run store: usage", () => {
  it("adds up per chunk step, run, spec and project, with one usage_updated per chunk step", async () => {
    const { d, store, published } = await storeFixture();
    const { project, specs } = await seedSpecs(d, 2, 2);
    const { spec, chunks } = must(specs[0]);
    const [c0, c1] = chunks.map((c) => c.id) as [string, string];
    const other = must(specs[1]);
    const w = await startRun(store, spec.id);

    const events = await store.persistBatch(
      batch(w.id, spec.id, [
        report({ chunkId: c0, step: "executing" }),
        report({ chunkId: c0, step: "executing" }),
        report({ chunkId: c0, step: "reviewing", requests: 2, costMicros: 2468 }),
        report(), // no current chunk: the run only
        // a chunk of another spec, or a chunk without a step: the run only
        report({ chunkId: must(other.chunks[0]).id, step: "executing" }),
        report({ chunkId: c1, step: null }),
      ]),
    );
    expect(events.map((e) => e.type)).toEqual(["usage_updated", "usage_updated", "usage_updated"]);
    const run = {
      inputTokens: 6000,
      outputTokens: 1200,
      reasoningTokens: 300,
      cacheReadTokens: 3000,
      requests: 7,
      costUsd: (1234 * 5 + 2468) / 1e6,
    };
    expect(events[0]).toMatchObject({
      workerId: w.id,
      specId: spec.id,
      chunkId: c0,
      step: "executing",
      usage: run,
      chunkUsage: times(2),
      specUsage: run,
    });
    expect(events[1]).toMatchObject({
      chunkId: c0,
      step: "reviewing",
      chunkUsage: { ...times(1), requests: 2, costUsd: 2468 / 1e6 },
    });
    expect(events[2]).toMatchObject({ chunkId: null, step: null, chunkUsage: null, usage: run });
    expect((await store.worker(w.id))?.usage).toEqual(run);

    // an unpriced model: the chunk step's cost is unknown, the run's still counts what is priced
    await store.recordUsage(w.id, [
      report({ chunkId: c1, step: "executing", model: "other/unknown", costMicros: null }),
    ]);
    // recordUsage outside a batch attributes what it is told; here: chunk c1 executing
    const byChunk = await store.usage.chunksOfSpec(spec.id);
    expect(byChunk.get(c1)).toEqual({
      executing: { ...times(1), costUsd: null },
      reviewing: null,
    });
    expect(byChunk.get(c0)?.executing).toEqual(times(2));

    // a second run of the spec: chunk steps and the spec sum over both runs
    await store.finishRun(w.id, { status: "failed", error: "x", progress: progress(0, 2) });
    const again = await startRun(store, spec.id);
    const [second] = await store.persistBatch(
      batch(again.id, spec.id, [report({ chunkId: c0, step: "executing" })]),
    );
    expect(second).toMatchObject({
      usage: times(1),
      chunkUsage: times(3),
      specUsage: { inputTokens: 8000, requests: 9, costUsd: (1234 * 6 + 2468) / 1e6 },
    });
    expect((await store.usage.chunksOfSpec(spec.id)).get(c0)?.executing).toEqual(times(3));
    const otherRun = await startRun(store, other.spec.id);
    await store.recordUsage(otherRun.id, [report({ costMicros: 1000 })]);
    expect(await store.usage.spec(other.spec.id)).toEqual({ ...times(1), costUsd: 0.001 });
    expect(await store.usage.project(project.id)).toMatchObject({
      requests: 10,
      costUsd: (1234 * 6 + 2468 + 1000) / 1e6,
    });
    expect((await store.workers({ recent: 10 })).map((v) => v.usage.requests).sort()).toEqual([
      1, 1, 8,
    ]);

    // an unknown worker records nothing
    expect(await store.recordUsage("missing", [report()])).toEqual([]);
    expect((await store.usage.summary()).total.requests).toBe(10);
    expect(published.filter((e) => e.type === "usage_updated")).toHaveLength(6);
  });

  it("a spec or run without usage sums to zeros, and costs are null when nothing is priced", async () => {
    const { d, store } = await storeFixture();
    const { project, specs } = await seedSpecs(d, 1, 1);
    const { spec } = must(specs[0]);
    const zero = emptyUsage();
    expect(await store.usage.spec(spec.id)).toEqual(zero);
    expect(await store.usage.project(project.id)).toEqual(zero);
    expect(await store.usage.summary()).toEqual({ last5h: zero, total: zero });
    const w = await startRun(store, spec.id);
    expect((await store.worker(w.id))?.usage).toEqual(zero);
    await store.recordUsage(w.id, [report({ costMicros: null, model: null })]);
    expect((await store.worker(w.id))?.usage).toEqual({ ...times(1), costUsd: null });
  });

  it("the summary counts the last 5 hours by request time, and keeps what deleted specs used", async () => {
    const { d, store } = await storeFixture();
    const { specs } = await seedSpecs(d, 1, 1);
    const { spec } = must(specs[0]);
    const w = await startRun(store, spec.id);
    const now = Date.now();
    await store.recordUsage(w.id, [
      report({ at: now - USAGE_WINDOW_MS - 1000, requests: 3, costMicros: 3000 }),
      report({ at: now - USAGE_WINDOW_MS + 60_000 }),
      report({ at: now - 1000, model: "x/unpriced", costMicros: null }),
    ]);
    const summary = await store.usage.summary(now);
    expect(summary.last5h).toEqual({ ...times(2), requests: 2, costUsd: 0.001234 });
    expect(summary.total).toMatchObject({ requests: 5, costUsd: (3000 + 1234) / 1e6 });
    expect((await store.usage.summary(now + USAGE_WINDOW_MS)).last5h.requests).toBe(0);

    await store.finishRun(w.id, { status: "completed", error: null, progress: progress(1, 1) });
    await d.repos.specs.remove(spec.id);
    const reads = usageReads(d.database.db);
    expect((await reads.summary(now)).total.requests).toBe(5);
    expect((await reads.spec(spec.id)).requests).toBe(0);
  });

  it("addUsage adds a report the way the store sums it", () => {
    const zero = addUsage(emptyUsage(), report({ costMicros: null }));
    expect(zero).toEqual({ ...times(1), costUsd: null });
    const priced = addUsage(zero, report({ costMicros: 1000 }));
    expect(priced).toEqual({ ...times(2), costUsd: 0.001 });
    expect(addUsage(priced, report({ costMicros: 234 }))).toEqual({
      ...times(3),
      costUsd: 0.001234,
    });
  });
});
