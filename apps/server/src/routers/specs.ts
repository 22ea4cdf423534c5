import { createSpecInput, entityIdSchema, updateSpecInput } from "@glm-workers/core/schemas";
import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { publicProcedure } from "../trpc.ts";

const byId = z.object({ id: entityIdSchema });

export const specsRouter = {
  /** The specs of one project, oldest first (without chunks). */
  list: publicProcedure
    .input(z.object({ projectId: entityIdSchema }))
    .query(({ ctx, input }) => ctx.catalog.specs.listByProject(input.projectId)),
  /** The spec with its chunks in order. */
  get: publicProcedure.input(byId).query(({ ctx, input }) => ctx.catalog.specs.get(input.id)),
  /** Creates the spec and its chunks; chunk dependencies are indexes of earlier chunks. */
  create: publicProcedure
    .input(createSpecInput.extend({ projectId: entityIdSchema }))
    .mutation(({ ctx, input: { projectId, ...spec } }) =>
      ctx.catalog.specs.create(projectId, spec),
    ),
  update: publicProcedure
    .input(updateSpecInput.extend({ id: entityIdSchema }))
    .mutation(({ ctx, input: { id, ...patch } }) => ctx.catalog.specs.update(id, patch)),
  remove: publicProcedure.input(byId).mutation(async ({ ctx, input }) => {
    await ctx.catalog.specs.remove(input.id);
    return { ok: true as const };
  }),
} satisfies TRPCRouterRecord;
