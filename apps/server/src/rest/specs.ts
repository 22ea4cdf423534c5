import { createSpecInput, entityIdSchema, updateSpecInput } from "@glm-workers/core/schemas";
import { Hono } from "hono";
import type { Catalog } from "../services/catalog.ts";
import { parseJsonBody, parseParam } from "./validate.ts";

/** `/api/projects/:id/specs` and `/api/specs/:id`. */
export function specsRoutes(catalog: Catalog) {
  const app = new Hono();

  app.get("/projects/:id/specs", async (c) => {
    const projectId = parseParam(c, "id", entityIdSchema);
    return c.json({ specs: await catalog.specs.listByProject(projectId) });
  });

  /** Body `{title, content, chunks?: [{title, description, dependencies?: [earlier index]}]}`. */
  app.post("/projects/:id/specs", async (c) => {
    const projectId = parseParam(c, "id", entityIdSchema);
    const body = await parseJsonBody(c, createSpecInput);
    return c.json(await catalog.specs.create(projectId, body), 201);
  });

  app.get("/specs/:id", async (c) =>
    c.json(await catalog.specs.get(parseParam(c, "id", entityIdSchema))),
  );

  app.patch("/specs/:id", async (c) => {
    const id = parseParam(c, "id", entityIdSchema);
    const body = await parseJsonBody(c, updateSpecInput);
    return c.json(await catalog.specs.update(id, body));
  });

  app.delete("/specs/:id", async (c) => {
    await catalog.specs.remove(parseParam(c, "id", entityIdSchema));
    return c.body(null, 204);
  });

  return app;
}
