import { afterEach, expect, test } from "vitest";
import { silentLogger } from "../src/logger.ts";
import { type RunningServer, startServer } from "../src/server.ts";
import { counts, type Json, rawRequest, type Sandbox, sandbox, testEnv } from "./helpers.ts";

let box: Sandbox | undefined;
let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  box?.cleanup();
  box = undefined;
});

async function start(b: Sandbox): Promise<RunningServer> {
  return startServer({ env: testEnv(b), logger: silentLogger, cwd: b.dir });
}

function post(port: number, path: string, body: unknown, headers: Record<string, string> = {}) {
  return rawRequest(port, path, { method: "POST", body: JSON.stringify(body), headers });
}

test("a real server keeps a project, a spec and its reordered chunks across a restart", async () => {
  box = sandbox();
  server = await start(box);
  expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
  const port = server.port;

  const health = await rawRequest(port, "/api/health");
  expect(health.status).toBe(200);
  expect(health.json.ok).toBe(true);

  const project = await post(port, "/api/projects", { name: "demo", directory: box.projectDir });
  expect(project.status).toBe(201);
  const spec = await post(port, `/api/projects/${project.json.id}/specs`, {
    title: "three steps",
    content: "# plan",
    chunks: [{ title: "one" }, { title: "two", dependencies: [0] }, { title: "three" }],
  });
  expect(spec.status).toBe(201);
  const ids: string[] = spec.json.chunks.map((c: Json) => c.id);
  const order = [ids[2], ids[0], ids[1]];
  const reordered = await post(port, `/api/specs/${spec.json.id}/chunks/reorder`, {
    chunkIds: order,
  });
  expect(reordered.status).toBe(200);

  await server.close();
  server = await start(box);
  const again = await rawRequest(server.port, `/api/specs/${spec.json.id}`);
  expect(again.status).toBe(200);
  expect(again.json.title).toBe("three steps");
  expect(again.json.chunks.map((c: Json) => c.id)).toEqual(order);
  expect(again.json.chunks.map((c: Json) => c.title)).toEqual(["three", "one", "two"]);
  expect(again.json.chunks[2].dependencies).toEqual([ids[0]]);
  const projects = await rawRequest(server.port, "/api/projects");
  expect(projects.json.projects.map((p: Json) => p.name)).toEqual(["demo"]);
});

test("bad input over real HTTP gets 400/400/404/403/403/413 and writes nothing", async () => {
  box = sandbox();
  server = await start(box);
  const port = server.port;
  const good = { name: "demo", directory: box.projectDir };

  const badJson = await rawRequest(port, "/api/projects", { method: "POST", body: "{nope" });
  expect(badJson.status).toBe(400);
  expect(badJson.json.error).toMatchObject({ code: "INVALID_JSON" });

  const wrongTypes = await post(port, "/api/projects", { name: 1, directory: false });
  expect(wrongTypes.status).toBe(400);
  expect(wrongTypes.json.error.issues.length).toBe(2);

  const unknown = await rawRequest(port, "/api/specs/does-not-exist");
  expect(unknown.status).toBe(404);
  expect(unknown.json.error.code).toBe("NOT_FOUND");

  const crossOrigin = await post(port, "/api/projects", good, { origin: "https://evil.example" });
  expect(crossOrigin.status).toBe(403);
  expect(crossOrigin.json.error.code).toBe("FORBIDDEN_ORIGIN");

  const rebinding = await post(port, "/api/projects", good, { host: `evil.example:${port}` });
  expect(rebinding.status).toBe(403);
  expect(rebinding.json.error.code).toBe("FORBIDDEN_HOST");

  // The limit is enforced from Content-Length, before the body is read.
  const huge = await rawRequest(port, "/api/projects", {
    method: "POST",
    body: JSON.stringify({ ...good, description: "y".repeat(2 << 20) }),
    headersFirst: true,
  });
  expect(huge.status).toBe(413);

  expect(await counts(server.database)).toEqual({ projects: 0, specs: 0, chunks: 0 });

  const ok = await post(port, "/api/projects", good, { origin: `http://127.0.0.1:${port}` });
  expect(ok.status).toBe(201);
  expect((await counts(server.database)).projects).toBe(1);
});

test("close() is idempotent", async () => {
  box = sandbox();
  server = await start(box);
  await Promise.all([server.close(), server.close()]);
  await server.close();
  expect(server.database.closed).toBe(true);
});

test("a taken port is reported, and the database is closed again", async () => {
  box = sandbox();
  server = await start(box);
  const env = testEnv(box, { PORT: String(server.port) });
  await expect(startServer({ env, logger: silentLogger })).rejects.toThrow(/EADDRINUSE/);
});
