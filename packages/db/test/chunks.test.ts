import { afterEach, describe, expect, it } from "vitest";
import { ConflictError, NotFoundError, ValidationError } from "../src/errors.ts";
import { applyChunkPatch } from "../src/repositories/chunks.ts";
import { seedSpec, type TempDb, tempDb } from "./helpers.ts";

let t: TempDb | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
});

async function setup(n = 3) {
  const d = await tempDb();
  t = d;
  return { d, ...(await seedSpec(d.repos, n)) };
}

const titles = (rows: { title: string; order: number }[]) =>
  rows.map((c) => `${c.order}:${c.title}`);

describe("chunks repository", () => {
  it("appends new chunks at the end and updates them", async () => {
    const { d, spec, chunks } = await setup(2);
    const c = await d.repos.chunks.create(spec.id, {
      title: "new",
      dependencies: [chunks[0]?.id ?? ""],
    });
    expect(c.order).toBe(2);
    expect(titles(await d.repos.chunks.listBySpec(spec.id))).toEqual(["0:c0", "1:c1", "2:new"]);
    const updated = await d.repos.chunks.update(c.id, { title: "renamed", description: "d" });
    expect(updated).toMatchObject({ title: "renamed", description: "d", order: 2 });
    expect(await d.repos.chunks.get(c.id)).toEqual(updated);
    await expect(d.repos.chunks.update(c.id, { dependencies: ["ghost"] })).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(d.repos.chunks.update(c.id, { dependencies: [c.id] })).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(d.repos.chunks.create("missing", { title: "x" })).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });

  it("first chunk of an empty spec gets order 0", async () => {
    const { d, spec } = await setup(0);
    expect((await d.repos.chunks.create(spec.id, { title: "only" })).order).toBe(0);
  });

  it("remove renumbers the remaining chunks and drops the dependency", async () => {
    const { d, spec, chunks } = await setup(4);
    const [c0, c1, c2] = chunks;
    await d.repos.chunks.update(c2?.id ?? "", { dependencies: [c1?.id ?? "", c0?.id ?? ""] });
    await d.repos.chunks.remove(c1?.id ?? "");
    const rest = await d.repos.chunks.listBySpec(spec.id);
    expect(titles(rest)).toEqual(["0:c0", "1:c2", "2:c3"]);
    expect(rest[1]?.dependencies).toEqual([c0?.id]);
    await expect(d.repos.chunks.remove(c1?.id ?? "")).rejects.toBeInstanceOf(NotFoundError);
  });

  it("reorder accepts exactly the spec's chunk ids", async () => {
    const { d, spec, chunks } = await setup(3);
    const ids = chunks.map((c) => c.id);
    const [a = "", b = "", c = ""] = ids;
    const result = await d.repos.chunks.reorder(spec.id, [c, a, b]);
    expect(titles(result)).toEqual(["0:c2", "1:c0", "2:c1"]);
    for (const bad of [
      [a, b],
      [a, b, c, "x"],
      [a, a, b],
      [a, b, "x"],
    ]) {
      await expect(d.repos.chunks.reorder(spec.id, bad)).rejects.toBeInstanceOf(ValidationError);
    }
    await expect(d.repos.chunks.reorder(spec.id, [a, b, c, c])).rejects.toMatchObject({
      code: "VALIDATION",
    });
    expect(titles(await d.repos.chunks.listBySpec(spec.id))).toEqual(["0:c2", "1:c0", "2:c1"]);
  });

  it("insertAfter shifts the following chunks (fix chunks)", async () => {
    const { d, spec, chunks } = await setup(3);
    const fix = await d.repos.chunks.insertAfter(chunks[0]?.id ?? "", {
      title: "fix",
      fixOf: chunks[0]?.id,
    });
    expect(fix).toMatchObject({ order: 1, fixOf: chunks[0]?.id, status: "pending" });
    expect(titles(await d.repos.chunks.listBySpec(spec.id))).toEqual([
      "0:c0",
      "1:fix",
      "2:c1",
      "3:c2",
    ]);
    const last = await d.repos.chunks.insertAfter(chunks[2]?.id ?? "", { title: "end" });
    expect(last.order).toBe(4);
    await expect(d.repos.chunks.insertAfter("missing", { title: "x" })).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });

  it("applyPatch and resetRunning serve the run engine; edits are refused while the spec runs", async () => {
    const { d, spec, chunks } = await setup(2);
    const id = chunks[0]?.id ?? "";
    await d.repos.specs.setStatus(spec.id, "running");
    const patched = await d.repos.chunks.applyPatch({ id, status: "running", startedAt: 5 });
    expect(patched).toMatchObject({ status: "running", startedAt: 5, title: "c0" });
    await expect(
      d.repos.chunks.applyPatch({ id: "missing", status: "failed" }),
    ).rejects.toBeInstanceOf(NotFoundError);
    await expect(d.repos.chunks.update(id, { title: "x" })).rejects.toBeInstanceOf(ConflictError);
    await expect(d.repos.chunks.create(spec.id, { title: "x" })).rejects.toBeInstanceOf(
      ConflictError,
    );
    expect(await d.repos.chunks.resetRunning(spec.id)).toBe(1);
    expect(await d.repos.chunks.get(id)).toMatchObject({ status: "pending", startedAt: null });
  });

  it("applyChunkPatch touches only a chunk of the given spec and returns null for a missing one", async () => {
    const { d, spec, chunks } = await setup(1);
    const other = await seedSpec(d.repos, 1);
    const id = chunks[0]?.id ?? "";
    const apply = (patch: Parameters<typeof applyChunkPatch>[1], specId?: string) =>
      d.database.write((tx) => applyChunkPatch(tx, patch, specId));
    expect(await apply({ id, outputSummary: "done" }, spec.id)).toMatchObject({
      id,
      outputSummary: "done",
    });
    expect(await apply({ id, title: "x" }, other.spec.id)).toBeNull();
    expect(await apply({ id: "missing", title: "x" })).toBeNull();
    expect(await apply({ id: "missing" })).toBeNull();
    expect(await apply({ id }, spec.id)).toMatchObject({ id, title: "c0" });
    expect(await apply({ id, title: "renamed" })).toMatchObject({ title: "renamed" });
  });
});
