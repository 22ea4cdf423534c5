import { randomUUID } from "node:crypto";
import { worktreeUsage } from "@glm-workers/core/orchestrator";
import type {
  CreateChunkInput,
  CreateProjectInput,
  CreateSpecInput,
  UpdateChunkInput,
  UpdateProjectInput,
  UpdateSpecInput,
} from "@glm-workers/core/schemas";
import { ConflictError, NotFoundError } from "@glm-workers/db/errors";
import { type ChunkUsage, emptyUsage, type Usage, type UsageSummary } from "@glm-workers/db/events";
import type { ChunkInput, Repositories } from "@glm-workers/db/repositories";
import type { Chunk, Project, Spec } from "@glm-workers/db/schema";
import type { UsageReads } from "@glm-workers/db/store";
import { checkProjectDirectory } from "./directory.ts";
import { assertOfferedModel, assertSpecModelOffered, type ModelChoice } from "./models.ts";

/** A chunk with its model usage per step (over every run of its spec). */
export type ChunkDetail = Chunk & { usage: ChunkUsage };
/**
 * A spec with its chunks in order and the model usage of all its runs: what GET /api/specs/:id
 * and `specs.get` answer.
 */
export type SpecDetail = Spec & { usage: Usage; chunks: ChunkDetail[] };
/**
 * A project with the model usage of every run of its specs and the run worktrees its
 * repository holds (GET /api/projects/:id).
 */
export type ProjectDetail = Project & { usage: Usage; worktrees: { count: number; bytes: number } };

const NO_CHUNK_USAGE: ChunkUsage = Object.freeze({ executing: null, reviewing: null });

export interface CatalogOptions {
  /** Base of relative project directories (the server's working directory). */
  cwd: string;
  /** The models a spec or a run may name (`GLM_MODELS`). */
  models: ModelChoice;
  /** Usage sums (the run store's read side). */
  usage: UsageReads;
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

  const { usage } = options;

  const projects = {
    list: (): Promise<Project[]> => repos.projects.list(),
    async get(id: string): Promise<ProjectDetail> {
      const row = await project(id);
      const [used, worktrees] = await Promise.all([
        usage.project(id),
        worktreeUsage(row.directory).catch(() => ({ count: 0, bytes: 0 })),
      ]);
      return { ...row, usage: used, worktrees };
    },
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
      const [total, byChunk] = await Promise.all([usage.spec(id), usage.chunksOfSpec(id)]);
      return {
        ...found.spec,
        usage: total,
        chunks: found.chunks.map((c) => ({
          ...c,
          usage: byChunk.get(c.id) ?? NO_CHUNK_USAGE,
        })),
      };
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
      // a new spec has used nothing yet
      return {
        ...created.spec,
        usage: emptyUsage(),
        chunks: created.chunks.map((c) => ({ ...c, usage: NO_CHUNK_USAGE })),
      };
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

  const usageSummary = {
    /** Server-wide: the last 5 hours (by request time) and everything recorded. */
    summary: (): Promise<UsageSummary> => usage.summary(),
  };

  return { projects, specs, chunks, usage: usageSummary };
}

export type Catalog = ReturnType<typeof createCatalog>;
