import { cpSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import { afterEach, describe, expect, it } from "vitest";
import { MIGRATIONS_FOLDER } from "../src/client.ts";
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
      "chunk_usage",
      "chunks",
      "projects",
      "run_usage",
      "settings",
      "specs",
      "usage_requests",
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
    const journal = JSON.parse(
      readFileSync(join(MIGRATIONS_FOLDER, "meta", "_journal.json"), "utf8"),
    );
    expect(Number(applied.rows[0]?.n)).toBe(journal.entries.length);
    expect(await t.repos.projects.get(project.id)).toEqual(project);
  });

  it("a database made by the first migration upgrades in place and keeps its rows", async () => {
    t = await tempDb({ migrate: false });
    // only 0000_init: a copy of the migrations folder whose journal ends there
    const old = join(t.dir, "migrations-0000");
    cpSync(MIGRATIONS_FOLDER, old, { recursive: true });
    const journalPath = join(old, "meta", "_journal.json");
    const journal = JSON.parse(readFileSync(journalPath, "utf8"));
    journal.entries = journal.entries.slice(0, 1);
    writeFileSync(journalPath, JSON.stringify(journal));
    const raw = createClient({ url: t.url });
    await migrate(drizzle(raw), { migrationsFolder: old });
    await raw.executeMultiple(`
      INSERT INTO projects (id, name, directory, created_at, updated_at) VALUES ('p', 'p', '/p', 1, 1);
      INSERT INTO specs (id, project_id, title, created_at, updated_at) VALUES ('s', 'p', 'old spec', 1, 1);
      INSERT INTO workers (id, spec_id, project_id, status, created_at, updated_at)
        VALUES ('w', 's', 'p', 'completed', 1, 1);
      INSERT INTO worker_queue (id, spec_id, project_id, priority, added_at) VALUES ('q', 's', 'p', 3, 1);
    `);
    const before = await raw.execute("PRAGMA table_info(specs)");
    expect(before.rows.map((r) => r.name)).not.toContain("model");
    raw.close();

    await t.reopen({ migrate: true });
    const spec = await t.repos.specs.get("s");
    expect(spec).toMatchObject({ title: "old spec", model: null });
    const columns = async (table: string) =>
      (await t?.database.client.execute(`PRAGMA table_info(${table})`))?.rows.map((r) =>
        String(r.name),
      );
    expect(await columns("workers")).toEqual(expect.arrayContaining(["model", "step_detail"]));
    expect(await columns("worker_queue")).toContain("model");
    const rows = await t.database.client.execute(
      "SELECT w.model AS wm, w.step_detail AS sd, q.model AS qm, q.priority AS p FROM workers w, worker_queue q",
    );
    expect(rows.rows[0]).toMatchObject({ wm: null, sd: null, qm: null, p: 3 });
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
