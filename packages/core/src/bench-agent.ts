import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type LatencyStats, stats } from "./bench.ts";
import { createOpencodeExecutor } from "./executors/opencode.ts";
import { createOpencodeRunExecutor } from "./executors/opencode-run.ts";
import type { ExecutionHandle, Executor } from "./executors/types.ts";
import { descendants } from "./process-tree.ts";
import type { ChunkSnapshot, ExecutorConfig } from "./protocol.ts";
import { startFakeGlm } from "./testkit/fake-glm.ts";
import { removeDir, tempDir } from "./testkit/temp.ts";

/**
 * What driving the real opencode costs, with the model's own answers taken out (the fake GLM
 * answers at once on 127.0.0.1): per prompt, the time from handing the prompt to the executor
 * until opencode's first model request; per run (chunks × execute + review), the wall time; and
 * the peak RSS of the run's agent process tree. The same runs go through `opencode run` per
 * prompt and through one `opencode serve` per run, alternating, in the same process.
 */

export interface AgentOverhead {
  mode: "opencode run per prompt" | "opencode serve per run";
  runs: number;
  chunks: number;
  /** Prompt handed over → first model request, every prompt of every run. */
  toFirstRequestMs: LatencyStats;
  /** The same for the first prompt of a run only (pays the start-up). */
  firstPromptMs: LatencyStats;
  /** The same for the later prompts of a run. */
  laterPromptsMs: LatencyStats;
  runMs: LatencyStats;
  /** Peak summed RSS of the run's agent processes (MB). */
  peakRssMb: LatencyStats;
  /** opencode processes started per run. */
  processesPerRun: number;
}

const KEY = "bench-key";

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m?.[1] ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

function chunk(i: number): ChunkSnapshot {
  return {
    id: `c${i}`,
    title: `Chunk ${i + 1}`,
    description: `Write part ${i + 1}.`,
    order: i,
    status: "running",
    dependencies: [],
    fixOf: null,
    reviewStatus: null,
    commitHash: null,
  };
}

export async function measureAgentOverhead(
  opts: { runs?: number; chunks?: number } = {},
): Promise<AgentOverhead[]> {
  const runs = opts.runs ?? 3;
  const chunks = opts.chunks ?? 3;
  const root = tempDir("bench-agent");
  const fake = await startFakeGlm({ apiKey: KEY });
  const modes = ["opencode run per prompt", "opencode serve per run"] as const;
  const samples = new Map(
    modes.map((m) => [
      m,
      {
        all: [] as number[],
        first: [] as number[],
        later: [] as number[],
        run: [] as number[],
        rss: [] as number[],
        procs: [] as number[],
      },
    ]),
  );
  try {
    for (let r = 0; r < runs; r++) {
      for (const mode of modes) {
        const s = samples.get(mode);
        if (!s) continue;
        const config: ExecutorConfig = {
          kind: "opencode",
          simulatedChunkMs: 0,
          model: "zai-coding-plan/glm-4.7",
          baseURL: fake.url,
          opencodeHome: join(root, "home"),
          env: { ZHIPU_API_KEY: KEY },
          runId: `bench-${r}-${mode.length}`,
        };
        const executor: Executor =
          mode === "opencode serve per run"
            ? createOpencodeExecutor(config)
            : createOpencodeRunExecutor(config);
        const cwd = tempDir("bench-agent-run");
        let peak = 0;
        const roots = new Set<number>();
        const watch = (h: ExecutionHandle) =>
          setInterval(() => {
            if (h.pid === undefined) return;
            roots.add(h.pid);
            peak = Math.max(
              peak,
              descendants(h.pid).reduce((sum, p) => sum + rssMb(p), 0),
            );
          }, 100);
        const runStart = performance.now();
        let prompt = 0;
        for (let c = 0; c < chunks; c++) {
          for (const step of ["execute", "review"] as const) {
            const before = fake.requests.length;
            const t0 = Date.now();
            const req = {
              cwd,
              prompt:
                step === "execute"
                  ? `Write part ${c + 1} of the bench file.`
                  : "Review the change just made. Answer with JSON only.",
              chunk: chunk(c),
              timeoutMs: 120_000,
              onEvent: () => {},
            };
            const handle = step === "execute" ? executor.execute(req) : executor.review(req);
            const timer = watch(handle);
            const result = await handle.result;
            clearInterval(timer);
            if (!result.ok) throw new Error(`${mode}: ${step} failed: ${result.error}`);
            const firstRequest = fake.requests
              .slice(before)
              .find((q) => q.kind === "agent" || q.kind === "review");
            const ms = (firstRequest?.receivedAt ?? Date.now()) - t0;
            s.all.push(ms);
            (prompt === 0 ? s.first : s.later).push(ms);
            prompt++;
          }
        }
        s.run.push(performance.now() - runStart);
        s.rss.push(peak);
        s.procs.push(roots.size);
        await executor.close();
        removeDir(cwd);
      }
    }
  } finally {
    await fake.close();
    removeDir(root);
  }
  return modes.map((mode) => {
    const s = samples.get(mode);
    return {
      mode,
      runs,
      chunks,
      toFirstRequestMs: stats(s?.all ?? []),
      firstPromptMs: stats(s?.first ?? []),
      laterPromptsMs: stats(s?.later ?? []),
      runMs: stats(s?.run ?? []),
      peakRssMb: stats(s?.rss ?? []),
      processesPerRun: Math.round((s?.procs.reduce((a, b) => a + b, 0) ?? 0) / runs),
    };
  });
}
