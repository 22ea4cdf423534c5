import { existsSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { afterEach, describe, expect, it } from "vitest";
import { ClosedError } from "../src/errors.ts";
import { type TempDb, tempDb } from "./helpers.ts";

let t: TempDb | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
});

async function names(t: TempDb, type: "table" | "index"): Promise<string[]> {
  const rs = await t.database.client.execute({
    sql: "SELECT name FROM sqlite_master WHERE type = ? AND name NOT LIKE 'sqlite_%' ORDER BY name",
    args: [type],
  });
  return rs.rows.map((r) => String(r.name));
}

describe("openDatabase", () => {
  it("creates the parent directory and applies the migrations to a fresh file", async () => {
    t = await tempDb();
    expect(existsSync(join(t.dir, "nested", "app.db"))).toBe(true);
    expect(await names(t, "table")).toEqual([
      "__drizzle_migrations",
      "chunks",
      "projects",
      "settings",
      "specs",
      "worker_events",
      "worker_queue",
      "workers",
    ]);
    expect(await names(t, "index")).toEqual(
      expect.arrayContaining([
        "idx_queue_priority",
        "idx_workers_status",
        "uq_queue_spec",
        "idx_events_worker",
      ]),
    );
    const idx = await t.database.client.execute(
      "SELECT sql FROM sqlite_master WHERE name = 'idx_queue_priority'",
    );
    expect(String(idx.rows[0]?.sql)).toMatch(/"priority" DESC,\s*"added_at" ASC/);
    const mode = await t.database.client.execute("PRAGMA journal_mode");
    expect(mode.rows[0]?.journal_mode).toBe("wal");
  });

  it("re-opening an migrated file is idempotent and keeps the data", async () => {
    t = await tempDb();
    const project = await t.repos.projects.create({ name: "keep", directory: "/tmp/keep" });
    await t.reopen();
    await t.reopen();
    const applied = await t.database.client.execute(
      "SELECT count(*) AS n FROM __drizzle_migrations",
    );
    expect(Number(applied.rows[0]?.n)).toBe(1);
    expect(await t.repos.projects.get(project.id)).toEqual(project);
  });

  it("migrate: false leaves an empty file alone", async () => {
    t = await tempDb({ migrate: false });
    expect(await names(t, "table")).toEqual([]);
  });

  it("close is idempotent and later writes are refused", async () => {
    t = await tempDb();
    const db = t.database;
    const pending = t.repos.settings.set("a", 1);
    const first = db.close();
    const second = db.close();
    expect(first).toBe(second);
    await first;
    await pending; // queued before close: committed, not dropped
    expect(db.closed).toBe(true);
    await expect(db.write(async () => 1)).rejects.toBeInstanceOf(ClosedError);
    const raw = createClient({ url: t.url });
    const rs = await raw.execute("SELECT value FROM settings WHERE key = 'a'");
    raw.close();
    expect(rs.rows[0]?.value).toBe("1");
    await t.reopen();
  });
});
