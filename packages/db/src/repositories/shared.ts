import { randomUUID } from "node:crypto";
import type { ResultSet } from "@libsql/client";
import type { ExtractTablesWithRelations } from "drizzle-orm";
import type { BaseSQLiteDatabase } from "drizzle-orm/sqlite-core";
import type { Database } from "../client.ts";
import type { Schema } from "../writer.ts";

/** The read instance or a write transaction: anything drizzle can query through. */
export type Queryable = BaseSQLiteDatabase<
  "async",
  ResultSet,
  Schema,
  ExtractTablesWithRelations<Schema>
>;

/** What every repository needs from `openDatabase`. */
export type DatabaseHandle = Pick<Database, "db" | "write">;

export function newId(): string {
  return randomUUID();
}

/** Drops keys whose value is `undefined`, so a patch never overwrites with "missing". */
export function definedOnly<T extends object>(patch: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [key, value] of Object.entries(patch)) {
    if (value !== undefined) (out as Record<string, unknown>)[key] = value;
  }
  return out;
}

export function isEmpty(value: object): boolean {
  return Object.keys(value).length === 0;
}

/** True when `ids` holds exactly the members of `expected`, each once. */
export function isPermutation(ids: readonly string[], expected: readonly string[]): boolean {
  if (ids.length !== expected.length) return false;
  const want = new Set(expected);
  const seen = new Set<string>();
  for (const id of ids) {
    if (!want.has(id) || seen.has(id)) return false;
    seen.add(id);
  }
  return true;
}
