import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { build } from "vite";
import { loadEnv } from "../../../server/src/env.ts";
import { type RunningServer, startServer } from "../../../server/src/server.ts";

const webDir = resolve(import.meta.dirname, "../..");

export interface E2eServer {
  url: string;
  /** A real directory projects can point at. */
  projectDir: string;
  server: RunningServer;
  close(): Promise<void>;
}

/** Builds the web app into a temp dir (quietly). */
export async function buildWeb(outDir: string): Promise<void> {
  await build({
    configFile: join(webDir, "vite.config.ts"),
    root: webDir,
    logLevel: "silent",
    build: { outDir, emptyOutDir: true, sourcemap: false },
  });
}

/**
 * A fresh build of the web app served by the real server on 127.0.0.1 (random port), with its
 * own temp database. `close()` stops the server and removes every temp file.
 */
export async function startE2eServer(): Promise<E2eServer> {
  const root = await mkdtemp(join(tmpdir(), "glm-web-e2e-"));
  const webDist = join(root, "web");
  const projectDir = join(root, "project");
  await mkdir(projectDir);
  await buildWeb(webDist);
  const env = loadEnv(
    {
      PORT: "0",
      HOST: "127.0.0.1",
      DATABASE_URL: `file:${join(root, "e2e.db")}`,
      WEB_DIST: webDist,
      LOG_LEVEL: "error",
    },
    { cwd: root },
  );
  const server = await startServer({ env });
  return {
    url: server.url,
    projectDir,
    server,
    async close() {
      await server.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}
