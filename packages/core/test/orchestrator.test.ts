import { afterEach, describe, expect, test } from "vitest";
import { OrchestratorError } from "../src/errors.ts";
import { type Harness, makeSpec, openHarness, removeDir, waitFor } from "./orchestrator-helpers.ts";

const harnesses: Harness[] = [];
async function harness(opts: Parameters<typeof openHarness>[0] = {}) {
  const h = await openHarness(opts);
  harnesses.push(h);
  return h;
}

afterEach(async () => {
  for (const h of harnesses.splice(0)) {
    await h.stop({ force: true }).catch(() => {});
    removeDir(h.dir);
  }
});

async function workerOf(h: Harness, specId: string) {
  const list = await h.orchestrator.listWorkers({ recent: 50 });
  return list.find((w) => w.specId === specId);
}

async function finished(h: Harness, specId: string) {
  return waitFor(`spec ${specId} to finish`, async () => {
    const w = await workerOf(h, specId);
    return w && ["completed", "failed", "stopped"].includes(w.status) ? w : null;
  });
}

describe("orchestrator", { timeout: 120_000 }, () => {
  test("runs two specs at once, queues the rest in priority order and starts them as slots free", async () => {
    const h = await harness({ maxWorkers: 2, chunkMs: 500 });
    const specs = [];
    for (const name of ["a", "b", "c", "d"]) specs.push(await makeSpec(h, name, 2));
    const [a, b, c, d] = specs.map((s) => s.spec.id) as [string, string, string, string];

    expect((await h.orchestrator.start(a)).status).toBe("started");
    expect((await h.orchestrator.start(b)).status).toBe("started");
    const qc = await h.orchestrator.start(c, 1);
    const qd = await h.orchestrator.start(d, 5);
    expect(qc.status).toBe("queued");
    expect(qd.status).toBe("queued");
    const queue = await h.orchestrator.listQueue();
    expect(queue.map((q) => q.specId)).toEqual([d, c]); // priority desc
    expect(queue[0]?.waitReason).toBe("no_slot");
    expect(h.orchestrator.activeCount).toBe(2);

    // a spec that is running or queued cannot start again
    await expect(h.orchestrator.start(a)).rejects.toMatchObject({ code: "CONFLICT" });
    await expect(h.orchestrator.start(c)).rejects.toMatchObject({ code: "CONFLICT" });
    await expect(h.orchestrator.start("nope")).rejects.toBeInstanceOf(OrchestratorError);

    const done = await Promise.all([a, b, c, d].map((id) => finished(h, id)));
    expect(done.map((w) => w.status)).toEqual(["completed", "completed", "completed", "completed"]);
    // the first two really overlapped in time
    const [wa, wb] = done as [(typeof done)[0], (typeof done)[0]];
    expect(wa.startedAt).not.toBeNull();
    expect(Math.max(wa.startedAt ?? 0, wb.startedAt ?? 0)).toBeLessThan(
      Math.min(wa.finishedAt ?? 0, wb.finishedAt ?? 0),
    );
    // d (priority 5) started before c (priority 1)
    const wc = done[2];
    const wd = done[3];
    expect(wd?.startedAt ?? 0).toBeLessThanOrEqual(wc?.startedAt ?? 0);
    for (const s of specs) {
      const rows = await h.repos.chunks.listBySpec(s.spec.id);
      expect(rows.every((r) => r.status === "completed")).toBe(true);
    }
    expect(await h.orchestrator.listQueue()).toEqual([]);
    const types = new Set(h.events.map((e) => e.type));
    for (const t of [
      "worker_started",
      "worker_progress",
      "worker_completed",
      "queue_updated",
      "log",
    ]) {
      expect(types.has(t as never)).toBe(true);
    }
  });

  test("stop frees the slot and the next queued spec starts by itself", async () => {
    const h = await harness({ maxWorkers: 1, chunkMs: 3000 });
    const one = await makeSpec(h, "one", 2);
    const two = await makeSpec(h, "two", 1);
    const started = await h.orchestrator.start(one.spec.id);
    expect(started.status).toBe("started");
    expect((await h.orchestrator.start(two.spec.id)).status).toBe("queued");
    if (started.status !== "started") return;
    const stopped = await h.orchestrator.stop(started.worker.id);
    expect(stopped.status).toBe("stopped");
    await waitFor(
      "queued spec to start",
      async () => (await workerOf(h, two.spec.id))?.status === "running",
    );
    const chunks = await h.repos.chunks.listBySpec(one.spec.id);
    expect(chunks.some((c) => c.status === "running")).toBe(false);
    await expect(h.orchestrator.pause(started.worker.id)).rejects.toMatchObject({
      code: "CONFLICT",
    });
  });

  test("pause holds all progress until resume, then the run completes", async () => {
    const h = await harness({ maxWorkers: 2, chunkMs: 1500 });
    const s = await makeSpec(h, "p", 2);
    const started = await h.orchestrator.start(s.spec.id);
    if (started.status !== "started") throw new Error("expected a start");
    await waitFor("some log output", () =>
      h.events.some((e) => e.type === "log" && e.workerId === started.worker.id),
    );
    const paused = await h.orchestrator.pause(started.worker.id);
    expect(paused.status).toBe("paused");
    const mark = h.events.length;
    await new Promise((r) => setTimeout(r, 1200));
    const during = h.events.slice(mark).filter((e) => e.workerId === started.worker.id);
    expect(during.filter((e) => e.type === "log" || e.type === "worker_progress")).toEqual([]);
    expect((await h.orchestrator.getWorker(started.worker.id)).status).toBe("paused");
    const resumed = await h.orchestrator.resume(started.worker.id);
    expect(resumed.status).toBe("running");
    expect((await finished(h, s.spec.id)).status).toBe("completed");
  });

  test("a graceful restart resumes interrupted runs from their first unfinished chunk; paused stay paused", async () => {
    const first = await openHarness({ maxWorkers: 2, chunkMs: 700 });
    const dir = first.dir;
    const run = await makeSpec(first, "run", 3);
    const hold = await makeSpec(first, "hold", 2);
    const r = await first.orchestrator.start(run.spec.id);
    const p = await first.orchestrator.start(hold.spec.id);
    if (r.status !== "started" || p.status !== "started") throw new Error("expected two starts");
    await first.orchestrator.pause(p.worker.id);
    await waitFor("first chunk of run to complete", async () =>
      (await first.repos.chunks.listBySpec(run.spec.id)).some((c) => c.status === "completed"),
    );
    await first.stop();

    const second = await harness({ dir, maxWorkers: 2, chunkMs: 300 });
    expect((await second.orchestrator.getWorker(p.worker.id)).status).toBe("paused");
    const done = await finished(second, run.spec.id);
    expect(done.status).toBe("completed");
    expect(done.id).toBe(r.worker.id);
    const chunks = await second.repos.chunks.listBySpec(run.spec.id);
    expect(chunks.map((c) => c.status)).toEqual(["completed", "completed", "completed"]);
    // the paused one did not move, and resumes correctly later
    expect((await second.orchestrator.getWorker(p.worker.id)).status).toBe("paused");
    await second.orchestrator.resume(p.worker.id);
    expect((await finished(second, hold.spec.id)).status).toBe("completed");
  });

  test("queue reorder, priority and removal are validated and persisted", async () => {
    const h = await harness({ maxWorkers: 1, chunkMs: 4000 });
    const busy = await makeSpec(h, "busy", 1);
    await h.orchestrator.start(busy.spec.id);
    const ids: string[] = [];
    for (const name of ["q1", "q2", "q3"]) {
      const s = await makeSpec(h, name, 1);
      const res = await h.orchestrator.start(s.spec.id);
      if (res.status !== "queued") throw new Error("expected queued");
      ids.push(res.queueItem.id);
    }
    const reversed = [...ids].reverse();
    const after = await h.orchestrator.reorder(reversed);
    expect(after.map((q) => q.id)).toEqual(reversed);
    await expect(h.orchestrator.reorder(ids.slice(1))).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
    await expect(h.orchestrator.reorder([...ids, "x"])).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
    const bumped = await h.orchestrator.setPriority(ids[0] as string, 100);
    expect(bumped.position).toBe(1);
    await h.orchestrator.removeFromQueue(ids[1] as string);
    await expect(h.orchestrator.removeFromQueue(ids[1] as string)).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    expect((await h.orchestrator.listQueue()).map((q) => q.id)).toEqual([ids[0], ids[2]]);
  });
});
