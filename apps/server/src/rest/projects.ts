import { createProjectInput, entityIdSchema, updateProjectInput } from "@glm-workers/core/schemas";
import { Hono } from "hono";
import type { Catalog } from "../services/catalog.ts";
import { parseJsonBody, parseParam } from "./validate.ts";

/** `/api/projects…`: list, create, read, patch, delete. */
export function projectsRoutes(catalog: Catalog) {
  const app = new Hono();

  app.get("/projects", async (c) => c.json({ projects: await catalog.projects.list() }));

  app.post("/projects", async (c) => {
    const body = await parseJsonBody(c, createProjectInput);
    return c.json(await catalog.projects.create(body), 201);
  });

  app.get("/projects/:id", async (c) =>
    c.json(await catalog.projects.get(parseParam(c, "id", entityIdSchema))),
  );

  app.patch("/projects/:id", async (c) => {
    const id = parseParam(c, "id", entityIdSchema);
    const body = await parseJsonBody(c, updateProjectInput);
    return c.json(await catalog.projects.update(id, body));
  });

  app.delete("/projects/:id", async (c) => {
    await catalog.projects.remove(parseParam(c, "id", entityIdSchema));
    return c.body(null, 204);
  });

  return app;
}
