import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { call, counts, type TestApp, testApp } from "./helpers.ts";

let t: TestApp;
beforeEach(async () => {
  t = await testApp();
});
afterEach(async () => {
  await t.close();
});

async function createProject(name = "demo") {
  const res = await call(t.app, "/api/projects", {
    method: "POST",
    body: { name, directory: t.box.projectDir, description: "a test project" },
  });
  expect(res.status).toBe(201);
  return res.json;
}

async function createSpec(projectId: string) {
  const res = await call(t.app, `/api/projects/${projectId}/specs`, {
    method: "POST",
    body: {
      title: "Add login",
      content: "# Goal\nUsers can log in.",
      chunks: [
        { title: "schema", description: "tables" },
        { title: "api", description: "routes", dependencies: [0] },
        { title: "ui", description: "form", dependencies: [0, 1] },
      ],
    },
  });
  expect(res.status).toBe(201);
  return res.json;
}

describe("health", () => {
  test("GET /api/health names the version and the executor", async () => {
    const res = await call(t.app, "/api/health");
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ ok: true, executor: "simulated" });
    expect(res.json.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(res.json.executorLabel).toMatch(/simulated/i);
  });
});

describe("projects", () => {
  test("create, list, get, patch, delete", async () => {
    const project = await createProject();
    expect(project).toMatchObject({ name: "demo", directory: t.box.projectDir });
    expect(typeof project.id).toBe("string");

    const list = await call(t.app, "/api/projects");
    expect(list.json.projects.map((p: { id: string }) => p.id)).toEqual([project.id]);

    const got = await call(t.app, `/api/projects/${project.id}`);
    expect(got.json.name).toBe("demo");

    const patched = await call(t.app, `/api/projects/${project.id}`, {
      method: "PATCH",
      body: { name: "renamed", description: null },
    });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ name: "renamed", description: null });

    const del = await call(t.app, `/api/projects/${project.id}`, { method: "DELETE" });
    expect(del.status).toBe(204);
    expect((await call(t.app, `/api/projects/${project.id}`)).status).toBe(404);
  });

  test("a relative directory is resolved against the server's working directory", async () => {
    const res = await call(t.app, "/api/projects", {
      method: "POST",
      body: { name: "rel", directory: "project" },
    });
    expect(res.status).toBe(201);
    expect(res.json.directory).toBe(t.box.projectDir);
  });

  test("a missing directory or a file is a 400 naming the directory, and nothing is written", async () => {
    const missing = await call(t.app, "/api/projects", {
      method: "POST",
      body: { name: "x", directory: join(t.box.dir, "nope") },
    });
    expect(missing.status).toBe(400);
    expect(missing.json.error.message).toContain("does not exist");
    expect(missing.json.error.issues[0].path).toBe("directory");

    const file = join(t.box.dir, "file.txt");
    writeFileSync(file, "x");
    const notDir = await call(t.app, "/api/projects", {
      method: "POST",
      body: { name: "x", directory: file },
    });
    expect(notDir.status).toBe(400);
    expect(notDir.json.error.message).toContain("is not a directory");
    expect((await counts(t.database)).projects).toBe(0);
  });

  test("wrong types give 400 with the zod issues", async () => {
    const res = await call(t.app, "/api/projects", {
      method: "POST",
      body: { name: 42, directory: ["x"] },
    });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe("BAD_REQUEST");
    const paths = res.json.error.issues.map((i: { path: string }) => i.path).sort();
    expect(paths).toEqual(["directory", "name"]);
    expect((await counts(t.database)).projects).toBe(0);
  });

  test("malformed JSON is a 400 INVALID_JSON", async () => {
    const res = await call(t.app, "/api/projects", { method: "POST", raw: '{"name": "x",' });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code: "INVALID_JSON" });
    expect(Array.isArray(res.json.error.issues)).toBe(true);
    expect((await counts(t.database)).projects).toBe(0);
  });

  test("unknown ids are 404 for every verb", async () => {
    expect((await call(t.app, "/api/projects/nope")).status).toBe(404);
    expect(
      (await call(t.app, "/api/projects/nope", { method: "PATCH", body: { name: "x" } })).status,
    ).toBe(404);
    const del = await call(t.app, "/api/projects/nope", { method: "DELETE" });
    expect(del.status).toBe(404);
    expect(del.json.error.code).toBe("NOT_FOUND");
    expect((await call(t.app, "/api/projects/nope/specs")).status).toBe(404);
  });

  test("a body over 1 MiB is a 413 and writes nothing", async () => {
    const res = await call(t.app, "/api/projects", {
      method: "POST",
      body: { name: "big", directory: t.box.projectDir, description: "x".repeat(1_100_000) },
    });
    expect(res.status).toBe(413);
    expect(res.json.error.code).toBe("PAYLOAD_TOO_LARGE");
    expect((await counts(t.database)).projects).toBe(0);
  });

  test("unknown routes are JSON 404s", async () => {
    const res = await call(t.app, "/api/nothing-here");
    expect(res.status).toBe(404);
    expect(res.json.error.code).toBe("NOT_FOUND");
  });
});

describe("specs and chunks", () => {
  test("a spec is created with its chunks; dependency indexes become chunk ids", async () => {
    const project = await createProject();
    const spec = await createSpec(project.id);
    expect(spec).toMatchObject({ title: "Add login", status: "draft", projectId: project.id });
    const [a, b, c] = spec.chunks;
    expect(spec.chunks.map((ch: { title: string }) => ch.title)).toEqual(["schema", "api", "ui"]);
    expect(spec.chunks.map((ch: { order: number }) => ch.order)).toEqual([0, 1, 2]);
    expect(b.dependencies).toEqual([a.id]);
    expect(c.dependencies).toEqual([a.id, b.id]);

    const list = await call(t.app, `/api/projects/${project.id}/specs`);
    expect(list.json.specs.map((s: { id: string }) => s.id)).toEqual([spec.id]);
  });

  test("a dependency on a later chunk is a 400 and nothing is written", async () => {
    const project = await createProject();
    const res = await call(t.app, `/api/projects/${project.id}/specs`, {
      method: "POST",
      body: {
        title: "s",
        content: "",
        chunks: [{ title: "a", dependencies: [1] }, { title: "b" }],
      },
    });
    expect(res.status).toBe(400);
    expect(res.json.error.issues[0].path).toBe("chunks.0.dependencies.0");
    expect(await counts(t.database)).toMatchObject({ specs: 0, chunks: 0 });
  });

  test("a spec for an unknown project is a 404", async () => {
    const res = await call(t.app, "/api/projects/nope/specs", {
      method: "POST",
      body: { title: "s", content: "" },
    });
    expect(res.status).toBe(404);
    expect(await counts(t.database)).toMatchObject({ specs: 0 });
  });

  test("chunks: add, edit, reorder, delete; GET answers them in order", async () => {
    const project = await createProject();
    const spec = await createSpec(project.id);
    const [a, b, c] = spec.chunks;

    const added = await call(t.app, `/api/specs/${spec.id}/chunks`, {
      method: "POST",
      body: { title: "docs", description: "readme", dependencies: [c.id] },
    });
    expect(added.status).toBe(201);
    expect(added.json).toMatchObject({ title: "docs", order: 3, dependencies: [c.id] });

    const edited = await call(t.app, `/api/chunks/${a.id}`, {
      method: "PATCH",
      body: { title: "schema v2" },
    });
    expect(edited.status).toBe(200);
    expect(edited.json.title).toBe("schema v2");

    const order = [c.id, added.json.id, a.id, b.id];
    const reordered = await call(t.app, `/api/specs/${spec.id}/chunks/reorder`, {
      method: "POST",
      body: { chunkIds: order },
    });
    expect(reordered.status).toBe(200);
    expect(reordered.json.chunks.map((ch: { id: string }) => ch.id)).toEqual(order);

    const del = await call(t.app, `/api/chunks/${added.json.id}`, { method: "DELETE" });
    expect(del.status).toBe(204);

    const got = await call(t.app, `/api/specs/${spec.id}`);
    expect(got.status).toBe(200);
    expect(got.json.chunks.map((ch: { id: string }) => ch.id)).toEqual([c.id, a.id, b.id]);
    expect(got.json.chunks.map((ch: { order: number }) => ch.order)).toEqual([0, 1, 2]);
  });

  test("a reorder that is not a permutation is a 400 and changes nothing", async () => {
    const project = await createProject();
    const spec = await createSpec(project.id);
    const ids = spec.chunks.map((ch: { id: string }) => ch.id);
    const res = await call(t.app, `/api/specs/${spec.id}/chunks/reorder`, {
      method: "POST",
      body: { chunkIds: [ids[1], ids[0]] },
    });
    expect(res.status).toBe(400);
    const got = await call(t.app, `/api/specs/${spec.id}`);
    expect(got.json.chunks.map((ch: { id: string }) => ch.id)).toEqual(ids);
  });

  test("an unknown dependency id is a 400", async () => {
    const project = await createProject();
    const spec = await createSpec(project.id);
    const res = await call(t.app, `/api/specs/${spec.id}/chunks`, {
      method: "POST",
      body: { title: "x", dependencies: ["no-such-chunk"] },
    });
    expect(res.status).toBe(400);
    expect((await counts(t.database)).chunks).toBe(3);
  });

  test("editing the chunks of a running spec is a 409; nothing changes", async () => {
    const project = await createProject();
    const spec = await createSpec(project.id);
    await t.repos.specs.setStatus(spec.id, "running");
    const ids = spec.chunks.map((ch: { id: string }) => ch.id);

    const attempts = [
      call(t.app, `/api/specs/${spec.id}/chunks`, { method: "POST", body: { title: "x" } }),
      call(t.app, `/api/chunks/${ids[0]}`, { method: "PATCH", body: { title: "x" } }),
      call(t.app, `/api/chunks/${ids[0]}`, { method: "DELETE" }),
      call(t.app, `/api/specs/${spec.id}/chunks/reorder`, {
        method: "POST",
        body: { chunkIds: [...ids].reverse() },
      }),
      call(t.app, `/api/specs/${spec.id}`, { method: "PATCH", body: { content: "new" } }),
      call(t.app, `/api/specs/${spec.id}`, { method: "DELETE" }),
      call(t.app, `/api/projects/${project.id}`, { method: "DELETE" }),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(res.status).toBe(409);
      expect(res.json.error.code).toBe("CONFLICT");
    }
    const got = await call(t.app, `/api/specs/${spec.id}`);
    expect(got.json.content).toBe(spec.content);
    expect(got.json.chunks.map((ch: { id: string; title: string }) => [ch.id, ch.title])).toEqual(
      spec.chunks.map((ch: { id: string; title: string }) => [ch.id, ch.title]),
    );
  });

  test("spec patch and delete; deleting a project removes its specs and chunks", async () => {
    const project = await createProject();
    const spec = await createSpec(project.id);
    const patched = await call(t.app, `/api/specs/${spec.id}`, {
      method: "PATCH",
      body: { title: "Renamed", status: "ready" },
    });
    expect(patched.json).toMatchObject({ title: "Renamed", status: "ready" });
    const badStatus = await call(t.app, `/api/specs/${spec.id}`, {
      method: "PATCH",
      body: { status: "completed" },
    });
    expect(badStatus.status).toBe(400);

    const other = await createSpec(project.id);
    expect((await call(t.app, `/api/specs/${other.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await call(t.app, `/api/specs/${other.id}`)).status).toBe(404);

    expect((await call(t.app, `/api/projects/${project.id}`, { method: "DELETE" })).status).toBe(
      204,
    );
    expect(await counts(t.database)).toEqual({ projects: 0, specs: 0, chunks: 0 });
  });
});
