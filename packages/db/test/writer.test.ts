import { createClient } from "@libsql/client";
import { count, eq, sql } from "drizzle-orm";
import type { BaseSQLiteDatabase } from "drizzle-orm/sqlite-core";
import { afterEach, describe, expect, it } from "vitest";
import { isBusyError, isForeignKeyViolation, type Schema } from "../src/client.ts";
import { insertEvents } from "../src/repositories/index.ts";
import { projects, specs, workerEvents } from "../src/schema.ts";
import { createRunStore } from "../src/store/index.ts";
import { type TempDb, tempDb } from "./helpers.ts";

let t: TempDb | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
});

async function eventCount(t: TempDb): Promise<number> {
  const [row] = await t.database.db.select({ n: count() }).from(workerEvents);
  return row?.n ?? 0;
}

describe("group-committing writer", () => {
  it("commits thousands of concurrent writes in few transactions, durably", async () => {
    const d = await tempDb();
    t = d;
    const before = { ...d.database.stats };
    const direct = Array.from({ length: 2000 }, (_, i) =>
      d.database.write((tx) =>
        insertEvents(tx, [{ workerId: `w${i % 7}`, type: "log", payload: { i } }]),
      ),
    );
    const appends = Array.from({ length: 2000 }, (_, i) =>
      d.repos.events.append([{ workerId: "a", type: "log", payload: { i } }]),
    );
    const singles = Array.from({ length: 100 }, (_, i) => d.repos.settings.set(`k${i}`, i));
    const results = [...(await Promise.all(direct)), ...(await Promise.all(appends))];
    await Promise.all(singles);
    const ids = results.map((r) => r[0]?.id ?? -1);
    expect(new Set(ids).size).toBe(4000);
    expect(Math.min(...ids)).toBeGreaterThan(0);
    const stats = d.database.stats;
    expect(stats.writes - before.writes).toBeGreaterThanOrEqual(2100);
    // group commit: far fewer transactions than writes
    expect(stats.batches - before.batches).toBeLessThan(2100 / 10);
    expect(stats.maxBatch).toBeGreaterThan(100);

    await d.reopen();
    expect(await eventCount(d)).toBe(4000);
    expect(Object.keys(await d.repos.settings.all())).toHaveLength(100);
  });

  it("a failing write in a batch rejects alone and leaves nothing half-written", async () => {
    t = await tempDb();
    const batchesBefore = t.database.stats.batches;
    const now = Date.now();
    const row = (id: string) => ({ id, name: id, directory: "/d", createdAt: now, updatedAt: now });
    const ok1 = t.database.write(async (tx) => {
      await tx.insert(projects).values(row("ok1"));
      return "one";
    });
    const half = t.database.write(async (tx) => {
      await tx.insert(projects).values(row("half"));
      throw new Error("boom after a write");
    });
    const fk = t.database.write((tx) =>
      tx
        .insert(specs)
        .values({ id: "s", projectId: "missing", title: "x", createdAt: now, updatedAt: now }),
    );
    const thrownString = t.database.write(async () => {
      throw "plain string";
    });
    const ok2 = t.database.write(async (tx) => {
      await tx.insert(projects).values(row("ok2"));
      return "two";
    });
    await expect(ok1).resolves.toBe("one");
    await expect(half).rejects.toThrow("boom after a write");
    await expect(fk).rejects.toSatisfy(isForeignKeyViolation);
    await expect(thrownString).rejects.toBeInstanceOf(Error);
    await expect(ok2).resolves.toBe("two");
    expect(t.database.stats.batches - batchesBefore).toBe(1);

    await t.reopen();
    const ids = (await t.database.db.select({ id: projects.id }).from(projects))
      .map((r) => r.id)
      .sort();
    expect(ids).toEqual(["ok1", "ok2"]);
  });

  it("a write that breaks the batch transaction is isolated: the others are re-run alone", async () => {
    const d = await tempDb();
    t = d;
    const now = Date.now();
    const good = Array.from({ length: 5 }, (_, i) =>
      d.database.write((tx) =>
        tx
          .insert(projects)
          .values({ id: `g${i}`, name: "g", directory: "/d", createdAt: now, updatedAt: now }),
      ),
    );
    const rogue = t.database.write(async (tx) => {
      await tx
        .insert(projects)
        .values({ id: "rogue", name: "r", directory: "/d", createdAt: now, updatedAt: now });
      await tx.run(sql`ROLLBACK`);
    });
    await Promise.all(good);
    await expect(rogue).rejects.toBeInstanceOf(Error);
    expect(t.database.stats.splits).toBeGreaterThan(0);
    await t.reopen();
    const ids = (await t.database.db.select({ id: projects.id }).from(projects))
      .map((r) => r.id)
      .sort();
    expect(ids).toEqual(["g0", "g1", "g2", "g3", "g4"]);
  });

  it("enforces foreign keys: deleting a project cascades to specs, chunks, queue and workers", async () => {
    const d = await tempDb();
    t = d;
    const store = createRunStore({ ...d.database, executorLabel: (k) => `label ${k}` });
    const project = await d.repos.projects.create({ name: "p", directory: "/p" });
    const spec = async (title: string) =>
      (await d.repos.specs.create({ projectId: project.id, title, chunks: [{ title: "a" }] })).spec;
    const queued = await spec("queued");
    const running = await spec("running");
    await store.enqueue(queued.id, 0);
    const { item } = await store.enqueue(running.id, 0);
    await store.claim(item.id, { executor: "simulated", leaseOwner: "me", leaseExpiresAt: 1 });
    expect(await store.queue()).toHaveLength(1);
    expect(await store.activeWorkers()).toHaveLength(1);

    await d.repos.projects.remove(project.id);
    for (const s of [queued, running]) {
      expect(await d.repos.specs.get(s.id)).toBeNull();
      expect(await d.repos.chunks.listBySpec(s.id)).toEqual([]);
    }
    expect(await store.queue()).toEqual([]);
    expect(await store.workers()).toEqual([]);
  });

  it("retries after SQLITE_BUSY with a fresh connection and the writes really commit", async () => {
    const d = await tempDb({ busyTimeoutMs: 30, retryBaseMs: 20, maxRetries: 6 });
    t = d;
    await t.repos.settings.set("warm", true);
    const other = createClient({ url: t.url, timeout: 10 });
    const lock = await other.transaction("write"); // holds the write lock
    const during = t.repos.settings.set("during", 1);
    await new Promise((r) => setTimeout(r, 150));
    await lock.commit();
    await during;
    other.close();
    expect(t.database.stats.busyRetries).toBeGreaterThan(0);
    const after = await Promise.all(
      Array.from({ length: 20 }, (_, i) => d.repos.settings.set(`after${i}`, i)),
    );
    expect(after).toHaveLength(20);
    await t.reopen({ busyTimeoutMs: 5000 });
    const all = await t.repos.settings.all();
    expect(all.during).toBe(1);
    for (let i = 0; i < 20; i++) expect(all[`after${i}`]).toBe(i);
    // foreign keys still enforced after the reconnect
    await expect(t.repos.specs.create({ projectId: "nope", title: "x" })).rejects.toThrow(
      /not found/,
    );
  });

  it("gives up after maxRetries with a busy error, then recovers", async () => {
    t = await tempDb({ busyTimeoutMs: 10, retryBaseMs: 5, maxRetries: 1 });
    const other = createClient({ url: t.url, timeout: 10 });
    const lock = await other.transaction("write");
    const err = await t.repos.settings.set("x", 1).catch((e: unknown) => e);
    expect(isBusyError(err)).toBe(true);
    await lock.rollback();
    other.close();
    await t.repos.settings.set("x", 2);
    await t.reopen();
    expect(await t.repos.settings.get("x")).toBe(2);
  });

  it("refuses a nested write instead of deadlocking", async () => {
    t = await tempDb();
    const db = t.database;
    await expect(db.write(() => db.write(async () => 1))).rejects.toThrow(
      /inside a write callback/,
    );
  });

  it("hands the callback a transaction usable where a generic drizzle db is expected", async () => {
    t = await tempDb();
    type GenericDb = BaseSQLiteDatabase<"async", unknown, Schema>;
    const write: <T>(fn: (tx: GenericDb) => Promise<T>) => Promise<T> = t.database.write;
    const reader: GenericDb = t.database.db;
    expect(await reader.select().from(projects)).toEqual([]);
    const n = await write(async (tx) => {
      const [row] = await tx.select({ n: count() }).from(projects).where(eq(projects.id, "none"));
      return row?.n ?? -1;
    });
    expect(n).toBe(0);
  });
});
