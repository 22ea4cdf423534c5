import { describe, expect, it } from "vitest";
import type { FinishedWorkerStatus, SpecStatus } from "../src/enums.ts";
import { lease, must, progress, seedSpecs, startRun, storeFixture, tick } from "./store-helpers.ts";

describe("run store: finishRun", () => {
  const cases: Array<[FinishedWorkerStatus, SpecStatus]> = [
    ["completed", "completed"],
    ["failed", "failed"],
    ["stopped", "ready"],
  ];
  it.each(cases)(
    "finishRun %s: spec %s, running chunks pending, lease cleared",
    async (status, specStatus) => {
      const { d, store } = await storeFixture();
      const { specs } = await seedSpecs(d, 1, 2);
      const { spec, chunks } = must(specs[0]);
      const c1 = must(chunks[1]).id;
      const w = await startRun(store, spec.id);
      await store.persistBatch({
        workerId: w.id,
        specId: spec.id,
        worker: { currentStep: "executing", currentChunkId: c1 },
        chunks: [{ event: "started", chunk: { id: c1, status: "running", startedAt: 5 } }],
        events: [],
      });
      const { view, events } = await store.finishRun(w.id, {
        status,
        error: status === "failed" ? "exit code 2" : null,
        progress: progress(1, 2),
        ...(status === "stopped" ? { reason: "user" } : {}),
      });
      expect(view).toMatchObject({ status, currentStep: null, progress: progress(1, 2) });
      expect(view?.finishedAt).toEqual(expect.any(Number));
      expect(events).toEqual([expect.objectContaining({ type: `worker_${status}`, worker: view })]);
      const [event] = events;
      if (event?.type === "worker_failed") {
        expect(event.error).toBe("exit code 2");
        expect(event.payload.error).toBe("exit code 2");
        expect(view?.error).toBe("exit code 2");
      } else {
        expect(view?.error).toBeNull();
      }
      if (event?.type === "worker_stopped") expect(event).toMatchObject({ reason: "user" });
      expect((await d.repos.specs.get(spec.id))?.status).toBe(specStatus);
      const list = await d.repos.chunks.listBySpec(spec.id);
      expect(list[1]).toMatchObject({ status: "pending", startedAt: null });
      const row = (await store.runInputs(w.id))?.row;
      expect(row).toMatchObject({ leaseOwner: null, leaseExpiresAt: null, progressCurrent: 1 });
      expect(await store.activeWorkers()).toEqual([]);
      expect((await store.workers()).map((v) => v.id)).toEqual([w.id]);
    },
  );

  it("finishRun gives a failure without a message an error text, and a stop a default reason", async () => {
    const { d, store } = await storeFixture();
    const { specs } = await seedSpecs(d, 2);
    const failed = await startRun(store, must(specs[0]).spec.id);
    const stopped = await startRun(store, must(specs[1]).spec.id);
    const f = await store.finishRun(failed.id, {
      status: "failed",
      error: "",
      progress: progress(0, 1),
    });
    const [fe] = f.events;
    expect(fe?.type === "worker_failed" && [fe.error, fe.payload.error]).toEqual([
      "the run failed",
      "the run failed",
    ]);
    const s = await store.finishRun(stopped.id, {
      status: "stopped",
      error: "ignored",
      progress: progress(0, 1),
    });
    expect(s.events[0]).toMatchObject({
      type: "worker_stopped",
      reason: "stopped",
      worker: { error: null },
    });
    expect(
      await store.finishRun("missing", {
        status: "completed",
        error: null,
        progress: progress(0, 0),
      }),
    ).toEqual({
      view: null,
      events: [],
    });
  });
});

describe("run store: recovery and leases", () => {
  it("checkpointRun keeps the status and expires the lease; holdPaused re-leases a paused run", async () => {
    const { d, store } = await storeFixture();
    const { specs } = await seedSpecs(d, 2, 1);
    const [a, b] = [must(specs[0]), must(specs[1])];
    const run = await startRun(store, a.spec.id, lease("me"));
    const paused = await startRun(store, b.spec.id, lease("me"));
    for (const [w, s] of [
      [run, a],
      [paused, b],
    ] as const) {
      await store.persistBatch({
        workerId: w.id,
        specId: s.spec.id,
        worker: { status: w === paused ? "paused" : "running", currentStep: "executing" },
        chunks: [{ event: "started", chunk: { id: must(s.chunks[0]).id, status: "running" } }],
        events: [],
      });
    }
    await store.checkpointRun(run.id);
    await store.checkpointRun("missing");
    const row = (await store.runInputs(run.id))?.row;
    expect(row).toMatchObject({ status: "running", leaseOwner: "me", leaseExpiresAt: 0 });
    expect((await d.repos.chunks.listBySpec(a.spec.id))[0]?.status).toBe("pending");
    expect((await store.recoverableWorkers("other", Date.now())).map((w) => w.id)).toEqual([
      run.id,
    ]);

    const view = await store.holdPaused(paused.id, { leaseOwner: "next", leaseExpiresAt: 777 });
    expect(view).toMatchObject({ id: paused.id, status: "paused", currentStep: null });
    expect((await store.runInputs(paused.id))?.row).toMatchObject({
      leaseOwner: "next",
      leaseExpiresAt: 777,
    });
    expect((await d.repos.chunks.listBySpec(b.spec.id))[0]?.status).toBe("pending");
    expect(await store.holdPaused("missing", { leaseOwner: "x", leaseExpiresAt: 1 })).toBeNull();
  });

  it("recoverableWorkers skips live foreign leases; renewLeases takes them over", async () => {
    const { d, store } = await storeFixture();
    const { specs } = await seedSpecs(d, 5);
    const now = Date.now();
    const [s0, s1, s2, s3, s4] = specs.map((s) => s.spec.id) as [
      string,
      string,
      string,
      string,
      string,
    ];
    const expired = await startRun(store, s0, lease("other", now - 1000));
    await tick();
    const unleased = await startRun(store, s1, lease("other", now + 60_000));
    await store.persistBatch({
      workerId: unleased.id,
      specId: unleased.specId,
      worker: { leaseOwner: null, leaseExpiresAt: null, status: "idle" },
      chunks: [],
      events: [],
    });
    await tick();
    const own = await startRun(store, s2, lease("me", now + 60_000));
    await tick();
    const foreign = await startRun(store, s3, lease("other", now + 60_000));
    await tick();
    const finished = await startRun(store, s4, lease("me", now - 1000));
    await store.finishRun(finished.id, {
      status: "completed",
      error: null,
      progress: progress(1, 1),
    });

    const recoverable = async (owner: string, at = now) =>
      (await store.recoverableWorkers(owner, at)).map((w) => w.id);
    expect(await recoverable("me")).toEqual([expired.id, unleased.id, own.id]);
    expect((await store.activeWorkers()).map((w) => w.id)).toEqual([
      expired.id,
      unleased.id,
      own.id,
      foreign.id,
    ]);
    // once every lease has run out, all active runs are recoverable by anyone
    expect(await recoverable("third", now + 120_000)).toEqual([
      expired.id,
      unleased.id,
      own.id,
      foreign.id,
    ]);

    expect(await store.renewLeases([foreign.id, "missing"], "me", now + 90_000)).toBe(1);
    expect(await store.renewLeases([], "me", now)).toBe(0);
    expect(await recoverable("me")).toContain(foreign.id);
    expect(await recoverable("other")).toEqual([expired.id, unleased.id]);
    expect((await store.runInputs(foreign.id))?.row).toMatchObject({
      leaseOwner: "me",
      leaseExpiresAt: now + 90_000,
    });
  });
});
