import { afterEach, describe, expect, test } from "vitest";
import { FakeLauncher } from "./fake-launcher.ts";
import { type Harness, makeSpec, openHarness, removeDir, waitFor } from "./orchestrator-helpers.ts";

/** The model of a run: resolved at claim, recorded on the worker, handed to its thread. */

const open: Harness[] = [];
async function harness(model: string, opts: Parameters<typeof openHarness>[0] = {}) {
  const pool = new FakeLauncher();
  const h = await openHarness({
    maxWorkers: 1,
    ...opts,
    pool,
    executor: { kind: "simulated", simulatedChunkMs: 10, env: {}, model },
  });
  open.push(h);
  return { h, pool };
}

afterEach(async () => {
  for (const h of open.splice(0)) {
    await h.stop({ force: true }).catch(() => {});
    removeDir(h.dir);
  }
});

describe("orchestrator: the run's model", () => {
  test("start override, else the spec's model, else the server default; queued items keep theirs", async () => {
    const { h, pool } = await harness("zai/glm-4.7");
    const plain = (await makeSpec(h, "plain", 1)).spec;
    const own = (await makeSpec(h, "own", 1)).spec;
    await h.repos.specs.update(own.id, { model: "zai/glm-4.6" });
    const over = (await makeSpec(h, "over", 1)).spec;
    await h.repos.specs.update(over.id, { model: "zai/glm-4.6" });

    const first = await h.orchestrator.start(plain.id);
    expect(first.status === "started" && first.worker.model).toBe("zai/glm-4.7");
    expect(pool.runOf(plain.id)?.snapshot.executor.model).toBe("zai/glm-4.7");

    // one slot: both wait in the queue, the override with them
    const queued = await h.orchestrator.start(over.id, 0, "zai/glm-4.5-air");
    expect(queued.status === "queued" && queued.queueItem.model).toBe("zai/glm-4.5-air");
    const second = await h.orchestrator.enqueue(own.id, -1);
    expect(second.model).toBeNull();

    pool.runOf(plain.id)?.end({ outcome: "completed" });
    await waitFor("the override run", () => pool.runOf(over.id));
    expect(pool.runOf(over.id)?.snapshot.executor.model).toBe("zai/glm-4.5-air");
    expect((await h.orchestrator.listWorkers()).find((w) => w.specId === over.id)?.model).toBe(
      "zai/glm-4.5-air",
    );
    pool.runOf(over.id)?.end({ outcome: "completed" });
    await waitFor("the spec-model run", () => pool.runOf(own.id));
    expect(pool.runOf(own.id)?.snapshot.executor.model).toBe("zai/glm-4.6");
    expect(pool.runOf(own.id)?.snapshot.executor.kind).toBe("simulated");
  });

  test("after a restart the run goes on with the model it recorded, not the new default", async () => {
    const { h } = await harness("zai/glm-4.7");
    const { spec } = await makeSpec(h, "a", 2);
    const started = await h.orchestrator.start(spec.id, 0, "zai/glm-4.6");
    expect(started.status).toBe("started");
    await h.stop();

    const again = await harness("zai/glm-5", { dir: h.dir });
    await waitFor("the recovered run", () => again.pool.runOf(spec.id));
    expect(again.pool.runOf(spec.id)?.snapshot.executor.model).toBe("zai/glm-4.6");
  });
});
