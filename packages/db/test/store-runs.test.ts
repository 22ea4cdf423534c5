import { describe, expect, it } from "vitest";
import type { NewEvent } from "../src/events.ts";
import { type Spec, workerQueue } from "../src/schema.ts";
import { progressColumns } from "../src/store/index.ts";
import { lease, must, progress, seedSpecs, startRun, storeFixture } from "./store-helpers.ts";

describe("run store: claim", () => {
  it("takes the item off the queue and starts a running worker; chunks are made ready to run", async () => {
    const { d, store, published } = await storeFixture();
    const { project, specs } = await seedSpecs(d, 2, 5);
    const { spec, chunks } = must(specs[0]);
    const [done, failed, cancelled, running] = chunks.map((c) => c.id) as [
      string,
      string,
      string,
      string,
    ];
    const patch = d.repos.chunks.applyPatch;
    await patch({ id: done, status: "completed", startedAt: 1, completedAt: 2 });
    await patch({ id: failed, status: "failed", error: "boom", startedAt: 1, completedAt: 2 });
    await patch({ id: cancelled, status: "cancelled", completedAt: 2 });
    await patch({ id: running, status: "running", startedAt: 3 });
    const { item } = await store.enqueue(spec.id, 0);
    const other = await store.enqueue(must(specs[1]).spec.id, 0);

    const claimed = await store.claim(item.id, {
      executor: "opencode",
      leaseOwner: "me",
      leaseExpiresAt: 5000,
    });
    expect(claimed.worker).toMatchObject({
      specId: spec.id,
      projectId: project.id,
      status: "running",
      executor: "opencode",
      leaseOwner: "me",
      leaseExpiresAt: 5000,
      progressTotal: 5,
      progressCurrent: 0,
      finishedAt: null,
    });
    expect(claimed.worker?.startedAt).toEqual(expect.any(Number));
    expect(claimed.events).toHaveLength(1);
    expect(claimed.events[0]).toMatchObject({
      type: "queue_updated",
      queue: [{ ...other.item, position: 1 }],
    });
    expect((await store.queue()).map((i) => i.id)).toEqual([other.item.id]);
    expect((await d.repos.specs.get(spec.id))?.status).toBe("running");
    const after = await d.repos.chunks.listBySpec(spec.id);
    expect(after.map((c) => c.status)).toEqual([
      "completed",
      "pending",
      "pending",
      "pending",
      "pending",
    ]);
    expect(after[0]).toMatchObject({ startedAt: 1, completedAt: 2 });
    for (const c of after.slice(1))
      expect(c).toMatchObject({ error: null, startedAt: null, completedAt: null });

    const id = must(claimed.worker).id;
    expect(await store.worker(id)).toMatchObject({
      id,
      status: "running",
      projectName: "proj",
      specTitle: "s0",
      executor: "opencode",
      executorLabel: "label opencode",
      progress: { current: 0, total: 5, passed: 0, failed: 0 },
    });
    const inputs = await store.runInputs(id);
    expect(inputs?.chunks.map((c) => c.title)).toEqual(["c0", "c1", "c2", "c3", "c4"]);
    expect(inputs).toMatchObject({ spec: { id: spec.id }, project: { id: project.id } });
    expect(await store.runInputs("missing")).toBeNull();

    // gone: nothing to claim, nothing published
    const count = published.length;
    expect(await store.claim(item.id, lease())).toEqual({ worker: null, events: [] });
    expect(await store.claim("missing", lease())).toEqual({ worker: null, events: [] });
    expect(published).toHaveLength(count);
  });

  it("does not claim a spec that already has an active worker", async () => {
    const { d, store } = await storeFixture();
    const { specs } = await seedSpecs(d, 1);
    const { spec } = must(specs[0]);
    const worker = await startRun(store, spec.id);
    // a queue row for the running spec (e.g. written by another process before the claim)
    await d.database.write((tx) =>
      tx.insert(workerQueue).values({
        id: "late",
        specId: spec.id,
        projectId: spec.projectId,
        priority: 0,
        addedAt: Date.now(),
      }),
    );
    expect(await store.claim("late", lease())).toEqual({ worker: null, events: [] });
    expect((await store.queue()).map((i) => i.id)).toEqual(["late"]);
    expect((await store.activeWorkers()).map((w) => w.id)).toEqual([worker.id]);
  });
});

describe("run store: the run's model", () => {
  it("claim records the queued override, else the spec's model, else the default given", async () => {
    const { d, store } = await storeFixture();
    const { specs } = await seedSpecs(d, 3);
    const [a, b, c] = [0, 1, 2].map((i) => must(specs[i]).spec) as [Spec, Spec, Spec];
    await d.repos.specs.update(a.id, { model: "zai/glm-4.6" });
    await d.repos.specs.update(b.id, { model: "zai/glm-4.6" });
    const claim = { ...lease(), defaultModel: "zai/glm-4.7" };

    // override wins over the spec's model, and the queue shows it while the item waits
    const queued = await store.enqueue(a.id, 0, "zai/glm-4.5-air");
    expect(queued.item.model).toBe("zai/glm-4.5-air");
    expect((await store.queue())[0]?.model).toBe("zai/glm-4.5-air");
    const overridden = must((await store.claim(queued.item.id, claim)).worker);
    expect(overridden.model).toBe("zai/glm-4.5-air");
    expect(await store.worker(overridden.id)).toMatchObject({
      model: "zai/glm-4.5-air",
      stepDetail: null,
    });
    expect((await store.runInputs(overridden.id))?.row.model).toBe("zai/glm-4.5-air");

    // the spec's model
    const bItem = (await store.enqueue(b.id, 0)).item;
    expect(bItem.model).toBeNull();
    expect(must((await store.claim(bItem.id, claim)).worker).model).toBe("zai/glm-4.6");

    // the default; and nothing at all when no default is given
    expect((await startRun(store, c.id, claim)).model).toBe("zai/glm-4.7");
    const { spec: plain } = must((await seedSpecs(d, 1)).specs[0]);
    expect((await startRun(store, plain.id)).model).toBeNull();
  });

  it("stepDetail is a worker column that the view shows", async () => {
    const { d, store } = await storeFixture();
    const { specs } = await seedSpecs(d, 1);
    const w = await startRun(store, must(specs[0]).spec.id);
    await store.persistBatch({
      workerId: w.id,
      specId: w.specId,
      worker: { stepDetail: "retrying in 8 s: rate limited" },
      chunks: [],
      events: [],
    });
    expect((await store.worker(w.id))?.stepDetail).toBe("retrying in 8 s: rate limited");
  });
});

describe("run store: markLaunched", () => {
  it("publishes worker_started, or worker_resumed for a recovered run", async () => {
    const { d, store } = await storeFixture();
    const { specs } = await seedSpecs(d, 1, 2);
    const w = await startRun(store, must(specs[0]).spec.id);

    const [started, ...rest] = await store.markLaunched(w.id, {
      status: "running",
      reason: "started",
      leaseOwner: "me",
      leaseExpiresAt: 1234,
    });
    expect(rest).toEqual([]);
    expect(started).toMatchObject({
      type: "worker_started",
      workerId: w.id,
      specId: w.specId,
      reason: "started",
      payload: { reason: "started" },
    });
    expect(started?.type === "worker_started" && started.worker).toEqual(await store.worker(w.id));

    const [resumed] = await store.markLaunched(w.id, {
      status: "paused",
      reason: "recovered",
      leaseOwner: "next",
      leaseExpiresAt: 99,
    });
    expect(resumed).toMatchObject({
      type: "worker_resumed",
      reason: "recovered",
      worker: { id: w.id, status: "paused" },
    });
    expect((await store.activeWorkers())[0]).toMatchObject({
      leaseOwner: "next",
      leaseExpiresAt: 99,
    });
    expect(
      await store.markLaunched("missing", {
        status: "running",
        reason: "started",
        leaseOwner: "me",
        leaseExpiresAt: 1,
      }),
    ).toEqual([]);
  });
});

describe("run store: persistBatch", () => {
  it("applies chunk and worker changes, inserts fix chunks in place and stores the events", async () => {
    const { d, store } = await storeFixture();
    const { specs } = await seedSpecs(d, 2, 3);
    const { spec, chunks } = must(specs[0]);
    const [c0, c1] = chunks.map((c) => c.id) as [string, string];
    const foreign = must(specs[1]?.chunks[0]).id;
    const w = await startRun(store, spec.id);
    const view = must(await store.worker(w.id));
    const ids = { workerId: w.id, specId: spec.id };
    const fix = { id: "fix-1", title: "Fix c0", fixOf: c0, description: "again" };
    const events: NewEvent[] = [
      { ...ids, type: "chunk_updated", payload: { event: "started", chunk: { id: c0 } }, at: 7 },
      { ...ids, type: "chunk_updated", payload: { event: "inserted", chunk: fix } },
      { ...ids, type: "log", payload: { chunkId: c0, level: "info", line: "hello" } },
      {
        ...ids,
        type: "tool",
        payload: { chunkId: c0, name: "bash", status: "completed", detail: null },
      },
      {
        ...ids,
        type: "worker_progress",
        payload: { worker: view, progress: progress(1, 4) },
      },
    ];
    const before = await store.lastEventId();
    const stored = await store.persistBatch({
      ...ids,
      branch: "glm/s0",
      worker: {
        currentChunkId: c0,
        currentStep: "reviewing",
        workdir: "/work/s0",
        branch: "glm/s0",
        ...progressColumns(progress(1, 4)),
      },
      chunks: [
        { event: "started", chunk: { id: c0, status: "running", startedAt: 10 } },
        {
          event: "finished",
          chunk: { id: c0, status: "completed", completedAt: 20, reviewStatus: "needs_fix" },
        },
        { event: "inserted", chunk: fix },
        { event: "updated", chunk: { id: foreign, title: "not this spec's chunk" } },
        { event: "updated", chunk: { id: "missing", title: "ignored" } },
      ],
      events,
    });

    expect(stored.map((e) => e.type)).toEqual(events.map((e) => e.type));
    expect(stored[0]?.id).toBeGreaterThan(before);
    expect(stored.map((e) => e.id)).toEqual(stored.map((_, i) => (stored[0]?.id ?? 0) + i));
    expect(stored[0]).toMatchObject({ at: 7, event: "started", chunk: { id: c0 } });
    expect(stored[2]).toMatchObject({ line: "hello", level: "info", chunkId: c0, ...ids });
    expect(stored[3]).toMatchObject({ name: "bash", status: "completed", detail: null });
    expect(stored[4]).toMatchObject({ progress: progress(1, 4) });
    expect(await store.events({ after: before })).toEqual(stored);

    const list = await d.repos.chunks.listBySpec(spec.id);
    expect(list.map((c) => `${c.order}:${c.title}`)).toEqual(["0:c0", "1:Fix c0", "2:c1", "3:c2"]);
    expect(list[0]).toMatchObject({ status: "completed", startedAt: 10, completedAt: 20 });
    expect(list[1]).toMatchObject({
      id: "fix-1",
      fixOf: c0,
      status: "pending",
      description: "again",
    });
    expect(list[2]?.id).toBe(c1);
    expect((await d.repos.chunks.get(foreign))?.title).toBe("c0");
    expect((await d.repos.specs.get(spec.id))?.branch).toBe("glm/s0");
    expect(await store.worker(w.id)).toMatchObject({
      currentChunkId: c0,
      currentChunkTitle: "c0",
      currentStep: "reviewing",
      workdir: "/work/s0",
      branch: "glm/s0",
      progress: progress(1, 4),
    });
  });

  it("a bad batch changes nothing and stores no event", async () => {
    const { d, store } = await storeFixture();
    const { specs } = await seedSpecs(d, 1, 2);
    const { spec, chunks } = must(specs[0]);
    const c0 = must(chunks[0]).id;
    const w = await startRun(store, spec.id);
    const before = await store.lastEventId();
    await expect(
      store.persistBatch({
        workerId: w.id,
        specId: spec.id,
        worker: { currentStep: "executing" },
        chunks: [
          { event: "started", chunk: { id: c0, status: "running" } },
          // a chunk id that is taken: the insert fails, and with it the whole batch
          { event: "inserted", chunk: { id: c0, title: "dup", fixOf: c0 } },
        ],
        events: [
          {
            workerId: w.id,
            specId: null,
            type: "log",
            payload: { chunkId: null, level: "warn", line: "x" },
          },
        ],
      }),
    ).rejects.toThrow(/already exists/);
    expect(await store.lastEventId()).toBe(before);
    expect((await d.repos.chunks.get(c0))?.status).toBe("pending");
    expect((await store.worker(w.id))?.currentStep).toBeNull();

    // a fix chunk that names no chunk of this spec is skipped, the rest of the batch lands
    const events = await store.persistBatch({
      workerId: w.id,
      specId: spec.id,
      worker: {},
      chunks: [
        { event: "inserted", chunk: { id: "orphan", title: "no fixOf" } },
        { event: "inserted", chunk: { id: "stray", title: "elsewhere", fixOf: "missing" } },
      ],
      events: [
        {
          workerId: w.id,
          specId: spec.id,
          type: "log",
          payload: { chunkId: null, level: "info", line: "kept" },
        },
      ],
    });
    expect(events).toHaveLength(1);
    expect(await d.repos.chunks.get("orphan")).toBeNull();
    expect(await d.repos.chunks.get("stray")).toBeNull();
  });
});
