import { afterEach, describe, expect, test } from "vitest";
import { FakeLauncher } from "./fake-launcher.ts";
import { type Harness, openHarness, removeDir, waitFor } from "./orchestrator-helpers.ts";

const DAY = 24 * 3600_000;
const open: Harness[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) {
    await h.stop({ force: true }).catch(() => {});
    removeDir(h.dir);
  }
});

async function harness(opts: Parameters<typeof openHarness>[0] = {}) {
  const h = await openHarness({ pool: new FakeLauncher(), ...opts });
  open.push(h);
  return h;
}

/** `n` log events of a made-up worker, `ageMs` old. */
function logs(n: number, ageMs: number, tag: string) {
  const at = Date.now() - ageMs;
  return Array.from({ length: n }, (_, i) => ({
    workerId: "w",
    specId: null,
    type: "log" as const,
    payload: { chunkId: null, level: "info", line: `${tag} ${i}` },
    at,
  }));
}

async function lines(h: Harness): Promise<string[]> {
  const events = await h.orchestrator.events({ limit: 10_000 });
  return events.flatMap((e) => (e.type === "log" ? [e.line] : []));
}

describe("event retention", () => {
  test("deletes events older than the retention at start-up; recent ones stay", async () => {
    // keepEvents below the count, else the newest 100k (all of these) would stay regardless
    const first = await harness({ retentionMs: 7 * DAY, keepEvents: 2 });
    await first.repos.events.append([...logs(30, 8 * DAY, "old"), ...logs(5, 6 * DAY, "recent")]);
    await first.stop();

    // the next start trims at once
    const second = await harness({ dir: first.dir, retentionMs: 7 * DAY, keepEvents: 2 });
    const left = await lines(second);
    expect(left.filter((l) => l.startsWith("old"))).toEqual([]);
    expect(left.filter((l) => l.startsWith("recent"))).toHaveLength(5);
  });

  test("always keeps the newest keepEvents, however old; runs again on demand", async () => {
    const h = await harness({ retentionMs: 7 * DAY, keepEvents: 10 });
    await h.repos.events.append([...logs(25, 30 * DAY, "ancient"), ...logs(4, 9 * DAY, "old")]);
    const before = (await lines(h)).length;
    expect(await h.orchestrator.trimEvents()).toBe(before - 10);
    const left = await lines(h);
    expect(left).toHaveLength(10);
    expect(left.slice(-4)).toEqual(["old 0", "old 1", "old 2", "old 3"]);
    expect(await h.orchestrator.trimEvents()).toBe(0);
  });

  test("runs on its interval", async () => {
    const h = await harness({ retentionMs: DAY, keepEvents: 0, retentionIntervalMs: 100 });
    await h.repos.events.append(logs(3, 2 * DAY, "old"));
    await waitFor("the interval to trim", async () => (await lines(h)).length === 0, {
      timeoutMs: 5000,
    });
  });
});
