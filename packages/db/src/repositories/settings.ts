import { asc, eq } from "drizzle-orm";
import { settings } from "../schema.ts";
import type { WriteTx } from "../writer.ts";
import type { DatabaseHandle } from "./shared.ts";

/** Inserts or replaces a setting inside an existing transaction. */
export async function upsertSetting(tx: WriteTx, key: string, value: unknown): Promise<void> {
  const updatedAt = Date.now();
  await tx
    .insert(settings)
    .values({ key, value, updatedAt })
    .onConflictDoUpdate({ target: settings.key, set: { value, updatedAt } });
}

export function createSettingsRepository(database: DatabaseHandle) {
  const { db, write } = database;

  /** The stored value, or undefined when the key was never set. */
  async function get(key: string): Promise<unknown> {
    const [row] = await db
      .select({ value: settings.value })
      .from(settings)
      .where(eq(settings.key, key))
      .limit(1);
    return row?.value;
  }

  /** Inserts or replaces the value (any JSON-serialisable value). */
  async function set(key: string, value: unknown): Promise<void> {
    await write((tx) => upsertSetting(tx, key, value));
  }

  /** Every setting as a plain object. */
  async function all(): Promise<Record<string, unknown>> {
    const rows = await db.select().from(settings).orderBy(asc(settings.key));
    return Object.fromEntries(rows.map((r) => [r.key, r.value]));
  }

  /** True when the key existed. */
  async function remove(key: string): Promise<boolean> {
    const rows = await write((tx) =>
      tx.delete(settings).where(eq(settings.key, key)).returning({ key: settings.key }),
    );
    return rows.length > 0;
  }

  return { get, set, all, remove };
}

export type SettingsRepository = ReturnType<typeof createSettingsRepository>;
