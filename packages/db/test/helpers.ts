import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Database, type OpenDatabaseOptions, openDatabase } from "../src/client.ts";
import { createRepositories, type Repositories } from "../src/repositories/index.ts";

export interface TempDb {
  dir: string;
  url: string;
  database: Database;
  repos: Repositories;
  /** Closes the current handle and opens the same file again. */
  reopen(options?: Partial<OpenDatabaseOptions>): Promise<void>;
  cleanup(): Promise<void>;
}

export async function tempDb(options: Partial<OpenDatabaseOptions> = {}): Promise<TempDb> {
  const dir = mkdtempSync(join(tmpdir(), "glm-db-test-"));
  const url = `file:${join(dir, "nested", "app.db")}`;
  const database = await openDatabase({ url, ...options });
  const t: TempDb = {
    dir,
    url,
    database,
    repos: createRepositories(database),
    async reopen(more = {}) {
      await t.database.close();
      t.database = await openDatabase({ url, ...options, ...more });
      t.repos = createRepositories(t.database);
    },
    async cleanup() {
      await t.database.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return t;
}

/** A project with one spec of `n` chunks. */
export async function seedSpec(repos: Repositories, n = 3) {
  const project = await repos.projects.create({ name: "p", directory: "/tmp/p" });
  const { spec, chunks } = await repos.specs.create({
    projectId: project.id,
    title: "s",
    chunks: Array.from({ length: n }, (_, i) => ({ title: `c${i}` })),
  });
  return { project, spec, chunks };
}
