import { describe, expect, it } from "vitest";
import type { NewEvent } from "../src/events.ts";
import type { RunStore } from "../src/store/index.ts";
import { must, seedSpecs, startRun, storeFixture } from "./store-helpers.ts";

/** Stores one `log` event per entry (`at` as given) for the worker. */
async function logs(store: RunStore, w: { id: string; specId: string }, ats: number[]) {
  const events: NewEvent[] = ats.map((at, i) => ({
    workerId: w.id,
    specId: w.specId,
    type: "log",
    payload: { chunkId: null, level: "info", line: `line ${i}` },
    at,
  }));
  return store.persistBatch({ workerId: w.id, specId: w.specId, worker: {}, chunks: [], events });
}

describe("run store: reading events", () => {
  it("reads after an id, the newest N, and filters by worker and type", async () => {
    const { d, store, published } = await storeFixture();
    const { specs } = await seedSpecs(d, 2);
    expect(await store.lastEventId()).toBe(0);
    expect(await store.events()).toEqual([]);
    const a = await startRun(store, must(specs[0]).spec.id);
    const b = await startRun(store, must(specs[1]).spec.id);
    await logs(store, a, [1, 2, 3]);
    const [tool] = await store.persistBatch({
      workerId: b.id,
      specId: b.specId,
      worker: {},
      chunks: [],
      events: [
        {
          workerId: b.id,
          specId: b.specId,
          type: "tool",
          payload: { chunkId: null, name: "edit", status: "started", detail: "a.ts" },
        },
      ],
    });
    await logs(store, b, [4]);

    // 4 queue_updated (2 enqueues, 2 claims), 3 logs of a, b's tool and log
    const all = await store.events();
    expect(all).toEqual(published);
    expect(all).toHaveLength(9);
    expect(await store.lastEventId()).toBe(all[8]?.id);

    const third = all[2]?.id ?? 0;
    expect(await store.events({ after: third })).toEqual(all.slice(3));
    expect(await store.events({ after: third, limit: 2 })).toEqual(all.slice(3, 5));
    expect(await store.events({ newest: true, limit: 2 })).toEqual(all.slice(7));
    expect(await store.events({ newest: true, limit: 100 })).toEqual(all);

    const ofA = await store.events({ workerId: a.id });
    expect(ofA.map((e) => (e.type === "log" ? e.line : e.type))).toEqual([
      "line 0",
      "line 1",
      "line 2",
    ]);
    expect(await store.events({ types: ["tool"] })).toEqual([tool]);
    expect(
      (await store.events({ types: ["log"], workerId: b.id, newest: true, limit: 5 })).map(
        (e) => e.workerId,
      ),
    ).toEqual([b.id]);
    expect((await store.events({ types: ["queue_updated"] })).map((e) => e.workerId)).toEqual([
      null,
      null,
      null,
      null,
    ]);
  });
});

describe("run store: trimEvents", () => {
  it("deletes old events but keeps recent ones and the newest keepLast", async () => {
    const { d, store } = await storeFixture();
    const { specs } = await seedSpecs(d, 1);
    const w = await startRun(store, must(specs[0]).spec.id); // 2 queue_updated, stored now
    const now = Date.now();
    const old = await logs(store, w, [1000, 1001, 1002, 1003, 1004]);
    const recent = await logs(store, w, [now - 10, now - 5]);
    const lines = async () =>
      (await store.events({ types: ["log"] })).map((e) => (e.type === "log" ? e.line : ""));

    const queueEvents = await store.events({ types: ["queue_updated"] });
    // older than an hour, but the newest 3 (two recent logs and the last old one) stay
    expect(await store.trimEvents({ olderThanMs: 3_600_000, keepLast: 3, now })).toBe(4);
    expect(await store.events()).toEqual([...queueEvents, old[4], ...recent]);
    expect(await lines()).toEqual(["line 4", "line 0", "line 1"]);

    // keepLast 0 protects nothing; recent events are never deleted by age
    expect(await store.trimEvents({ olderThanMs: 3_600_000, keepLast: 0, now })).toBe(1);
    expect(await store.events()).toEqual([...queueEvents, ...recent]);
    expect(await store.trimEvents({ olderThanMs: 3_600_000, keepLast: 0, now })).toBe(0);
    // everything is older than 0 ms from a later now, but the newest keepLast stay
    expect(await store.trimEvents({ olderThanMs: 0, keepLast: 1, now: now + 60_000 })).toBe(3);
    expect(await store.events()).toEqual([recent[1]]);

    // ids are never reused after a trim
    const [next] = await logs(store, w, [now]);
    expect(next?.id).toBeGreaterThan(recent[1]?.id ?? 0);
    expect(await store.lastEventId()).toBe(next?.id);
  });
});
