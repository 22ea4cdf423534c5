import { join } from "node:path";
import { type LatencyStats, stats } from "./bench.ts";
import { createOpencodeExecutor } from "./executors/opencode.ts";
import { startGlmGateway } from "./gateway/gateway.ts";
import type { ChunkSnapshot } from "./protocol.ts";
import { startFakeGlm } from "./testkit/fake-glm.ts";
import { removeDir, tempDir } from "./testkit/temp.ts";

/**
 * The GLM gateway's cost and worth, measured in one process on 127.0.0.1 against the fake GLM:
 * the latency it adds to a request (time to first byte, direct vs through it, alternating), and
 * five real opencode runs at once on a plan that allows one request in flight (answers streamed
 * at 40 ms per piece, so requests of different runs overlap), with opencode
 * talking straight to the fake vs through the gateway (GLM_CONCURRENCY=1).
 */

const KEY = "bench-key";

async function ttfb(url: string, key: string): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(`${url}/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({
      model: "glm-4.7",
      stream: true,
      messages: [{ role: "user", content: "hi" }],
    }),
  });
  const reader = res.body?.getReader();
  await reader?.read();
  const ms = performance.now() - t0;
  while (reader && !(await reader.read()).done) {
    // drain
  }
  return ms;
}

export async function measureGatewayLatency(
  requests = 200,
): Promise<{ direct: LatencyStats; gateway: LatencyStats }> {
  const fake = await startFakeGlm({ apiKey: KEY, script: () => ({ kind: "text", text: "ok" }) });
  const gateway = await startGlmGateway({
    upstream: fake.url,
    apiKey: KEY,
    concurrency: 2,
    quotaWaitMs: 1000,
  });
  const run = gateway.forRun("bench");
  const direct: number[] = [];
  const through: number[] = [];
  try {
    for (let i = 0; i < 20; i++) await ttfb(fake.url, KEY); // warm up both paths
    for (let i = 0; i < 20; i++) await ttfb(run.baseURL, run.apiKey);
    for (let i = 0; i < requests; i++) {
      direct.push(await ttfb(fake.url, KEY));
      through.push(await ttfb(run.baseURL, run.apiKey));
    }
  } finally {
    await gateway.close();
    await fake.close();
  }
  return { direct: stats(direct), gateway: stats(through) };
}

export interface PlanRuns {
  mode: "opencode straight to the plan" | "through the gateway (GLM_CONCURRENCY=1)";
  runs: number;
  wallS: number;
  completed: number;
  failed: number;
  /** 429 answers the plan gave (the agent saw them only in the direct mode). */
  plan429: number;
  maxInFlight: number;
  errors: string[];
}

function chunk(): ChunkSnapshot {
  return {
    id: "c1",
    title: "Write the file",
    description: "Write it.",
    order: 0,
    status: "running",
    dependencies: [],
    fixOf: null,
    reviewStatus: null,
    commitHash: null,
  };
}

export async function measurePlanRuns(runs = 5): Promise<PlanRuns[]> {
  const out: PlanRuns[] = [];
  for (const mode of [
    "opencode straight to the plan",
    "through the gateway (GLM_CONCURRENCY=1)",
  ] as const) {
    const root = tempDir("bench-plan");
    // answers that take a while to stream, like a model's, so the runs' requests overlap
    const fake = await startFakeGlm({ apiKey: KEY, maxInFlight: 1, tokenDelayMs: 40 });
    const gateway =
      mode === "opencode straight to the plan"
        ? null
        : await startGlmGateway({
            upstream: fake.url,
            apiKey: KEY,
            concurrency: 1,
            quotaWaitMs: 60_000,
          });
    const t0 = performance.now();
    const errors: string[] = [];
    let completed = 0;
    try {
      await Promise.all(
        Array.from({ length: runs }, async (_, i) => {
          const runId = `plan-${i}`;
          const route = gateway?.forRun(runId);
          const executor = createOpencodeExecutor({
            kind: "opencode",
            simulatedChunkMs: 0,
            model: "zai-coding-plan/glm-4.7",
            baseURL: route?.baseURL ?? fake.url,
            opencodeHome: join(root, "home"),
            env: { ZHIPU_API_KEY: route?.apiKey ?? KEY },
            runId,
          });
          const cwd = tempDir("bench-plan-run");
          try {
            const req = { cwd, chunk: chunk(), timeoutMs: 600_000, onEvent: () => {} };
            const exec = await executor.execute({ ...req, prompt: "Write the file." }).result;
            const review = exec.ok
              ? await executor.review({
                  ...req,
                  prompt: "Review the change. Answer with JSON only.",
                }).result
              : exec;
            if (exec.ok && review.ok) completed++;
            else errors.push((review.error ?? exec.error ?? "failed").slice(0, 200));
          } finally {
            await executor.close();
            removeDir(cwd);
          }
        }),
      );
    } finally {
      await gateway?.close();
      out.push({
        mode,
        runs,
        wallS: Math.round((performance.now() - t0) / 100) / 10,
        completed,
        failed: runs - completed,
        plan429: fake.requests.filter((r) => r.status === 429).length,
        maxInFlight: fake.maxInFlightSeen,
        errors,
      });
      await fake.close();
      removeDir(root);
    }
  }
  return out;
}
