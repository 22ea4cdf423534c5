import { readFileSync } from "node:fs";
import { join } from "node:path";
import { descendants } from "@glm-workers/core";
import {
  type FakeGlm,
  glmQuotaMessage,
  removeDir,
  startFakeGlm,
  tempDir,
  waitFor,
} from "@glm-workers/core/testkit";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { cmdline, gitProject } from "./agent-helpers.ts";
import { api, type ServerProcess, startServerProcess } from "./process-helpers.ts";

/**
 * The GLM gateway end to end: a server process with EXECUTOR=opencode and GLM_CONCURRENCY=1,
 * real opencode agents, and the fake GLM as a 1-request plan (a second request in flight with
 * the same key gets 429/1302) on 127.0.0.1. One fake and one server for the file.
 */

const KEY = "the-real-glm-key-0123456789";
let fake: FakeGlm;
let server: ServerProcess;
let dir: string;

type Usage = {
  inputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  cacheReadTokens: number;
  requests: number;
  costUsd: number | null;
};
type Worker = {
  id: string;
  status: string;
  error: string | null;
  stepDetail: string | null;
  usage: Usage;
};

async function spec(name: string, chunks = 1): Promise<string> {
  const project = await api<{ id: string }>(server.url, "POST", "/api/projects", {
    name,
    directory: gitProject(dir, name),
  });
  const created = await api<{ spec?: { id: string }; id?: string }>(
    server.url,
    "POST",
    `/api/projects/${project.json.id}/specs`,
    {
      title: `Spec ${name}`,
      content: `# ${name}`,
      chunks: Array.from({ length: chunks }, (_, i) => ({
        title: `${name} ${i + 1}`,
        description: "Write the file.",
      })),
    },
  );
  expect(created.status).toBe(201);
  return (created.json.spec?.id ?? created.json.id) as string;
}

async function start(specId: string): Promise<string> {
  const res = await api<{ worker?: Worker; queueItem?: { id: string } }>(
    server.url,
    "POST",
    "/api/workers",
    { specId },
  );
  expect([201, 202]).toContain(res.status);
  return res.json.worker?.id ?? "";
}

async function workerOfSpec(specId: string): Promise<Worker | undefined> {
  const list = await api<{ workers: Array<Worker & { specId: string }> }>(
    server.url,
    "GET",
    "/api/workers",
  );
  return list.json.workers.find((w) => w.specId === specId);
}

async function finished(specId: string, timeoutMs = 150_000): Promise<Worker> {
  return waitFor(
    `spec ${specId} to finish`,
    async () => {
      const w = await workerOfSpec(specId);
      return w && ["completed", "failed", "stopped"].includes(w.status) ? w : null;
    },
    { timeoutMs, intervalMs: 200 },
  );
}

function environ(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/environ`, "utf8");
  } catch {
    return "";
  }
}

beforeAll(async () => {
  dir = tempDir("gateway-agent");
  fake = await startFakeGlm({ apiKey: KEY, maxInFlight: 1 });
  server = await startServerProcess({
    DATABASE_URL: `file:${join(dir, "glm.db")}`,
    EXECUTOR: "opencode",
    GLM_API_KEY: KEY,
    GLM_BASE_URL: fake.url,
    GLM_CONCURRENCY: "1",
    GLM_QUOTA_WAIT_MS: "3000",
    MAX_WORKERS: "4",
    LOG_LEVEL: "info",
  });
}, 60_000);

afterAll(async () => {
  await server?.stop("SIGTERM");
  await fake?.close();
  removeDir(dir);
});

describe("the GLM gateway (real opencode agents, a 1-request fake plan)", () => {
  test("4 runs at once on one request in flight: never 2 upstream, never a 429, all complete; the key stays in the server; usage adds up", async () => {
    const before = fake.requests.length;
    fake.resetMaxInFlight();
    const specs = await Promise.all(["a", "b", "c", "d"].map((n) => spec(`four-${n}`)));
    for (const s of specs) await start(s);
    // while they run: no agent process has the key in its environment or config
    const leaks = new Set<number>();
    const seen = new Set<number>();
    const watch = setInterval(() => {
      for (const root of descendants(server.proc.pid ?? -1)) {
        if (!/opencode/.test(cmdline(root))) continue;
        for (const pid of descendants(root)) {
          seen.add(pid);
          if (environ(pid).includes(KEY)) leaks.add(pid);
        }
      }
    }, 100);
    const done = await Promise.all(specs.map((s) => finished(s))).finally(() =>
      clearInterval(watch),
    );
    expect(done.map((w) => [w.status, w.error])).toEqual(specs.map(() => ["completed", null]));
    expect(seen.size).toBeGreaterThan(0);
    expect([...leaks]).toEqual([]);

    const mine = fake.requests.slice(before).filter((r) => r.kind !== null);
    expect(mine.length).toBeGreaterThanOrEqual(12);
    expect(fake.maxInFlightSeen).toBe(1);
    expect(mine.filter((r) => r.status === 429)).toEqual([]);
    expect(mine.every((r) => r.authorization === `Bearer ${KEY}`)).toBe(true);

    // usage: what the API stored equals what the fake sent
    const sent = fake.usageTotals((r) => r.index >= before);
    const sum = done.reduce(
      (acc, w) => ({
        inputTokens: acc.inputTokens + w.usage.inputTokens,
        outputTokens: acc.outputTokens + w.usage.outputTokens,
        reasoningTokens: acc.reasoningTokens + w.usage.reasoningTokens,
        cacheReadTokens: acc.cacheReadTokens + w.usage.cacheReadTokens,
        requests: acc.requests + w.usage.requests,
      }),
      { inputTokens: 0, outputTokens: 0, reasoningTokens: 0, cacheReadTokens: 0, requests: 0 },
    );
    expect(sum).toEqual({
      inputTokens: sent.promptTokens,
      outputTokens: sent.completionTokens,
      reasoningTokens: sent.reasoningTokens,
      cacheReadTokens: sent.cachedTokens,
      requests: mine.filter((r) => r.usage !== null).length,
    });
    const health = await api<{
      gateway: { inFlight: number; waiting: number; concurrency: number };
    }>(server.url, "GET", "/api/health");
    expect(health.json.gateway).toMatchObject({ inFlight: 0, waiting: 0 });
    expect(JSON.stringify(health.json)).not.toContain(KEY);
  }, 240_000);

  test("a 30-second burst of 1302: the run completes; the agent never saw a 429", async () => {
    const s = await spec("burst");
    const before = fake.requests.length;
    fake.setErrors({ code: "1302", forMs: 30_000, retryAfterSec: 2 });
    await start(s);
    const detail = await waitFor(
      "the card to say it retries",
      async () => (await workerOfSpec(s))?.stepDetail?.startsWith("retrying in") ?? false,
      {
        timeoutMs: 60_000,
        intervalMs: 200,
      },
    );
    expect(detail).toBe(true);
    const done = await finished(s, 180_000);
    expect(done.error).toBeNull();
    expect(done.status).toBe("completed");
    expect(done.stepDetail).toBeNull();
    const answered = fake.requests.slice(before);
    expect(answered.filter((r) => r.code === "1302").length).toBeGreaterThan(3);
  }, 240_000);

  test("a 1308 quota answer with a reset time: the run waits (held, shown), then completes", async () => {
    const s = await spec("quota");
    // the plan runs out at the run's first model request and resets 6 s later
    let resetAt: number | null = null;
    fake.setErrors(() => {
      resetAt ??= Date.now() + 6_000;
      return Date.now() < resetAt
        ? { code: "1308", status: 429, message: glmQuotaMessage(resetAt) }
        : undefined;
    });
    await start(s);
    const held = await waitFor(
      "the gateway to hold",
      async () => {
        const h = await api<{ gateway: { heldUntil?: number } }>(server.url, "GET", "/api/health");
        return h.json.gateway.heldUntil ?? null;
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    expect(held).toBeGreaterThan(Date.now() - 2000);
    const w = await waitFor(
      "the card to say it waits for quota",
      async () => {
        const worker = await workerOfSpec(s);
        return worker?.stepDetail?.startsWith("waiting for quota until") ? worker : null;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(w.status).toBe("running");
    const done = await finished(s, 120_000);
    expect(done.status).toBe("completed");
    expect(Date.now()).toBeGreaterThanOrEqual(resetAt ?? 0);
    fake.setErrors(undefined);
  }, 180_000);

  test("a refused key: the run fails with a readable message and the queue is held", async () => {
    const bad = await spec("badkey");
    const next = await spec("waits");
    fake.setErrors({ code: "1000", status: 401, message: "Authorization Token Invalid" });
    await start(bad);
    const failed = await finished(bad);
    expect(failed.status).toBe("failed");
    expect(failed.error).toMatch(/Authorization Token Invalid/);
    const queue = await api<{ paused: boolean; holdReason: string | null }>(
      server.url,
      "GET",
      "/api/queue",
    );
    expect(queue.json.paused).toBe(true);
    expect(queue.json.holdReason).toMatch(/refused the key or plan .*Authorization Token Invalid/);
    // nothing new starts while it is held
    await start(next);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await workerOfSpec(next)).toBeUndefined();
    // the user fixes the key and resumes the queue: the waiting spec runs
    fake.setErrors(undefined);
    expect((await api(server.url, "POST", "/api/queue/resume")).status).toBe(200);
    expect((await finished(next)).status).toBe("completed");
  }, 180_000);
});
