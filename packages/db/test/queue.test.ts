import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { ConflictError, NotFoundError, ValidationError } from "../src/errors.ts";
import { chunks as chunksTable } from "../src/schema.ts";
import { type TempDb, tempDb } from "./helpers.ts";

let t: TempDb | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
});

async function setup(n: number) {
  const d = await tempDb();
  t = d;
  const project = await d.repos.projects.create({ name: "p", directory: "/p" });
  const specs = [];
  for (let i = 0; i < n; i++) {
    specs.push(
      (
        await d.repos.specs.create({
          projectId: project.id,
          title: `s${i}`,
          chunks: [{ title: "c" }],
        })
      ).spec,
    );
  }
  return { d, project, specs };
}

describe("queue repository", () => {
  it("orders by priority desc, then time added; refuses duplicates", async () => {
    const { d, specs } = await setup(4);
    const q = d.repos.queue;
    const [s0, s1, s2, s3] = specs.map((s) => s.id);
    const a = await q.add({ specId: s0 ?? "" });
    await new Promise((r) => setTimeout(r, 2));
    const b = await q.add({ specId: s1 ?? "", priority: 5 });
    await new Promise((r) => setTimeout(r, 2));
    const c = await q.add({ specId: s2 ?? "" });
    expect((await q.list()).map((i) => i.id)).toEqual([b.id, a.id, c.id]);
    await expect(q.add({ specId: s0 ?? "" })).rejects.toBeInstanceOf(ConflictError);
    await expect(q.add({ specId: "missing" })).rejects.toBeInstanceOf(NotFoundError);
    expect((await q.getBySpec(s1 ?? ""))?.id).toBe(b.id);
    expect(await q.getBySpec(s3 ?? "")).toBeNull();

    await q.setPriority(c.id, 10);
    expect((await q.list()).map((i) => i.id)).toEqual([c.id, b.id, a.id]);
    expect(await q.setWaitReason(a.id, "no_slot")).toBe(true);
    expect((await q.get(a.id))?.waitReason).toBe("no_slot");
    expect(await q.setWaitReason("missing", null)).toBe(false);

    await q.remove(b.id);
    expect((await q.list()).map((i) => i.id)).toEqual([c.id, a.id]);
    await expect(q.remove(b.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(q.setPriority(b.id, 1)).rejects.toBeInstanceOf(NotFoundError);
  });

  it("reorder makes the given full order hold and keeps the priority values", async () => {
    const { d, specs } = await setup(4);
    const q = d.repos.queue;
    const items = [];
    for (const [i, s] of specs.entries())
      items.push(await q.add({ specId: s.id, priority: i === 3 ? 7 : 0 }));
    const [a, b, c, hi] = items.map((i) => i.id) as [string, string, string, string];
    expect((await q.list()).map((i) => i.id)).toEqual([hi, a, b, c]);
    const wanted = [c, a, hi, b];
    const result = await q.reorder(wanted);
    expect(result.map((i) => i.id)).toEqual(wanted);
    expect((await q.list()).map((i) => i.id)).toEqual(wanted);
    expect(result.map((i) => i.priority).sort()).toEqual([0, 0, 0, 7]);
    await expect(q.reorder([a, b, c])).rejects.toBeInstanceOf(ValidationError);
    await expect(q.reorder([a, b, c, c])).rejects.toBeInstanceOf(ValidationError);
    await expect(q.reorder([a, b, c, hi, "x"])).rejects.toBeInstanceOf(ValidationError);
  });

  it("claimNext removes the first admitted item and creates its worker in one transaction", async () => {
    const { d, project, specs } = await setup(3);
    const q = d.repos.queue;
    const [s0, s1, s2] = specs.map((s) => s.id) as [string, string, string];
    const i0 = await q.add({ specId: s0, priority: 2 });
    const i1 = await q.add({ specId: s1, priority: 1 });
    const i2 = await q.add({ specId: s2, priority: 0 });

    const claimed = await q.claimNext({
      accept: (item) => item.id !== i0.id, // e.g. admission says "project busy" for the first
      worker: { executor: "simulated", leaseOwner: "me", leaseExpiresAt: 99 },
      prepare: async (tx, c) => {
        await tx
          .update(chunksTable)
          .set({ status: "failed" })
          .where(eq(chunksTable.specId, c.item.specId));
      },
    });
    expect(claimed?.item.id).toBe(i1.id);
    expect(claimed?.worker).toMatchObject({
      specId: s1,
      projectId: project.id,
      status: "running",
      leaseOwner: "me",
    });
    expect((await q.list()).map((i) => i.id)).toEqual([i0.id, i2.id]);
    expect((await d.repos.specs.get(s1))?.status).toBe("running");
    expect((await d.repos.chunks.listBySpec(s1))[0]?.status).toBe("failed");

    // a spec with an active worker is never claimed twice
    await d.repos.workers.create({ specId: s0, projectId: project.id, status: "paused" });
    expect(await q.claim(i0.id)).toBeNull();
    expect(await q.get(i0.id)).not.toBeNull();
    expect((await q.claimNext())?.item.id).toBe(i2.id);
    expect(await q.claimNext()).toBeNull();
    expect(await q.claim("missing")).toBeNull();
  });

  it("a failing prepare step leaves the item queued and no worker behind", async () => {
    const { d, specs } = await setup(1);
    const q = d.repos.queue;
    const item = await q.add({ specId: specs[0]?.id ?? "" });
    await expect(
      q.claim(item.id, {
        prepare: async () => {
          throw new Error("launch prep failed");
        },
      }),
    ).rejects.toThrow("launch prep failed");
    expect(await q.get(item.id)).not.toBeNull();
    expect(await d.repos.workers.list()).toEqual([]);
    expect((await d.repos.specs.get(specs[0]?.id ?? ""))?.status).toBe("draft");
  });
});
