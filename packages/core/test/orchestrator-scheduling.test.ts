import { afterEach, describe, expect, test } from "vitest";
import { parseWorkerEvent } from "../src/orchestrator/types.ts";
import { FakeLauncher } from "./fake-launcher.ts";
import { type Harness, makeSpec, openHarness, removeDir, waitFor } from "./orchestrator-helpers.ts";

/**
 * Scheduling, admission, the queue and settings with a fake run launcher over a real temp
 * database: no threads, no agents, so each test takes milliseconds.
 */

const open: Harness[] = [];
async function harness(opts: Parameters<typeof openHarness>[0] = {}) {
  const pool = (opts.pool as FakeLauncher | undefined) ?? new FakeLauncher();
  const h = await openHarness({ maxWorkers: 2, ...opts, pool });
  open.push(h);
  return { h, pool };
}

afterEach(async () => {
  for (const h of open.splice(0)) {
    await h.stop({ force: true }).catch(() => {});
    removeDir(h.dir);
  }
});

/** Every event the orchestrator published passes the strict shared protocol. */
function expectTypedEvents(h: Harness): void {
  for (const e of h.events) expect(parseWorkerEvent(e)).toEqual(e);
}

async function statusOf(h: Harness, specId: string) {
  return (await h.orchestrator.listWorkers({ recent: 50 })).find((w) => w.specId === specId)
    ?.status;
}

describe("orchestrator scheduling (fake launcher)", () => {
  test("starts up to maxWorkers, queues the rest by priority then age, and fills freed slots", async () => {
    const { h, pool } = await harness({ maxWorkers: 2 });
    const s = [];
    for (const name of ["a", "b", "c", "d", "e"]) s.push((await makeSpec(h, name, 1)).spec.id);
    const [a, b, c, d, e] = s as [string, string, string, string, string];
    expect((await h.orchestrator.start(a)).status).toBe("started");
    expect((await h.orchestrator.start(b)).status).toBe("started");
    await h.orchestrator.start(c, 1);
    await h.orchestrator.start(d, 5);
    await h.orchestrator.start(e, 1);
    const queue = await h.orchestrator.listQueue();
    expect(queue.map((q) => q.specId)).toEqual([d, c, e]);
    expect(queue.map((q) => q.position)).toEqual([1, 2, 3]);
    expect(queue.every((q) => q.waitReason === "no_slot")).toBe(true);
    expect(queue[0]?.waitDetail).toBe("all worker slots in use (2/2)");
    expect(pool.runs.map((r) => r.snapshot.spec.id)).toEqual([a, b]);

    pool.runOf(a)?.end({ outcome: "completed" });
    await waitFor("d to start", () => pool.runOf(d));
    expect(await statusOf(h, a)).toBe("completed");
    pool.runOf(b)?.end({ outcome: "completed" });
    await waitFor("c to start", () => pool.runOf(c));
    expect(pool.runOf(e)).toBeUndefined();
    expect((await h.orchestrator.listQueue()).map((q) => q.specId)).toEqual([e]);
    expect(h.orchestrator.activeCount).toBe(2);
    expectTypedEvents(h);
  });

  test("admission: one run per plain project, memory headroom and a paused queue, each with its reason", async () => {
    let free = 8 * 1024 ** 3;
    const { h, pool } = await harness({
      maxWorkers: 5,
      memoryProbe: () => free,
      perRunBytes: 512 * 1024 ** 2,
      reserveBytes: 256 * 1024 ** 2,
    });
    const first = await makeSpec(h, "p", 1);
    // a second spec of the same (non-git) project
    const second = (
      await h.repos.specs.create({
        projectId: first.project.id,
        title: "second",
        chunks: [{ title: "x" }],
      })
    ).spec;
    await h.orchestrator.start(first.spec.id);
    expect((await h.orchestrator.start(second.id)).status).toBe("queued");
    let [item] = await h.orchestrator.listQueue();
    expect(item?.waitReason).toBe("project_busy");
    expect(item?.waitDetail).toBe("project already runs 1 spec (limit 1)");

    free = 600 * 1024 ** 2;
    const other = await makeSpec(h, "q", 1);
    expect((await h.orchestrator.start(other.spec.id)).status).toBe("queued");
    const waiting = await h.orchestrator.listQueue();
    expect(waiting.find((q) => q.specId === other.spec.id)).toMatchObject({
      waitReason: "memory",
      waitDetail: "600 MB available, a run needs 512 MB plus 256 MB reserve",
    });

    free = 8 * 1024 ** 3;
    await h.orchestrator.setQueuePaused(true);
    [item] = (await h.orchestrator.listQueue()).filter((q) => q.specId === other.spec.id);
    expect(item?.waitReason).toBe("paused_queue");
    expect(pool.runOf(other.spec.id)).toBeUndefined();
    await h.orchestrator.setQueuePaused(false);
    await waitFor("q to start once the queue resumes", () => pool.runOf(other.spec.id));
    pool.runOf(first.spec.id)?.end({ outcome: "completed" });
    await waitFor("the project's second spec to start", () => pool.runOf(second.id));
    const settings = h.events.filter((e) => e.type === "settings_updated");
    expect(settings.map((e) => e.type === "settings_updated" && e.queuePaused)).toEqual([
      true,
      false,
    ]);
    expectTypedEvents(h);
  });

  test("maxWorkers changes at run time start queued runs at once and hold across a restart", async () => {
    const { h, pool } = await harness({ maxWorkers: 1 });
    const ids = [];
    for (const n of ["a", "b", "c"]) ids.push((await makeSpec(h, n, 1)).spec.id);
    for (const id of ids) await h.orchestrator.start(id);
    expect(pool.runs).toHaveLength(1);
    await h.orchestrator.setMaxWorkers(3);
    expect(pool.runs).toHaveLength(3);
    await expect(h.orchestrator.setMaxWorkers(0)).rejects.toMatchObject({ code: "BAD_REQUEST" });
    const event = h.events.findLast((e) => e.type === "settings_updated");
    expect(event).toMatchObject({ key: "maxWorkers", maxWorkers: 3, queuePaused: false });
    for (const r of pool.runs) r.end({ outcome: "completed" });
    await waitFor("runs to end", () => h.orchestrator.activeCount === 0);
    await h.stop();

    const again = await harness({ dir: h.dir, maxWorkers: 1 });
    expect(again.h.orchestrator.maxWorkers).toBe(3);
    const changed = await harness({ dir: h.dir, maxWorkers: 2, keepEvents: 1_000_000 });
    expect(changed.h.orchestrator.maxWorkers).toBe(2); // the configured value changed: it wins
  });

  test("reorder, priority and removal publish the whole queue; bad orders are refused", async () => {
    const { h } = await harness({ maxWorkers: 1 });
    await h.orchestrator.start((await makeSpec(h, "busy", 1)).spec.id);
    const ids: string[] = [];
    for (const n of ["q1", "q2", "q3"]) {
      const res = await h.orchestrator.start((await makeSpec(h, n, 1)).spec.id);
      if (res.status !== "queued") throw new Error("expected queued");
      ids.push(res.queueItem.id);
    }
    const mark = h.events.length;
    const reversed = [...ids].reverse();
    expect((await h.orchestrator.reorder(reversed)).map((q) => q.id)).toEqual(reversed);
    const published = h.events.slice(mark).find((e) => e.type === "queue_updated");
    expect(published?.type === "queue_updated" && published.queue.map((q) => q.id)).toEqual(
      reversed,
    );
    expect(published?.type === "queue_updated" && published.payload.queue).toEqual(
      published?.type === "queue_updated" && published.queue,
    );
    // the move changed as few priorities as it needed: none, all were equal
    expect((await h.orchestrator.listQueue()).map((q) => q.priority)).toEqual([0, 0, 0]);
    await expect(h.orchestrator.reorder(ids.slice(1))).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
    expect((await h.orchestrator.setPriority(ids[0] as string, 9)).position).toBe(1);
    await expect(h.orchestrator.setPriority("nope", 1)).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    await h.orchestrator.removeFromQueue(ids[1] as string);
    await expect(h.orchestrator.removeFromQueue(ids[1] as string)).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    expect((await h.orchestrator.listQueue()).map((q) => q.id)).toEqual([ids[0], ids[2]]);
    expectTypedEvents(h);
  });

  test("a failed run fails its worker and spec with the error; a stopped one frees its slot", async () => {
    const { h, pool } = await harness({ maxWorkers: 2 });
    const bad = await makeSpec(h, "bad", 2);
    const stop = await makeSpec(h, "stop", 1);
    await h.orchestrator.start(bad.spec.id);
    const started = await h.orchestrator.start(stop.spec.id);
    if (started.status !== "started") throw new Error("expected a start");
    pool.runOf(bad.spec.id)?.end({ outcome: "failed", error: 'chunk "one" failed: exit 3' });
    await waitFor("bad to fail", async () => (await statusOf(h, bad.spec.id)) === "failed");
    const failed = h.events.find((e) => e.type === "worker_failed");
    expect(failed?.type === "worker_failed" && failed.error).toBe('chunk "one" failed: exit 3');
    expect(failed?.type === "worker_failed" && failed.worker.status).toBe("failed");
    expect((await h.repos.specs.get(bad.spec.id))?.status).toBe("failed");

    const stopped = await h.orchestrator.stop(started.worker.id);
    expect(stopped.status).toBe("stopped");
    expect(pool.runOf(stop.spec.id)?.aborted).toBe("stopped by user");
    const ev = h.events.find((e) => e.type === "worker_stopped");
    expect(ev?.type === "worker_stopped" && ev.reason).toBe("stopped by user");
    expect((await h.repos.specs.get(stop.spec.id))?.status).toBe("ready");
    expect(h.orchestrator.activeCount).toBe(0);
    expectTypedEvents(h);
  });

  test("pause and resume are acknowledged by the thread and published with the worker's view", async () => {
    const { h } = await harness();
    const s = await makeSpec(h, "p", 1);
    const started = await h.orchestrator.start(s.spec.id);
    if (started.status !== "started") throw new Error("expected a start");
    expect((await h.orchestrator.pause(started.worker.id)).status).toBe("paused");
    expect((await h.orchestrator.resume(started.worker.id)).status).toBe("running");
    const acks = h.events.filter((e) => e.type === "worker_paused" || e.type === "worker_resumed");
    expect(acks.map((e) => [e.type, "worker" in e ? e.worker.status : null])).toEqual([
      ["worker_paused", "paused"],
      ["worker_resumed", "running"],
    ]);
    expectTypedEvents(h);
  });

  test("close runs every cleanup step and reports each one that fails", async () => {
    const pool = new FakeLauncher();
    const logged: string[] = [];
    const { h } = await harness({ pool, log: (_level, msg) => logged.push(msg) });
    await h.orchestrator.start((await makeSpec(h, "x", 1)).spec.id);
    pool.abortThrows = true;
    pool.closeThrows = true;
    const failures = await h.orchestrator.close({ timeoutMs: 200 });
    expect(failures.map((f) => f.step)).toEqual([
      expect.stringMatching(/^abort worker /),
      "checkpoint the running workers",
      "close the thread pool",
    ]);
    expect(failures[1]?.error.message).toMatch(/did not stop within 200 ms/);
    expect(logged.filter((m) => m.startsWith("shutdown: could not"))).toHaveLength(3);
    expect(pool.closed).toBe(true);
    expect(await h.orchestrator.close()).toBe(failures); // idempotent
  });

  test("a gateway hold (quota) shows on every running run and keeps the queue from starting more", async () => {
    const { h, pool } = await harness({ maxWorkers: 1 });
    const a = await makeSpec(h, "a", 1);
    const b = await makeSpec(h, "b", 1);
    const started = await h.orchestrator.start(a.spec.id);
    if (started.status !== "started") throw new Error("expected a start");
    const until = Date.now() + 3600_000;
    await h.orchestrator.setGatewayHold({ until, reason: "Usage limit reached for 5 hour" });
    const hhmm = new Date(until).toTimeString().slice(0, 5);
    await waitFor("the step detail", async () =>
      (await h.orchestrator.getWorker(started.worker.id)).stepDetail?.includes(hhmm),
    );
    expect((await h.orchestrator.getWorker(started.worker.id)).stepDetail).toBe(
      `waiting for quota until ${hhmm}`,
    );
    // a free slot does not start b while the hold lasts
    pool.runOf(a.spec.id)?.end({ outcome: "completed" });
    await waitFor("a to end", () => h.orchestrator.activeCount === 0);
    await h.orchestrator.start(b.spec.id);
    expect(pool.runOf(b.spec.id)).toBeUndefined();
    expect((await h.orchestrator.listQueue())[0]).toMatchObject({
      waitReason: "quota",
      waitDetail: `waiting for quota until ${hhmm}`,
    });
    await h.orchestrator.setGatewayHold(null);
    await waitFor("b to start after the hold", () => pool.runOf(b.spec.id));
    expectTypedEvents(h);
  });

  test("a refused key holds the queue with its reason until the user resumes it", async () => {
    const { h, pool } = await harness({ maxWorkers: 2 });
    const a = await makeSpec(h, "a", 1);
    await h.orchestrator.holdQueue("the upstream refused the key or plan (401): bad key");
    expect(h.orchestrator.queuePaused).toBe(true);
    expect(h.orchestrator.queueHoldReason).toMatch(/refused the key/);
    await h.orchestrator.start(a.spec.id);
    expect(pool.runOf(a.spec.id)).toBeUndefined();
    const held = h.events.findLast((e) => e.type === "queue_updated");
    expect(held?.type === "queue_updated" && held.holdReason).toMatch(/refused the key/);
    await h.orchestrator.setQueuePaused(false);
    expect(h.orchestrator.queueHoldReason).toBeNull();
    await waitFor("a to start", () => pool.runOf(a.spec.id));
    const resumed = h.events.findLast((e) => e.type === "queue_updated");
    expect(resumed?.type === "queue_updated" && resumed.holdReason).toBeNull();
    expectTypedEvents(h);
  });
});
