import { randomUUID } from "node:crypto";
import type {
  CreateChunkInput,
  CreateProjectInput,
  CreateSpecInput,
  UpdateChunkInput,
  UpdateProjectInput,
  UpdateSpecInput,
} from "@glm-workers/core/schemas";
import { ConflictError, NotFoundError } from "@glm-workers/db/errors";
import type { ChunkInput, Repositories } from "@glm-workers/db/repositories";
import type { Chunk, Project, Spec } from "@glm-workers/db/schema";
import { checkProjectDirectory } from "./directory.ts";
import { assertOfferedModel, assertSpecModelOffered, type ModelChoice } from "./models.ts";

/** A spec with its chunks in order: what GET /api/specs/:id and `specs.get` answer. */
export type SpecDetail = Spec & { chunks: Chunk[] };

export interface CatalogOptions {
  /** Base of relative project directories (the server's working directory). */
  cwd: string;
  /** The models a spec or a run may name (`GLM_MODELS`). */
  models: ModelChoice;
}

/**
 * Projects, specs and chunks as the API sees them: input already validated by the shared zod
 * schemas; unknown ids → NotFoundError, edits that clash with a running spec → ConflictError.
 * Shared by the tRPC routers and the REST routes so both behave the same.
 */
export function createCatalog(repos: Repositories, options: CatalogOptions) {
  async function project(id: string): Promise<Project> {
    const row = await repos.projects.get(id);
    if (!row) throw new NotFoundError("project", id);
    return row;
  }

  async function spec(id: string): Promise<Spec> {
    const row = await repos.specs.get(id);
    if (!row) throw new NotFoundError("spec", id);
    return row;
  }

  const projects = {
    list: (): Promise<Project[]> => repos.projects.list(),
    get: project,
    async create(input: CreateProjectInput): Promise<Project> {
      const directory = await checkProjectDirectory(input.directory, options.cwd);
      return repos.projects.create({
        name: input.name,
        directory,
        description: input.description ?? null,
      });
    },
    async update(id: string, patch: UpdateProjectInput): Promise<Project> {
      await project(id);
      const directory =
        patch.directory === undefined
          ? undefined
          : await checkProjectDirectory(patch.directory, options.cwd);
      return repos.projects.update(id, {
        name: patch.name,
        directory,
        description: patch.description,
      });
    },
    async remove(id: string): Promise<void> {
      await project(id);
      const running = (await repos.specs.listByProject(id)).filter((s) => s.status === "running");
      if (running.length > 0)
        throw new ConflictError(`project ${id} has a running spec; stop it before deleting`);
      await repos.projects.remove(id);
    },
  };

  const specs = {
    async listByProject(projectId: string): Promise<Spec[]> {
      await project(projectId);
      return repos.specs.listByProject(projectId);
    },
    async get(id: string): Promise<SpecDetail> {
      const found = await repos.specs.getWithChunks(id);
      if (!found) throw new NotFoundError("spec", id);
      return { ...found.spec, chunks: found.chunks };
    },
    /** Creates the spec and its chunks in one transaction; dependency indexes become ids. */
    async create(projectId: string, input: CreateSpecInput): Promise<SpecDetail> {
      assertOfferedModel(options.models, input.model);
      const list = input.chunks ?? [];
      const ids = list.map(() => randomUUID());
      const chunks: ChunkInput[] = list.map((chunk, i) => ({
        id: ids[i],
        title: chunk.title,
        description: chunk.description,
        dependencies: (chunk.dependencies ?? []).map((index) => {
          const id = ids[index];
          // The schema guarantees index < i; this guards against a schema change.
          if (id === undefined || index >= i) throw new Error(`bad dependency index ${index}`);
          return id;
        }),
      }));
      const created = await repos.specs.create({
        projectId,
        title: input.title,
        content: input.content,
        model: input.model ?? null,
        chunks,
      });
      return { ...created.spec, chunks: created.chunks };
    },
    async update(id: string, patch: UpdateSpecInput): Promise<Spec> {
      assertOfferedModel(options.models, patch.model);
      const current = await spec(id);
      if (
        current.status === "running" &&
        (patch.status !== undefined || patch.content !== undefined)
      )
        throw new ConflictError(`spec ${id} is running; its content and status cannot change now`);
      return repos.specs.update(id, patch);
    },
    async remove(id: string): Promise<void> {
      const current = await spec(id);
      if (current.status === "running")
        throw new ConflictError(`spec ${id} is running; stop it before deleting`);
      await repos.specs.remove(id);
    },
    /**
     * Before a run starts or is queued: `model` (this run's override) must be offered, and
     * without one the spec's own model must still be. A missing spec is left to the orchestrator
     * (404).
     */
    async checkRunModel(specId: string, model: string | null | undefined): Promise<void> {
      if (model !== null && model !== undefined) {
        assertOfferedModel(options.models, model);
        return;
      }
      const row = await repos.specs.get(specId);
      if (row) assertSpecModelOffered(options.models, row);
    },
  };

  const chunks = {
    create: (specId: string, input: CreateChunkInput): Promise<Chunk> =>
      repos.chunks.create(specId, {
        title: input.title,
        description: input.description,
        dependencies: input.dependencies ?? [],
      }),
    update: (id: string, patch: UpdateChunkInput): Promise<Chunk> => repos.chunks.update(id, patch),
    remove: (id: string): Promise<void> => repos.chunks.remove(id),
    reorder: (specId: string, chunkIds: readonly string[]): Promise<Chunk[]> =>
      repos.chunks.reorder(specId, chunkIds),
  };

  return { projects, specs, chunks };
}

export type Catalog = ReturnType<typeof createCatalog>;
