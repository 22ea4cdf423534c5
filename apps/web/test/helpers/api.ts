import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { E2eServer } from "./server.ts";

/** JSON over the server's REST API; throws on an error status, `null` for a 204. */
export async function api<T>(
  app: E2eServer,
  path: string,
  init?: { method?: string; body?: unknown },
): Promise<T> {
  const res = await fetch(`${app.url}${path}`, {
    method: init?.method ?? "GET",
    headers: init?.body ? { "content-type": "application/json" } : {},
    body: init?.body ? JSON.stringify(init.body) : null,
  });
  if (!res.ok)
    throw new Error(`${init?.method ?? "GET"} ${path}: ${res.status} ${await res.text()}`);
  return (res.status === 204 ? null : await res.json()) as T;
}

/**
 * A project `name` ("`name` service") on its own directory below `app.projectDir` (one run per
 * plain directory at a time); `prepare` fills the directory before the project is created.
 */
export async function createProject(
  app: E2eServer,
  name: string,
  prepare?: (directory: string) => Promise<void>,
): Promise<{ directory: string; projectId: string }> {
  const directory = join(app.projectDir, name);
  await mkdir(directory, { recursive: true });
  await prepare?.(directory);
  const project = await api<{ id: string }>(app, "/api/projects", {
    method: "POST",
    body: { name, directory, description: `${name} service` },
  });
  return { directory, projectId: project.id };
}
