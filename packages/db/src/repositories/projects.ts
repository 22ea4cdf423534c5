import { asc, eq } from "drizzle-orm";
import { NotFoundError } from "../errors.ts";
import { type Project, projects } from "../schema.ts";
import { type DatabaseHandle, definedOnly, isEmpty, newId } from "./shared.ts";

export interface ProjectInput {
  name: string;
  directory: string;
  description?: string | null;
  config?: Record<string, unknown>;
}

export type ProjectPatch = Partial<ProjectInput>;

export function createProjectsRepository(database: DatabaseHandle) {
  const { db, write } = database;

  async function list(): Promise<Project[]> {
    return db.select().from(projects).orderBy(asc(projects.createdAt), asc(projects.id));
  }

  async function get(id: string): Promise<Project | null> {
    const [row] = await db.select().from(projects).where(eq(projects.id, id)).limit(1);
    return row ?? null;
  }

  async function create(input: ProjectInput): Promise<Project> {
    const now = Date.now();
    const row: Project = {
      id: newId(),
      name: input.name,
      directory: input.directory,
      description: input.description ?? null,
      config: input.config ?? {},
      createdAt: now,
      updatedAt: now,
    };
    await write((tx) => tx.insert(projects).values(row));
    return row;
  }

  async function update(id: string, patch: ProjectPatch): Promise<Project> {
    const set = definedOnly(patch);
    return write(async (tx) => {
      const [row] = await tx
        .update(projects)
        .set(isEmpty(set) ? { updatedAt: Date.now() } : { ...set, updatedAt: Date.now() })
        .where(eq(projects.id, id))
        .returning();
      if (!row) throw new NotFoundError("project", id);
      return row;
    });
  }

  /** Deletes the project; its specs, chunks, workers and queue items go with it (cascade). */
  async function remove(id: string): Promise<void> {
    await write(async (tx) => {
      const gone = await tx
        .delete(projects)
        .where(eq(projects.id, id))
        .returning({ id: projects.id });
      if (gone.length === 0) throw new NotFoundError("project", id);
    });
  }

  return { list, get, create, update, remove };
}

export type ProjectsRepository = ReturnType<typeof createProjectsRepository>;
