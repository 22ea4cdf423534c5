import { afterEach, describe, expect, it } from "vitest";
import { ValidationError } from "../src/errors.ts";
import { type TempDb, tempDb } from "./helpers.ts";

let t: TempDb | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
});

describe("events repository", () => {
  it("appends batches with increasing ids and reads them back", async () => {
    const d = await tempDb();
    t = d;
    const ev = d.repos.events;
    expect(await ev.append([])).toEqual([]);
    expect(await ev.lastId()).toBe(0);
    const rows = await ev.append([
      { workerId: "w1", type: "log", payload: { line: "a" }, at: 10 },
      { workerId: "w2", type: "worker_progress", payload: { current: 1 } },
      { workerId: "w1", type: "tool", specId: "s" },
    ]);
    expect(rows.map((r) => r.id)).toEqual([
      rows[0]?.id,
      (rows[0]?.id ?? 0) + 1,
      (rows[0]?.id ?? 0) + 2,
    ]);
    expect(rows[0]).toMatchObject({
      workerId: "w1",
      type: "log",
      payload: { line: "a" },
      at: 10,
      specId: null,
    });
    expect(rows[2]?.payload).toEqual({});

    const first = rows[0]?.id ?? 0;
    expect(await ev.after(0)).toEqual(rows);
    expect((await ev.after(first)).map((r) => r.type)).toEqual(["worker_progress", "tool"]);
    expect((await ev.after(0, { workerId: "w1" })).map((r) => r.type)).toEqual(["log", "tool"]);
    expect((await ev.after(0, { types: ["tool", "worker_progress"] })).map((r) => r.type)).toEqual([
      "worker_progress",
      "tool",
    ]);
    expect(await ev.after(0, { limit: 1 })).toHaveLength(1);
    expect(await ev.lastId()).toBe(rows[2]?.id);
  });

  it("concurrent appends share inserts but each caller gets exactly its own rows", async () => {
    const d = await tempDb();
    t = d;
    const calls = Array.from({ length: 300 }, (_, i) =>
      d.repos.events.append(
        Array.from({ length: (i % 3) + 1 }, (_, k) => ({
          workerId: `w${i}`,
          type: "log",
          payload: { i, k },
        })),
      ),
    );
    const results = await Promise.all(calls);
    results.forEach((rows, i) => {
      expect(rows).toHaveLength((i % 3) + 1);
      rows.forEach((r, k) => {
        expect(r.payload).toEqual({ i, k });
        expect(r.workerId).toBe(`w${i}`);
      });
    });
    const stored = await d.repos.events.after(0, { limit: 10_000 });
    expect(stored).toHaveLength(600);
    for (const rows of results)
      for (const r of rows) expect(stored.find((s) => s.id === r.id)?.payload).toEqual(r.payload);
  });

  it("a bad append in a shared insert fails alone", async () => {
    const d = await tempDb();
    t = d;
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const good1 = d.repos.events.append([{ type: "log", payload: { n: 1 } }]);
    const bad = d.repos.events.append([{ type: "log", payload: cyclic }]);
    const good2 = d.repos.events.append([{ type: "log", payload: { n: 2 } }]);
    await expect(good1).resolves.toHaveLength(1);
    await expect(bad).rejects.toBeInstanceOf(Error);
    await expect(good2).resolves.toHaveLength(1);
    expect((await d.repos.events.after(0)).map((r) => r.payload)).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it("tail returns the newest events of a worker, oldest first", async () => {
    const d = await tempDb();
    t = d;
    await d.repos.events.append(
      Array.from({ length: 10 }, (_, i) => ({
        workerId: i % 2 ? "odd" : "even",
        type: i === 9 ? "worker_progress" : "log",
        payload: { i },
      })),
    );
    expect((await d.repos.events.tail("odd", 3)).map((r) => r.payload.i)).toEqual([5, 7, 9]);
    expect(
      (await d.repos.events.tail("odd", 3, { types: ["log"] })).map((r) => r.payload.i),
    ).toEqual([3, 5, 7]);
    expect(await d.repos.events.tail("none", 3)).toEqual([]);
  });

  it("trims by age and by count, and never reuses ids", async () => {
    const d = await tempDb();
    t = d;
    const ev = d.repos.events;
    await ev.append(
      Array.from({ length: 10 }, (_, i) => ({ type: "log", at: 1000 + i, payload: { i } })),
    );
    await expect(ev.trim({})).rejects.toBeInstanceOf(ValidationError);
    expect(await ev.trim({ olderThanMs: 5, now: 1008 })).toBe(3); // at < 1003
    expect(await ev.trim({ olderThanMs: 0, keepLast: 5, now: 5000 })).toBe(2); // keep the newest 5
    expect(await ev.trim({ keepLast: 2 })).toBe(3);
    expect(await ev.trim({ keepLast: 2 })).toBe(0);
    const left = await ev.after(0);
    expect(left.map((r) => r.payload.i)).toEqual([8, 9]);
    const [next] = await ev.append([{ type: "log" }]);
    expect(next?.id).toBeGreaterThan(left[1]?.id ?? 0);
    await ev.trim({ keepLast: 0 });
    const [after] = await ev.append([{ type: "log" }]);
    expect(after?.id).toBeGreaterThan(next?.id ?? 0);
  });
});
