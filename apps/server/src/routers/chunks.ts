import {
  createChunkInput,
  entityIdSchema,
  reorderChunksInput,
  updateChunkInput,
} from "@glm-workers/core/schemas";
import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { publicProcedure } from "../trpc.ts";

/** Chunk edits answer CONFLICT while their spec is running. */
export const chunksRouter = {
  list: publicProcedure
    .input(z.object({ specId: entityIdSchema }))
    .query(async ({ ctx, input }) => (await ctx.catalog.specs.get(input.specId)).chunks),
  /** Appends a chunk; `dependencies` are ids of other chunks of the spec. */
  create: publicProcedure
    .input(createChunkInput.extend({ specId: entityIdSchema }))
    .mutation(({ ctx, input: { specId, ...chunk } }) => ctx.catalog.chunks.create(specId, chunk)),
  update: publicProcedure
    .input(updateChunkInput.extend({ id: entityIdSchema }))
    .mutation(({ ctx, input: { id, ...patch } }) => ctx.catalog.chunks.update(id, patch)),
  remove: publicProcedure
    .input(z.object({ id: entityIdSchema }))
    .mutation(async ({ ctx, input }) => {
      await ctx.catalog.chunks.remove(input.id);
      return { ok: true as const };
    }),
  /** `chunkIds` must list every chunk of the spec once; answers the chunks in the new order. */
  reorder: publicProcedure
    .input(reorderChunksInput.extend({ specId: entityIdSchema }))
    .mutation(({ ctx, input }) => ctx.catalog.chunks.reorder(input.specId, input.chunkIds)),
} satisfies TRPCRouterRecord;
