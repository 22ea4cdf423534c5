import { and, asc, eq, gt, inArray, max, ne, sql } from "drizzle-orm";
import { ConflictError, NotFoundError, ValidationError } from "../errors.ts";
import type { ChunkPatch } from "../events.ts";
import { type Chunk, chunks, type Spec, specs } from "../schema.ts";
import { isUniqueViolation } from "../sqlite-errors.ts";
import type { WriteTx } from "../writer.ts";
import { type ChunkInput, chunkRow } from "./chunk-rows.ts";
import {
  type DatabaseHandle,
  definedOnly,
  isEmpty,
  isPermutation,
  type Queryable,
} from "./shared.ts";

export type { ChunkInput } from "./chunk-rows.ts";

/** What the user may change on a chunk. */
export type ChunkUpdate = Partial<Pick<Chunk, "title" | "description" | "dependencies">>;

/** A partial update from the run engine, addressed by chunk id (the event protocol's shape). */
export type { ChunkPatch } from "../events.ts";

async function specOf(q: Queryable, specId: string): Promise<Spec> {
  const [spec] = await q.select().from(specs).where(eq(specs.id, specId)).limit(1);
  if (!spec) throw new NotFoundError("spec", specId);
  return spec;
}

/** The spec must exist and must not be running (chunks are edited only while it is idle). */
async function editableSpec(tx: WriteTx, specId: string): Promise<Spec> {
  const spec = await specOf(tx, specId);
  if (spec.status === "running")
    throw new ConflictError(`spec ${specId} is running; its chunks cannot be edited now`);
  return spec;
}

async function chunkOf(q: Queryable, id: string): Promise<Chunk> {
  const [row] = await q.select().from(chunks).where(eq(chunks.id, id)).limit(1);
  if (!row) throw new NotFoundError("chunk", id);
  return row;
}

/** Every dependency must be another chunk of the same spec. */
async function checkDependencies(
  tx: WriteTx,
  specId: string,
  deps: readonly string[],
  self?: string,
) {
  if (deps.length === 0) return;
  if (self !== undefined && deps.includes(self))
    throw new ValidationError("a chunk cannot depend on itself");
  const found = await tx
    .select({ id: chunks.id })
    .from(chunks)
    .where(and(eq(chunks.specId, specId), inArray(chunks.id, [...deps])));
  if (found.length !== new Set(deps).size) {
    const known = new Set(found.map((r) => r.id));
    const missing = deps.filter((d) => !known.has(d));
    throw new ValidationError(`unknown dependencies: ${missing.join(", ")}`);
  }
}

/** Inserts complete chunk rows; a taken id becomes a ConflictError. */
export async function insertChunkRows(tx: WriteTx, rows: Chunk[]): Promise<void> {
  if (rows.length === 0) return;
  try {
    await tx.insert(chunks).values(rows);
  } catch (err) {
    if (isUniqueViolation(err))
      throw new ConflictError("a chunk with this id already exists", { cause: err });
    throw err;
  }
}

/**
 * Applies an engine patch inside an existing transaction (only to a chunk of `specId` when given);
 * null when there is no such chunk.
 */
export async function applyChunkPatch(
  tx: WriteTx,
  patch: ChunkPatch,
  specId?: string,
): Promise<Chunk | null> {
  const { id, ...fields } = patch;
  const set = definedOnly(fields);
  const where =
    specId === undefined ? eq(chunks.id, id) : and(eq(chunks.id, id), eq(chunks.specId, specId));
  if (isEmpty(set)) {
    const [row] = await tx.select().from(chunks).where(where).limit(1);
    return row ?? null;
  }
  const [row] = await tx.update(chunks).set(set).where(where).returning();
  return row ?? null;
}

/**
 * Inserts a chunk right after `afterId` inside an existing transaction, shifting the later ones.
 * With `specId`, `afterId` must be a chunk of that spec. NotFoundError when there is no such chunk.
 */
export async function insertChunkAfter(
  tx: WriteTx,
  afterId: string,
  input: ChunkInput,
  specId?: string,
): Promise<Chunk> {
  const after = await chunkOf(tx, afterId);
  if (specId !== undefined && after.specId !== specId) throw new NotFoundError("chunk", afterId);
  await tx
    .update(chunks)
    .set({ order: sql`${chunks.order} + 1` })
    .where(and(eq(chunks.specId, after.specId), gt(chunks.order, after.order)));
  const row = chunkRow(after.specId, after.order + 1, input);
  await insertChunkRows(tx, [row]);
  return row;
}

/** Chunks left `running` by a run that is gone go back to `pending`; returns how many. */
export async function resetRunningChunks(tx: WriteTx, specId: string): Promise<number> {
  const rows = await tx
    .update(chunks)
    .set({ status: "pending", startedAt: null })
    .where(and(eq(chunks.specId, specId), eq(chunks.status, "running")))
    .returning({ id: chunks.id });
  return rows.length;
}

export function createChunksRepository(database: DatabaseHandle) {
  const { db, write } = database;

  async function listBySpec(specId: string): Promise<Chunk[]> {
    return db
      .select()
      .from(chunks)
      .where(eq(chunks.specId, specId))
      .orderBy(asc(chunks.order), asc(chunks.id));
  }

  async function get(id: string): Promise<Chunk | null> {
    const [row] = await db.select().from(chunks).where(eq(chunks.id, id)).limit(1);
    return row ?? null;
  }

  /** Appends a chunk at the end of the spec (order = max + 1). */
  async function create(specId: string, input: ChunkInput): Promise<Chunk> {
    return write(async (tx) => {
      await editableSpec(tx, specId);
      const row0 = chunkRow(specId, 0, input);
      await checkDependencies(tx, specId, row0.dependencies);
      const [last] = await tx
        .select({ order: max(chunks.order) })
        .from(chunks)
        .where(eq(chunks.specId, specId));
      const row: Chunk = { ...row0, order: last?.order == null ? 0 : last.order + 1 };
      await insertChunkRows(tx, [row]);
      return row;
    });
  }

  async function update(id: string, patch: ChunkUpdate): Promise<Chunk> {
    const set = definedOnly(patch);
    return write(async (tx) => {
      const current = await chunkOf(tx, id);
      await editableSpec(tx, current.specId);
      if (set.dependencies) {
        set.dependencies = [...new Set(set.dependencies)];
        await checkDependencies(tx, current.specId, set.dependencies, id);
      }
      if (isEmpty(set)) return current;
      const [row] = await tx.update(chunks).set(set).where(eq(chunks.id, id)).returning();
      if (!row) throw new NotFoundError("chunk", id);
      return row;
    });
  }

  /** Deletes a chunk, closes the gap in `order` and drops it from the other chunks' dependencies. */
  async function remove(id: string): Promise<void> {
    await write(async (tx) => {
      const current = await chunkOf(tx, id);
      await editableSpec(tx, current.specId);
      await tx.delete(chunks).where(eq(chunks.id, id));
      await tx
        .update(chunks)
        .set({ order: sql`${chunks.order} - 1` })
        .where(and(eq(chunks.specId, current.specId), gt(chunks.order, current.order)));
      const siblings = await tx
        .select({ id: chunks.id, dependencies: chunks.dependencies })
        .from(chunks)
        .where(and(eq(chunks.specId, current.specId), ne(chunks.id, id)));
      for (const s of siblings) {
        if (!s.dependencies.includes(id)) continue;
        await tx
          .update(chunks)
          .set({ dependencies: s.dependencies.filter((d) => d !== id) })
          .where(eq(chunks.id, s.id));
      }
    });
  }

  /** Sets the order of every chunk of the spec; `chunkIds` must be exactly the spec's chunk ids. */
  async function reorder(specId: string, chunkIds: readonly string[]): Promise<Chunk[]> {
    return write(async (tx) => {
      await editableSpec(tx, specId);
      const current = await tx
        .select({ id: chunks.id })
        .from(chunks)
        .where(eq(chunks.specId, specId));
      if (
        !isPermutation(
          chunkIds,
          current.map((c) => c.id),
        )
      ) {
        throw new ValidationError("reorder must list every chunk of the spec exactly once");
      }
      for (const [order, id] of chunkIds.entries()) {
        await tx.update(chunks).set({ order }).where(eq(chunks.id, id));
      }
      return tx.select().from(chunks).where(eq(chunks.specId, specId)).orderBy(asc(chunks.order));
    });
  }

  /** Inserts a chunk right after `chunkId` (used for fix chunks), shifting the following ones. */
  async function insertAfter(chunkId: string, input: ChunkInput): Promise<Chunk> {
    return write((tx) => insertChunkAfter(tx, chunkId, input));
  }

  /** Partial update by id from the run engine (allowed while the spec runs). */
  async function applyPatch(patch: ChunkPatch): Promise<Chunk> {
    return write(async (tx) => {
      const row = await applyChunkPatch(tx, patch);
      if (!row) throw new NotFoundError("chunk", patch.id);
      return row;
    });
  }

  async function resetRunning(specId: string): Promise<number> {
    return write((tx) => resetRunningChunks(tx, specId));
  }

  return {
    listBySpec,
    get,
    create,
    update,
    remove,
    reorder,
    insertAfter,
    applyPatch,
    resetRunning,
  };
}

export type ChunksRepository = ReturnType<typeof createChunksRepository>;
