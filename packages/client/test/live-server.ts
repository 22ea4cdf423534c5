import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type LiveServer, liveServer } from "../../../apps/server/test/helpers.ts";
import type { GlmWorkersClient } from "../src/index.ts";

/** A listening server (simulated agent) with its orchestrator, in this process, on loopback. */
export type { LiveServer };

export function startLiveServer(overrides: Record<string, string> = {}): Promise<LiveServer> {
  return liveServer({ MAX_WORKERS: "2", SIMULATED_CHUNK_MS: "200", ...overrides });
}

/** A project in `dir` and a spec with `chunks` chunks, made through the client; the spec's id. */
export async function makeSpec(
  client: GlmWorkersClient,
  dir: string,
  title: string,
  chunks: number,
): Promise<string> {
  const directory = join(dir, "projects", title);
  mkdirSync(directory, { recursive: true });
  const project = await client.projects.create.mutate({ name: title, directory });
  const spec = await client.specs.create.mutate({
    projectId: project.id,
    title,
    content: `# ${title}`,
    chunks: Array.from({ length: chunks }, (_, i) => ({ title: `${title} ${i + 1}` })),
  });
  return spec.id;
}
