import { usageReads } from "@glm-workers/db/store";
import { afterEach, describe, expect, test } from "vitest";
import { type ModelUsage, parseWorkerEvent, type WorkerEvent } from "../src/orchestrator/types.ts";
import { costMicros, modelPrice } from "../src/pricing.ts";
import { FakeLauncher } from "./fake-launcher.ts";
import { type Harness, makeSpec, openHarness, removeDir, waitFor } from "./orchestrator-helpers.ts";

/** Model usage reported by the gateway: attribution, storage, events and cost (fake launcher). */

const open: Harness[] = [];
const logs: string[] = [];
async function harness() {
  const pool = new FakeLauncher();
  const h = await openHarness({
    maxWorkers: 2,
    pool,
    executor: {
      kind: "simulated",
      simulatedChunkMs: 10,
      env: {},
      model: "zai-coding-plan/glm-4.7",
    },
    log: (level, msg) => logs.push(`${level}: ${msg}`),
  });
  open.push(h);
  return { h, pool };
}

afterEach(async () => {
  logs.length = 0;
  for (const h of open.splice(0)) {
    await h.stop({ force: true }).catch(() => {});
    removeDir(h.dir);
  }
});

const request = (patch: Partial<ModelUsage> = {}): ModelUsage => ({
  inputTokens: 60_000,
  outputTokens: 3_000,
  reasoningTokens: 1_000,
  cacheReadTokens: 50_000,
  requests: 1,
  model: null,
  ...patch,
});

function usageEvents(h: Harness) {
  return h.events.filter(
    (e): e is Extract<WorkerEvent, { type: "usage_updated" }> => e.type === "usage_updated",
  );
}

describe("orchestrator: recordUsage", () => {
  test("usage while the run reviews is stored on that chunk step, published, and priced by the run's model", async () => {
    const { h, pool } = await harness();
    const { spec, chunks } = await makeSpec(h, "a", 2);
    const c0 = chunks[0]?.id ?? "";
    const started = await h.orchestrator.start(spec.id);
    if (started.status !== "started") throw new Error("not started");
    const id = started.worker.id;
    const run = pool.runOf(spec.id);
    if (!run) throw new Error("no run");
    const at = Date.now();
    run.say({ type: "chunk", event: "started", chunk: { id: c0, status: "running" }, at });
    run.say({ type: "step", chunkId: c0, step: "executing", at });
    await h.orchestrator.recordUsage(id, request());
    run.say({ type: "step", chunkId: c0, step: "reviewing", at });
    await h.orchestrator.recordUsage(
      id,
      request({
        inputTokens: 1_000_000,
        outputTokens: 100_000,
        reasoningTokens: 0,
        cacheReadTokens: 0,
      }),
    );

    // glm-4.7: 0.60 in, 0.11 cached, 2.20 out (reasoning as output) per 1M tokens
    const executing = {
      inputTokens: 60_000,
      outputTokens: 3_000,
      reasoningTokens: 1_000,
      cacheReadTokens: 50_000,
      requests: 1,
      costUsd: 0.0181, // (10k × 0.60 + 50k × 0.11 + 3k × 2.20) micro-USD
    };
    const reviewing = {
      inputTokens: 1_000_000,
      outputTokens: 100_000,
      reasoningTokens: 0,
      cacheReadTokens: 0,
      requests: 1,
      costUsd: 0.82,
    };
    const total = {
      inputTokens: 1_060_000,
      outputTokens: 103_000,
      reasoningTokens: 1_000,
      cacheReadTokens: 50_000,
      requests: 2,
      costUsd: 0.8381,
    };
    const stored = await usageReads(h.database.db).chunksOfSpec(spec.id);
    expect(stored.get(c0)).toEqual({ executing, reviewing });
    expect(stored.get(chunks[1]?.id ?? "")).toBeUndefined();

    const last = usageEvents(h).at(-1);
    expect(last).toMatchObject({
      type: "usage_updated",
      workerId: id,
      specId: spec.id,
      chunkId: c0,
      step: "reviewing",
      usage: total,
      chunkUsage: reviewing,
      specUsage: total,
    });
    expect(parseWorkerEvent(last)).toEqual(last);
    // the live view, the list and the stored row agree
    expect((await h.orchestrator.getWorker(id)).usage).toEqual(total);
    expect((await h.orchestrator.listWorkers()).find((w) => w.id === id)?.usage).toEqual(total);
    expect((await usageReads(h.database.db).spec(spec.id)).costUsd).toBe(0.8381);

    // a later progress event carries the usage in its worker view
    run.say({ type: "progress", progress: { current: 1, total: 2, passed: 0, failed: 0 }, at });
    await waitFor("a worker_progress with usage", () =>
      h.events.some((e) => e.type === "worker_progress" && e.worker.usage.requests === 2),
    );

    // a model passed in wins over the run's; an unknown one adds tokens but no cost
    await h.orchestrator.recordUsage(id, request({ model: "acme/mystery-1" }));
    expect(usageEvents(h).at(-1)).toMatchObject({
      step: "reviewing",
      usage: { requests: 3, costUsd: 0.8381 },
      chunkUsage: { requests: 2, inputTokens: 1_060_000, costUsd: 0.82 },
    });

    // the run ends: later usage counts for the run only
    run.end({ outcome: "completed" });
    await waitFor("the run to finish", () => h.orchestrator.activeCount === 0);
    await h.orchestrator.recordUsage(id, request({ model: "zai/glm-4.5-air" }));
    expect(usageEvents(h).at(-1)).toMatchObject({ chunkId: null, step: null, chunkUsage: null });
    const after = await h.orchestrator.getWorker(id);
    expect(after.status).toBe("completed");
    expect(after.usage.requests).toBe(4);
    expect(after.usage.costUsd).toBeCloseTo(
      0.8381 + (10_000 * 0.2 + 50_000 * 0.03 + 3_000 * 1.1) / 1e6,
      9,
    );
    for (const e of h.events) expect(parseWorkerEvent(e)).toEqual(e);
  });

  test("a run on an unpriced model has a null cost; unknown workers and empty reports are ignored", async () => {
    const { h, pool } = await harness();
    const { spec, chunks } = await makeSpec(h, "b", 1);
    const started = await h.orchestrator.start(spec.id, 0, "acme/unknown-model");
    if (started.status !== "started") throw new Error("not started");
    const run = pool.runOf(spec.id);
    run?.say({ type: "step", chunkId: chunks[0]?.id ?? "", step: "executing", at: Date.now() });
    await h.orchestrator.recordUsage(started.worker.id, request());
    expect((await h.orchestrator.getWorker(started.worker.id)).usage).toEqual({
      inputTokens: 60_000,
      outputTokens: 3_000,
      reasoningTokens: 1_000,
      cacheReadTokens: 50_000,
      requests: 1,
      costUsd: null,
    });
    expect(usageEvents(h).at(-1)?.chunkUsage?.costUsd).toBeNull();

    const before = h.events.length;
    await expect(h.orchestrator.recordUsage("no-such-worker", request())).resolves.toBeUndefined();
    await expect(
      h.orchestrator.recordUsage("no-such-worker", request({ model: "zai/glm-4.7" })),
    ).resolves.toBeUndefined();
    await h.orchestrator.recordUsage(
      started.worker.id,
      request({
        inputTokens: 0,
        outputTokens: 0,
        reasoningTokens: 0,
        cacheReadTokens: 0,
        requests: 0,
      }),
    );
    expect(h.events.length).toBe(before);
    expect(logs.filter((l) => l.includes("unknown worker no-such-worker"))).toHaveLength(2);
  });

  test("requests that finish together share a transaction and add up exactly", async () => {
    const { h, pool } = await harness();
    const { spec, chunks } = await makeSpec(h, "c", 1);
    const started = await h.orchestrator.start(spec.id);
    if (started.status !== "started") throw new Error("not started");
    pool.runOf(spec.id)?.say({
      type: "step",
      chunkId: chunks[0]?.id ?? "",
      step: "executing",
      at: Date.now(),
    });
    const before = usageEvents(h).length;
    await Promise.all(
      Array.from({ length: 50 }, () => h.orchestrator.recordUsage(started.worker.id, request())),
    );
    const events = usageEvents(h).slice(before);
    expect(events.length).toBeLessThan(50);
    expect(events.at(-1)?.usage).toMatchObject({ requests: 50, inputTokens: 3_000_000 });
    expect(events.at(-1)?.usage.costUsd).toBeCloseTo(50 * 0.0181, 9);
  });
});

describe("pricing", () => {
  test("every GLM model of opencode's catalog has a price; unknown ones have none", () => {
    for (const id of [
      "zai-coding-plan/glm-4.7",
      "zai-coding-plan/glm-4.6",
      "zai-coding-plan/glm-4.5",
      "zai-coding-plan/glm-4.5-air",
      "zai-coding-plan/glm-5-turbo",
      "zai-coding-plan/glm-5.2",
    ]) {
      expect(modelPrice(id), id).not.toBeNull();
    }
    expect(modelPrice("glm-4.6")).toEqual({ input: 0.6, cachedInput: 0.11, output: 2.2 });
    expect(modelPrice("zai/GLM-4.6")).toEqual(modelPrice("zai-coding-plan/glm-4.6"));
    expect(modelPrice("acme/glm-9")).toBeNull();
    expect(modelPrice("constructor")).toBeNull();
    expect(modelPrice(null)).toBeNull();
    // 2M input of which 1M cached, 1M output of which 0.5M reasoning
    const tokens = {
      inputTokens: 2e6,
      outputTokens: 1e6,
      reasoningTokens: 5e5,
      cacheReadTokens: 1e6,
    };
    expect(costMicros("zai-coding-plan/glm-4.7", tokens)).toBe(600_000 + 110_000 + 2_200_000);
    expect(costMicros("acme/unknown", tokens)).toBeNull();
  });
});
