import { afterEach, describe, expect, it } from "vitest";
import { NotFoundError } from "../src/errors.ts";
import { seedSpec, type TempDb, tempDb } from "./helpers.ts";

let t: TempDb | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
});

describe("workers repository", () => {
  it("creates, lists, transitions conditionally and keeps leases", async () => {
    const d = await tempDb();
    t = d;
    const { project, spec } = await seedSpec(d.repos, 1);
    const { workers } = d.repos;
    const w1 = await workers.create({
      specId: spec.id,
      projectId: project.id,
      status: "running",
      leaseExpiresAt: 100,
    });
    const w2 = await workers.create({
      specId: spec.id,
      projectId: project.id,
      executor: "opencode",
    });
    const w3 = await workers.create({
      specId: spec.id,
      projectId: project.id,
      status: "completed",
    });
    expect(w2).toMatchObject({ status: "idle", executor: "opencode", progressCurrent: 0 });
    expect(await workers.get(w1.id)).toEqual(w1);
    expect((await workers.list()).map((w) => w.id).sort()).toEqual([w1.id, w2.id, w3.id].sort());
    expect((await workers.list({ status: "completed" })).map((w) => w.id)).toEqual([w3.id]);
    expect(await workers.list({ status: ["running", "idle"], limit: 1 })).toHaveLength(1);
    expect((await workers.listActive()).map((w) => w.id).sort()).toEqual([w1.id, w2.id].sort());
    expect((await workers.activeForSpec(spec.id))?.id).toBeDefined();

    expect(await workers.transition(w1.id, ["running"], { status: "paused" })).toBe(true);
    expect(await workers.transition(w1.id, ["running"], { status: "stopped" })).toBe(false);
    expect((await workers.get(w1.id))?.status).toBe("paused");
    expect(await workers.transition(w1.id, [], { status: "stopped" })).toBe(false);

    const updated = await workers.update(w2.id, {
      status: "running",
      currentStep: "executing",
      progressTotal: 4,
    });
    expect(updated).toMatchObject({
      status: "running",
      currentStep: "executing",
      progressTotal: 4,
    });
    await expect(workers.update("missing", { status: "failed" })).rejects.toBeInstanceOf(
      NotFoundError,
    );

    // w2 running without a lease, w1 paused: only w2 counts as expired-running
    expect((await workers.findExpiredRunning(1000)).map((w) => w.id)).toEqual([w2.id]);
    expect(await workers.heartbeat([w2.id, "missing"], "me", 5000)).toBe(1);
    expect(await workers.heartbeat([], "me", 5000)).toBe(0);
    expect(await workers.get(w2.id)).toMatchObject({ leaseOwner: "me", leaseExpiresAt: 5000 });
    expect(await workers.findExpiredRunning(1000)).toEqual([]);
    expect((await workers.findExpiredRunning(6000)).map((w) => w.id)).toEqual([w2.id]);

    await workers.remove(w3.id);
    expect(await workers.get(w3.id)).toBeNull();
  });
});

describe("settings repository", () => {
  it("stores JSON values by key", async () => {
    const d = await tempDb();
    t = d;
    const { settings } = d.repos;
    expect(await settings.get("maxWorkers")).toBeUndefined();
    await settings.set("maxWorkers", 5);
    await settings.set("model", { id: "glm-4.7", temp: 0.2 });
    await settings.set("maxWorkers", 8);
    expect(await settings.get("maxWorkers")).toBe(8);
    expect(await settings.all()).toEqual({ maxWorkers: 8, model: { id: "glm-4.7", temp: 0.2 } });
    expect(await settings.remove("model")).toBe(true);
    expect(await settings.remove("model")).toBe(false);
    await d.reopen();
    expect(await d.repos.settings.all()).toEqual({ maxWorkers: 8 });
  });
});
