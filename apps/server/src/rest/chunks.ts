import {
  createChunkInput,
  entityIdSchema,
  reorderChunksInput,
  updateChunkInput,
} from "@glm-workers/core/schemas";
import { Hono } from "hono";
import type { Catalog } from "../services/catalog.ts";
import { parseJsonBody, parseParam } from "./validate.ts";

/** `/api/specs/:id/chunks…` and `/api/chunks/:id`; edits of a running spec answer 409. */
export function chunksRoutes(catalog: Catalog) {
  const app = new Hono();

  app.post("/specs/:id/chunks", async (c) => {
    const specId = parseParam(c, "id", entityIdSchema);
    const body = await parseJsonBody(c, createChunkInput);
    return c.json(await catalog.chunks.create(specId, body), 201);
  });

  /** Body `{chunkIds}`: every chunk id of the spec once. Answers `{chunks}` in the new order. */
  app.post("/specs/:id/chunks/reorder", async (c) => {
    const specId = parseParam(c, "id", entityIdSchema);
    const body = await parseJsonBody(c, reorderChunksInput);
    return c.json({ chunks: await catalog.chunks.reorder(specId, body.chunkIds) });
  });

  app.patch("/chunks/:id", async (c) => {
    const id = parseParam(c, "id", entityIdSchema);
    const body = await parseJsonBody(c, updateChunkInput);
    return c.json(await catalog.chunks.update(id, body));
  });

  app.delete("/chunks/:id", async (c) => {
    await catalog.chunks.remove(parseParam(c, "id", entityIdSchema));
    return c.body(null, 204);
  });

  return app;
}
