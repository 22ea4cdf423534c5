import { createChunksRepository } from "./chunks.ts";
import { createEventsRepository } from "./events.ts";
import { createProjectsRepository } from "./projects.ts";
import { createQueueRepository } from "./queue.ts";
import { createSettingsRepository } from "./settings.ts";
import type { DatabaseHandle } from "./shared.ts";
import { createSpecsRepository } from "./specs.ts";
import { createWorkersRepository } from "./workers.ts";

export type { ChunkInput, ChunkPatch, ChunksRepository, ChunkUpdate } from "./chunks.ts";
export {
  applyChunkPatch,
  createChunksRepository,
  insertChunkAfter,
  resetRunningChunks,
} from "./chunks.ts";
export type { EventInput, EventQuery, EventsRepository, TrimOptions } from "./events.ts";
export { createEventsRepository, insertEvents, trimEvents } from "./events.ts";
export type { ProjectInput, ProjectPatch, ProjectsRepository } from "./projects.ts";
export { createProjectsRepository } from "./projects.ts";
export type { Claimed, ClaimOptions, QueueAddInput, QueueRepository } from "./queue.ts";
export { claimQueueItem, createQueueRepository } from "./queue.ts";
export type { SettingsRepository } from "./settings.ts";
export { createSettingsRepository } from "./settings.ts";
export type { DatabaseHandle, Queryable } from "./shared.ts";
export type { SpecInput, SpecPatch, SpecsRepository, SpecWithChunks } from "./specs.ts";
export { createSpecsRepository } from "./specs.ts";
export type { WorkerInput, WorkerListOptions, WorkerPatch, WorkersRepository } from "./workers.ts";
export {
  ACTIVE_WORKER_STATUSES,
  createWorkersRepository,
  FINISHED_WORKER_STATUSES,
  insertWorker,
  transitionWorker,
} from "./workers.ts";

export function createRepositories(database: DatabaseHandle) {
  return {
    projects: createProjectsRepository(database),
    specs: createSpecsRepository(database),
    chunks: createChunksRepository(database),
    workers: createWorkersRepository(database),
    queue: createQueueRepository(database),
    events: createEventsRepository(database),
    settings: createSettingsRepository(database),
  };
}

export type Repositories = ReturnType<typeof createRepositories>;
