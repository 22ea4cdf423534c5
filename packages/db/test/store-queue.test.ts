import { describe, expect, it } from "vitest";
import { ConflictError, NotFoundError, ValidationError } from "../src/errors.ts";
import { joinWaitReason, reorderPriorities } from "../src/store/index.ts";
import { seedSpecs, startRun, storeFixture, tick } from "./store-helpers.ts";

describe("run store: enqueue", () => {
  it("orders by priority (high first), then time added, with views and a queue_updated", async () => {
    const { d, store, published } = await storeFixture();
    const { project, specs } = await seedSpecs(d, 3);
    const [s0, s1, s2] = specs.map((s) => s.spec.id) as [string, string, string];
    const a = await store.enqueue(s0, 0);
    await tick();
    const b = await store.enqueue(s1, 5);
    await tick();
    const c = await store.enqueue(s2, 0);

    const queue = await store.queue();
    expect(queue.map((i) => [i.id, i.position])).toEqual([
      [b.item.id, 1],
      [a.item.id, 2],
      [c.item.id, 3],
    ]);
    expect(c.item).toEqual(queue[2]);
    expect(c.item).toMatchObject({
      specId: s2,
      projectId: project.id,
      projectName: "proj",
      specTitle: "s2",
      priority: 0,
      waitReason: null,
      waitDetail: null,
    });
    expect(published.map((e) => e.type)).toEqual([
      "queue_updated",
      "queue_updated",
      "queue_updated",
    ]);
    expect(c.events).toHaveLength(1);
    expect(c.events[0]).toMatchObject({ workerId: null, queue, paused: false });
    // the stored form reads back the same
    expect(await store.events()).toEqual(published);
  });

  it("refuses duplicates, missing specs, specs without chunks and specs that have an active worker", async () => {
    const { d, store } = await storeFixture();
    const { project, specs } = await seedSpecs(d, 2);
    const [s0, s1] = specs.map((s) => s.spec.id) as [string, string];
    const { spec: empty } = await d.repos.specs.create({ projectId: project.id, title: "empty" });
    await store.enqueue(s0, 0);
    const before = await store.lastEventId();

    await expect(store.enqueue(s0, 3)).rejects.toBeInstanceOf(ConflictError);
    await expect(store.enqueue("missing", 0)).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.enqueue(empty.id, 0)).rejects.toBeInstanceOf(ValidationError);

    const worker = await startRun(store, s1);
    await expect(store.enqueue(s1, 0)).rejects.toThrow(ConflictError);
    // a failed write stores no event
    expect((await store.events({ after: before })).map((e) => e.type)).toEqual([
      "queue_updated", // enqueue s1
      "queue_updated", // claim s1
    ]);
    // once the run is over the spec may be queued again
    await store.finishRun(worker.id, {
      status: "completed",
      error: null,
      progress: { current: 1, total: 1, passed: 1, failed: 0 },
    });
    const again = await store.enqueue(s1, 0);
    expect((await store.queue()).map((i) => i.id)).toContain(again.item.id);
  });
});

describe("run store: queue edits", () => {
  it("setPriority moves an item; removeQueueItem takes it out once", async () => {
    const { d, store } = await storeFixture();
    const { specs } = await seedSpecs(d, 3);
    const items = [];
    for (const s of specs) {
      items.push((await store.enqueue(s.spec.id, 0)).item.id);
      await tick();
    }
    const [i0, i1, i2] = items as [string, string, string];

    const moved = await store.setPriority(i2, 10);
    expect(moved.item).toMatchObject({ id: i2, priority: 10, position: 1 });
    expect(moved.events[0]).toMatchObject({ type: "queue_updated" });
    expect((await store.queue()).map((i) => i.id)).toEqual([i2, i0, i1]);
    await expect(store.setPriority("missing", 1)).rejects.toBeInstanceOf(NotFoundError);

    const removed = await store.removeQueueItem(i0);
    expect(removed).toHaveLength(1);
    const [event] = removed;
    expect(event?.type === "queue_updated" && event.queue.map((i) => i.id)).toEqual([i2, i1]);
    await expect(store.removeQueueItem(i0)).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.setPriority(i0, 1)).rejects.toBeInstanceOf(NotFoundError);
    expect((await store.queue()).map((i) => [i.id, i.position])).toEqual([
      [i2, 1],
      [i1, 2],
    ]);
  });

  it("move puts one item at a position, rewriting only that item's priority/time where needed", async () => {
    const { d, store } = await storeFixture();
    const { specs } = await seedSpecs(d, 5);
    const ids: string[] = [];
    for (const [i, s] of specs.entries()) {
      ids.push((await store.enqueue(s.spec.id, i === 0 ? 3 : 0)).item.id);
      await tick();
    }
    const [hi, a, b, c, e] = ids as [string, string, string, string, string];
    const order = async () => (await store.queue()).map((i) => i.id);
    const rows = async () =>
      new Map((await store.queue()).map((i) => [i.id, `${i.priority}@${i.addedAt}`]));
    const before = await rows();
    // the last to the top: it rises to the top's priority; nothing else changes
    const top = await store.move(e, 1);
    expect(top.item).toMatchObject({ id: e, position: 1, priority: 3 });
    expect(await order()).toEqual([e, hi, a, b, c]);
    const after = await rows();
    for (const id of [hi, a, b, c]) expect(after.get(id)).toBe(before.get(id));
    expect(top.events.map((ev) => ev.type)).toEqual(["queue_updated"]);
    // into the middle, between equal priorities, and to the bottom (clamped)
    await store.move(e, 4);
    expect(await order()).toEqual([hi, a, b, e, c]);
    await store.move(hi, 99);
    expect(await order()).toEqual([a, b, e, c, hi]);
    expect((await store.queue()).at(-1)).toMatchObject({ id: hi, priority: 0, position: 5 });
    // where it already is: nothing is written or announced
    expect((await store.move(a, 1)).events).toEqual([]);
    await expect(store.move("missing", 1)).rejects.toBeInstanceOf(NotFoundError);
  });

  it("reorder makes the given full order hold, changing priorities only where the order needs it", async () => {
    const { d, store } = await storeFixture();
    const { specs } = await seedSpecs(d, 4);
    const ids: string[] = [];
    for (const [i, s] of specs.entries()) {
      ids.push((await store.enqueue(s.spec.id, i === 3 ? 7 : 0)).item.id);
      await tick();
    }
    const [a, b, c, hi] = ids as [string, string, string, string];
    const state = async () => (await store.queue()).map((i) => `${i.id}:${i.priority}`);
    expect(await state()).toEqual([`${hi}:7`, `${a}:0`, `${b}:0`, `${c}:0`]);

    // the current order: nothing changes
    await store.reorder([hi, a, b, c]);
    expect(await state()).toEqual([`${hi}:7`, `${a}:0`, `${b}:0`, `${c}:0`]);

    // among equal priorities only the order changes
    const shuffled = await store.reorder([hi, c, a, b]);
    expect(shuffled.queue.map((i) => `${i.id}:${i.priority}`)).toEqual([
      `${hi}:7`,
      `${c}:0`,
      `${a}:0`,
      `${b}:0`,
    ]);
    expect(shuffled.queue).toEqual(await store.queue());
    const [event] = shuffled.events;
    expect(event?.type === "queue_updated" && event.queue).toEqual(shuffled.queue);

    // moved above a higher-priority item, an item rises to that priority; the rest keep theirs
    await store.reorder([hi, a, c, b]);
    await store.reorder([a, hi, c, b]);
    expect(await state()).toEqual([`${a}:7`, `${hi}:7`, `${c}:0`, `${b}:0`]);

    const before = await state();
    for (const bad of [[a, b, c], [a, b, c, c], [a, b, c, hi, "x"], [a, b, c, "x"], []]) {
      await expect(store.reorder(bad)).rejects.toBeInstanceOf(ValidationError);
    }
    expect(await state()).toEqual(before);
  });

  it("reorderPriorities yields the wanted order under ORDER BY priority DESC, added_at", () => {
    const rows = [
      { id: "hi", priority: 7, addedAt: 100 },
      { id: "a", priority: 0, addedAt: 50 },
      { id: "b", priority: 0, addedAt: 300 },
      { id: "lo", priority: -2, addedAt: 10 },
    ];
    for (const wanted of [
      ["hi", "a", "b", "lo"],
      ["lo", "b", "a", "hi"],
      ["a", "lo", "hi", "b"],
    ]) {
      const out = reorderPriorities(rows, wanted);
      const sorted = [...out].sort((x, y) => y.priority - x.priority || x.addedAt - y.addedAt);
      expect(sorted.map((r) => r.id)).toEqual(wanted);
      // never outside the range the queue already had
      for (const r of out) {
        expect(r.priority).toBeGreaterThanOrEqual(-2);
        expect(r.priority).toBeLessThanOrEqual(7);
      }
    }
    const changed = (wanted: string[]) =>
      reorderPriorities(rows, wanted)
        .filter((r) => rows.find((x) => x.id === r.id)?.priority !== r.priority)
        .map((r) => [r.id, r.priority]);
    // the urgent item moved to the bottom: it alone drops (nothing else rises)
    expect(changed(["a", "b", "lo", "hi"])).toEqual([["hi", -2]]);
    // the lowest moved to the top: it alone rises
    expect(changed(["lo", "hi", "a", "b"])).toEqual([["lo", 7]]);
    // a move within one priority changes no priority at all
    expect(changed(["hi", "b", "a", "lo"])).toEqual([]);
    expect(() => reorderPriorities(rows, ["hi", "a", "b", "nope"])).toThrow(/unknown/);

    // any order of any queue holds under the sort, with at most n - 1 changes
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let round = 0; round < 200; round++) {
      const n = 1 + Math.floor(rand() * 12);
      const queue = Array.from({ length: n }, (_, i) => ({
        id: `q${i}`,
        priority: Math.floor(rand() * 5) - 2,
        addedAt: Math.floor(rand() * 1000),
      }));
      const wanted = queue.map((q) => q.id).sort(() => rand() - 0.5);
      const out = reorderPriorities(queue, wanted);
      const sorted = [...out].sort((x, y) => y.priority - x.priority || x.addedAt - y.addedAt);
      expect(sorted.map((r) => r.id)).toEqual(wanted);
      const moves = out.filter((r) => queue.find((q) => q.id === r.id)?.priority !== r.priority);
      expect(moves.length).toBeLessThanOrEqual(Math.max(0, n - 1));
    }
  });

  it("setWaitReasons stores `reason: detail` and the views split it", async () => {
    const { d, store } = await storeFixture();
    const { specs } = await seedSpecs(d, 4);
    const ids: string[] = [];
    for (const s of specs) {
      ids.push((await store.enqueue(s.spec.id, 0)).item.id);
      await tick();
    }
    const [a, b, c, e] = ids as [string, string, string, string];
    expect(await store.setWaitReasons([])).toEqual([]);

    const events = await store.setWaitReasons([
      { id: a, waitReason: "no_slot" },
      { id: b, waitReason: joinWaitReason("project_busy", "proj runs s0") },
      { id: c, waitReason: "memory: 1.5 GB free: below 2 GB" },
      { id: e, waitReason: "something_new: x" },
      { id: "gone", waitReason: "no_slot" },
    ]);
    expect(events.map((ev) => ev.type)).toEqual(["queue_updated"]);
    const split = (await store.queue()).map((i) => [i.waitReason, i.waitDetail]);
    expect(split).toEqual([
      ["no_slot", null],
      ["project_busy", "proj runs s0"],
      ["memory", "1.5 GB free: below 2 GB"],
      [null, "x"], // an unknown reason is not published as a reason
    ]);
    const [event] = events;
    expect(event?.type === "queue_updated" && event.queue.map((i) => i.waitReason)).toEqual(
      split.map(([r]) => r),
    );
    expect(joinWaitReason(null, "x")).toBeNull();
    expect(joinWaitReason("paused_queue", null)).toBe("paused_queue");

    await store.setWaitReasons([{ id: b, waitReason: null }]);
    expect((await store.queue())[1]).toMatchObject({ id: b, waitReason: null, waitDetail: null });
  });
});

describe("run store: settings", () => {
  it("saveSetting stores the value, settings() reads it and settings_updated carries the effect", async () => {
    const { d, store } = await storeFixture();
    expect(await store.settings()).toEqual({ queuePaused: false });
    expect(await store.queuePaused()).toBe(false);

    const [saved] = await store.saveSetting(
      "maxWorkers",
      { value: 4, configured: 2 },
      { maxWorkers: 4, queuePaused: false },
    );
    expect(saved).toMatchObject({
      type: "settings_updated",
      workerId: null,
      specId: null,
      key: "maxWorkers",
      value: { value: 4, configured: 2 },
      maxWorkers: 4,
      queuePaused: false,
      payload: { key: "maxWorkers", maxWorkers: 4, queuePaused: false },
    });
    const [paused] = await store.saveSetting("queuePaused", true, {
      maxWorkers: 4,
      queuePaused: true,
    });
    expect(paused).toMatchObject({ key: "queuePaused", value: true, queuePaused: true });
    expect(await store.settings()).toEqual({
      maxWorkers: { value: 4, configured: 2 },
      queuePaused: true,
    });
    expect(await store.queuePaused()).toBe(true);
    const [update] = await store.queueUpdated();
    expect(update).toMatchObject({ type: "queue_updated", queue: [], paused: true });

    await store.saveSetting(
      "maxWorkers",
      { value: 1, configured: 2 },
      {
        maxWorkers: 1,
        queuePaused: true,
      },
    );
    // a value of the wrong shape is not reported as a setting
    await d.repos.settings.set("queuePaused", "yes");
    expect(await store.settings()).toEqual({
      maxWorkers: { value: 1, configured: 2 },
      queuePaused: false,
    });
  });
});
