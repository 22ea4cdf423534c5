import { createProjectInput, entityIdSchema, updateProjectInput } from "@glm-workers/core/schemas";
import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { publicProcedure } from "../trpc.ts";

const byId = z.object({ id: entityIdSchema });

export const projectsRouter = {
  list: publicProcedure.query(({ ctx }) => ctx.catalog.projects.list()),
  get: publicProcedure.input(byId).query(({ ctx, input }) => ctx.catalog.projects.get(input.id)),
  create: publicProcedure
    .input(createProjectInput)
    .mutation(({ ctx, input }) => ctx.catalog.projects.create(input)),
  update: publicProcedure
    .input(updateProjectInput.extend({ id: entityIdSchema }))
    .mutation(({ ctx, input: { id, ...patch } }) => ctx.catalog.projects.update(id, patch)),
  remove: publicProcedure.input(byId).mutation(async ({ ctx, input }) => {
    await ctx.catalog.projects.remove(input.id);
    return { ok: true as const };
  }),
} satisfies TRPCRouterRecord;
