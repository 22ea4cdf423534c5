import type { Chunk, ChunkStatus } from "../schema.ts";
import { newId } from "./shared.ts";

/** A chunk as the user writes it. `id` is optional (generated when missing). */
export interface ChunkInput {
  id?: string;
  title: string;
  description?: string;
  dependencies?: string[];
  status?: ChunkStatus;
  fixOf?: string | null;
}

/** A complete row for a new chunk at `order`. */
export function chunkRow(specId: string, order: number, input: ChunkInput): Chunk {
  return {
    id: input.id ?? newId(),
    specId,
    title: input.title,
    description: input.description ?? "",
    order,
    status: input.status ?? "pending",
    outputSummary: null,
    error: null,
    reviewStatus: null,
    reviewFeedback: null,
    dependencies: [...new Set(input.dependencies ?? [])],
    fixOf: input.fixOf ?? null,
    commitHash: null,
    startedAt: null,
    completedAt: null,
  };
}
