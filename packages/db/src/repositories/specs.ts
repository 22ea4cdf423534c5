import { asc, eq } from "drizzle-orm";
import { NotFoundError, ValidationError } from "../errors.ts";
import { type Chunk, chunks, projects, type Spec, type SpecStatus, specs } from "../schema.ts";
import { type ChunkInput, chunkRow } from "./chunk-rows.ts";
import { insertChunkRows } from "./chunks.ts";
import { type DatabaseHandle, definedOnly, isEmpty, newId } from "./shared.ts";

export interface SpecInput {
  projectId: string;
  title: string;
  content?: string;
  status?: SpecStatus;
  branch?: string | null;
  /** The model its runs use (`provider/model`); null/absent: the server's default. */
  model?: string | null;
  /** Created in this order (order 0, 1, …); dependencies may name earlier chunks of this list by id. */
  chunks?: ChunkInput[];
}

/** `model: null` clears the spec's model (back to the server's default). */
export type SpecPatch = Partial<Pick<Spec, "title" | "content" | "status" | "branch" | "model">>;

export interface SpecWithChunks {
  spec: Spec;
  chunks: Chunk[];
}

export function createSpecsRepository(database: DatabaseHandle) {
  const { db, write } = database;

  async function listByProject(projectId: string): Promise<Spec[]> {
    return db
      .select()
      .from(specs)
      .where(eq(specs.projectId, projectId))
      .orderBy(asc(specs.createdAt), asc(specs.id));
  }

  async function get(id: string): Promise<Spec | null> {
    const [row] = await db.select().from(specs).where(eq(specs.id, id)).limit(1);
    return row ?? null;
  }

  /** The spec and its chunks (ordered by `order`), read in one snapshot. */
  async function getWithChunks(id: string): Promise<SpecWithChunks | null> {
    const [specRows, chunkRows] = await db.batch([
      db.select().from(specs).where(eq(specs.id, id)).limit(1),
      db
        .select()
        .from(chunks)
        .where(eq(chunks.specId, id))
        .orderBy(asc(chunks.order), asc(chunks.id)),
    ]);
    const spec = specRows[0];
    return spec ? { spec, chunks: chunkRows } : null;
  }

  /** Creates the spec and its chunks in one transaction. */
  async function create(input: SpecInput): Promise<SpecWithChunks> {
    const now = Date.now();
    const spec: Spec = {
      id: newId(),
      projectId: input.projectId,
      title: input.title,
      content: input.content ?? "",
      status: input.status ?? "draft",
      branch: input.branch ?? null,
      model: input.model ?? null,
      createdAt: now,
      updatedAt: now,
    };
    const rows: Chunk[] = [];
    const earlier = new Set<string>();
    for (const [order, chunk] of (input.chunks ?? []).entries()) {
      const row = chunkRow(spec.id, order, chunk);
      if (earlier.has(row.id)) throw new ValidationError(`duplicate chunk id ${row.id}`);
      for (const dep of row.dependencies) {
        if (!earlier.has(dep))
          throw new ValidationError(
            `chunk "${row.title}" depends on ${dep}, which is not an earlier chunk`,
          );
      }
      earlier.add(row.id);
      rows.push(row);
    }
    await write(async (tx) => {
      const [project] = await tx
        .select({ id: projects.id })
        .from(projects)
        .where(eq(projects.id, input.projectId))
        .limit(1);
      if (!project) throw new NotFoundError("project", input.projectId);
      await tx.insert(specs).values(spec);
      await insertChunkRows(tx, rows);
    });
    return { spec, chunks: rows };
  }

  async function update(id: string, patch: SpecPatch): Promise<Spec> {
    const set = definedOnly(patch);
    return write(async (tx) => {
      const [row] = await tx
        .update(specs)
        .set(isEmpty(set) ? { updatedAt: Date.now() } : { ...set, updatedAt: Date.now() })
        .where(eq(specs.id, id))
        .returning();
      if (!row) throw new NotFoundError("spec", id);
      return row;
    });
  }

  async function setStatus(id: string, status: SpecStatus): Promise<Spec> {
    return update(id, { status });
  }

  /** Deletes the spec with its chunks, workers and queue item (cascade). */
  async function remove(id: string): Promise<void> {
    await write(async (tx) => {
      const gone = await tx.delete(specs).where(eq(specs.id, id)).returning({ id: specs.id });
      if (gone.length === 0) throw new NotFoundError("spec", id);
    });
  }

  return { listByProject, get, getWithChunks, create, update, setStatus, remove };
}

export type SpecsRepository = ReturnType<typeof createSpecsRepository>;
