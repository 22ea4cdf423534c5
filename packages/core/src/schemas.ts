import { z } from "zod";

/**
 * Input schemas for projects, specs and chunks: one zod schema per input, used by the tRPC
 * routers, the REST routes and the web forms alike.
 *
 * Chunk dependencies:
 * - in `createSpecInput.chunks[i].dependencies` they are 0-based indexes of EARLIER chunks of
 *   the same list (the chunks have no ids yet); the server turns them into chunk ids;
 * - in `createChunkInput` / `updateChunkInput` they are ids of other chunks of the same spec.
 */

export const NAME_MAX = 200;
export const DIRECTORY_MAX = 4096;
export const DESCRIPTION_MAX = 20_000;
/** Markdown content of a spec. Keep below the server's 1 MiB body limit. */
export const CONTENT_MAX = 500_000;
export const CHUNKS_MAX = 500;

/** A row id (UUID in practice; any short non-blank string is accepted and looked up). */
export const entityIdSchema = z.string().trim().min(1, "id is required").max(200, "id is too long");

const nameSchema = z
  .string()
  .trim()
  .min(1, "is required")
  .max(NAME_MAX, `must be at most ${NAME_MAX} characters`);

const descriptionSchema = z
  .string()
  .max(DESCRIPTION_MAX, `must be at most ${DESCRIPTION_MAX} characters`);

/**
 * An opencode model id such as `zai-coding-plan/glm-4.7`. Static on purpose: whether the server
 * offers the model is checked by the server against its configured list (`GLM_MODELS`), which
 * answers 400 naming the allowed models.
 */
export const modelIdSchema = z
  .string()
  .trim()
  .min(1, "is required")
  .max(NAME_MAX, `must be at most ${NAME_MAX} characters`);

// ---- projects ----------------------------------------------------------------

/** The directory must exist and be a directory; the server checks that (400 otherwise). */
export const directorySchema = z
  .string()
  .trim()
  .min(1, "is required")
  .max(DIRECTORY_MAX, `must be at most ${DIRECTORY_MAX} characters`)
  .refine((v) => !v.includes("\0"), "must not contain NUL characters");

export const createProjectInput = z.object({
  name: nameSchema,
  directory: directorySchema,
  description: descriptionSchema.nullish(),
});
export type CreateProjectInput = z.infer<typeof createProjectInput>;

export const updateProjectInput = z.object({
  name: nameSchema.optional(),
  directory: directorySchema.optional(),
  description: descriptionSchema.nullish(),
});
export type UpdateProjectInput = z.infer<typeof updateProjectInput>;

// ---- specs -------------------------------------------------------------------

/** Statuses a user may set; the others belong to the run engine. */
export const USER_SPEC_STATUSES = ["draft", "ready"] as const;

const contentSchema = z.string().max(CONTENT_MAX, `must be at most ${CONTENT_MAX} characters`);

export const newSpecChunkInput = z.object({
  title: nameSchema,
  description: descriptionSchema.default(""),
  /** 0-based indexes of earlier chunks in the same `chunks` list. */
  dependencies: z.array(z.number().int().min(0)).max(CHUNKS_MAX).optional(),
});
export type NewSpecChunkInput = z.infer<typeof newSpecChunkInput>;

export const createSpecInput = z
  .object({
    title: nameSchema,
    content: contentSchema.default(""),
    /** The model its runs use; absent or null: the server's default. */
    model: modelIdSchema.nullish(),
    chunks: z.array(newSpecChunkInput).max(CHUNKS_MAX, `at most ${CHUNKS_MAX} chunks`).optional(),
  })
  .superRefine((spec, ctx) => {
    for (const [i, chunk] of (spec.chunks ?? []).entries()) {
      for (const [j, dep] of (chunk.dependencies ?? []).entries()) {
        if (dep >= i) {
          ctx.addIssue({
            code: "custom",
            path: ["chunks", i, "dependencies", j],
            message: `must be the index of an earlier chunk (0..${i - 1}), got ${dep}`,
          });
        }
      }
    }
  });
export type CreateSpecInput = z.infer<typeof createSpecInput>;

export const updateSpecInput = z.object({
  title: nameSchema.optional(),
  content: contentSchema.optional(),
  status: z.enum(USER_SPEC_STATUSES).optional(),
  /** null: back to the server's default model. */
  model: modelIdSchema.nullable().optional(),
});
export type UpdateSpecInput = z.infer<typeof updateSpecInput>;

// ---- chunks ------------------------------------------------------------------

const dependencyIdsSchema = z.array(entityIdSchema).max(CHUNKS_MAX);

export const createChunkInput = z.object({
  title: nameSchema,
  description: descriptionSchema.default(""),
  /** Ids of other chunks of the same spec. */
  dependencies: dependencyIdsSchema.optional(),
});
export type CreateChunkInput = z.infer<typeof createChunkInput>;

export const updateChunkInput = z.object({
  title: nameSchema.optional(),
  description: descriptionSchema.optional(),
  dependencies: dependencyIdsSchema.optional(),
});
export type UpdateChunkInput = z.infer<typeof updateChunkInput>;

/** Every chunk id of the spec, each once, in the new order. */
export const reorderChunksInput = z.object({
  chunkIds: z.array(entityIdSchema).max(CHUNKS_MAX * 2),
});
export type ReorderChunksInput = z.infer<typeof reorderChunksInput>;
