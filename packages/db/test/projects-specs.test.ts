import { afterEach, describe, expect, it } from "vitest";
import { ConflictError, NotFoundError, ValidationError } from "../src/errors.ts";
import { type TempDb, tempDb } from "./helpers.ts";

let t: TempDb | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
});

describe("projects repository", () => {
  it("creates, lists, updates and removes projects", async () => {
    const d = await tempDb();
    t = d;
    const { projects } = d.repos;
    const a = await projects.create({ name: "a", directory: "/a", config: { model: "glm" } });
    const b = await projects.create({ name: "b", directory: "/b", description: "second" });
    expect(a.id).toMatch(/^[0-9a-f-]{36}$/);
    expect((await projects.list()).map((p) => p.name)).toEqual(["a", "b"]);
    expect(await projects.get(a.id)).toEqual(a);
    expect(await projects.get("missing")).toBeNull();

    const updated = await projects.update(a.id, { name: "a2", description: undefined });
    expect(updated.name).toBe("a2");
    expect(updated.config).toEqual({ model: "glm" });
    expect(updated.updatedAt).toBeGreaterThanOrEqual(a.updatedAt);
    await expect(projects.update("missing", { name: "x" })).rejects.toBeInstanceOf(NotFoundError);

    await projects.remove(b.id);
    expect(await projects.get(b.id)).toBeNull();
    await expect(projects.remove(b.id)).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});

describe("specs repository", () => {
  it("creates a spec with its chunks in one transaction and reads them back in order", async () => {
    const d = await tempDb();
    t = d;
    const project = await d.repos.projects.create({ name: "p", directory: "/p" });
    const { spec, chunks } = await d.repos.specs.create({
      projectId: project.id,
      title: "Spec",
      content: "# md",
      chunks: [{ id: "c-a", title: "A" }, { title: "B", dependencies: ["c-a"] }, { title: "C" }],
    });
    expect(spec.status).toBe("draft");
    expect(chunks.map((c) => [c.title, c.order])).toEqual([
      ["A", 0],
      ["B", 1],
      ["C", 2],
    ]);
    const read = await d.repos.specs.getWithChunks(spec.id);
    expect(read?.spec).toEqual(spec);
    expect(read?.chunks).toEqual(chunks);
    expect(await d.repos.specs.getWithChunks("missing")).toBeNull();
    expect(await d.repos.specs.listByProject(project.id)).toEqual([spec]);
  });

  it("rejects bad input without writing anything", async () => {
    const d = await tempDb();
    t = d;
    const project = await d.repos.projects.create({ name: "p", directory: "/p" });
    await expect(d.repos.specs.create({ projectId: "nope", title: "x" })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(
      d.repos.specs.create({
        projectId: project.id,
        title: "x",
        chunks: [{ title: "A", dependencies: ["later"] }],
      }),
    ).rejects.toBeInstanceOf(ValidationError);
    const first = await d.repos.specs.create({
      projectId: project.id,
      title: "ok",
      chunks: [{ id: "dup", title: "A" }],
    });
    await expect(
      d.repos.specs.create({
        projectId: project.id,
        title: "clash",
        chunks: [{ id: "dup", title: "B" }],
      }),
    ).rejects.toBeInstanceOf(ConflictError);
    expect(await d.repos.specs.listByProject(project.id)).toEqual([first.spec]);
  });

  it("updates, sets status and removes (cascading to chunks)", async () => {
    const d = await tempDb();
    t = d;
    const project = await d.repos.projects.create({ name: "p", directory: "/p" });
    const { spec } = await d.repos.specs.create({
      projectId: project.id,
      title: "s",
      chunks: [{ title: "a" }],
    });
    expect((await d.repos.specs.update(spec.id, { title: "s2", branch: "feat" })).branch).toBe(
      "feat",
    );
    expect((await d.repos.specs.setStatus(spec.id, "ready")).status).toBe("ready");
    await expect(d.repos.specs.setStatus("missing", "ready")).rejects.toBeInstanceOf(NotFoundError);
    await d.repos.specs.remove(spec.id);
    expect(await d.repos.specs.get(spec.id)).toBeNull();
    expect(await d.repos.chunks.listBySpec(spec.id)).toEqual([]);
  });
});
