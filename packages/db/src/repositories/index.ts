import { createChunksRepository } from "./chunks.ts";
import { createEventsRepository } from "./events.ts";
import { createProjectsRepository } from "./projects.ts";
import { createSettingsRepository } from "./settings.ts";
import type { DatabaseHandle } from "./shared.ts";
import { createSpecsRepository } from "./specs.ts";

export type { ChunkInput, ChunkPatch, ChunksRepository, ChunkUpdate } from "./chunks.ts";
export {
  applyChunkPatch,
  createChunksRepository,
  insertChunkAfter,
  resetRunningChunks,
} from "./chunks.ts";
export type { EventInput, EventQuery, EventsRepository, TrimOptions } from "./events.ts";
export {
  createEventsRepository,
  eventsAfter,
  insertEvents,
  lastEventId,
  latestEvents,
  trimEvents,
} from "./events.ts";
export type { ProjectInput, ProjectPatch, ProjectsRepository } from "./projects.ts";
export { createProjectsRepository } from "./projects.ts";
export type { SettingsRepository } from "./settings.ts";
export { createSettingsRepository } from "./settings.ts";
export type { DatabaseHandle, Queryable } from "./shared.ts";
export type { SpecInput, SpecPatch, SpecsRepository, SpecWithChunks } from "./specs.ts";
export { createSpecsRepository } from "./specs.ts";
export function createRepositories(database: DatabaseHandle) {
  return {
    projects: createProjectsRepository(database),
    specs: createSpecsRepository(database),
    chunks: createChunksRepository(database),
    events: createEventsRepository(database),
    settings: createSettingsRepository(database),
  };
}

export type Repositories = ReturnType<typeof createRepositories>;
