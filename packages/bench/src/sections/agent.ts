// The real opencode binary against the fake GLM: `opencode run` per prompt vs one server per run.
import { measureAgentOverhead } from "@glm-workers/core/bench-agent";
import type { BenchContext } from "../context.ts";

export default async function agent(ctx: BenchContext): Promise<void> {
  const { report } = ctx;
  const f = (n: number, d = 0) => n.toFixed(d);
  report.heading(2, "The real agent: `opencode run` per prompt vs one `opencode serve` per run");
  report.paragraph(
    "The real opencode binary against the fake GLM on 127.0.0.1, which answers at once, so what is left is the agent's own overhead. A run is 3 chunks, each an execute and a review prompt (6 prompts); runs of the two modes alternate. *To first request* is from handing a prompt to the executor until opencode's first model request arrives; *peak RSS* sums the run's agent processes.",
  );
  const runs = 1;
  const results = await measureAgentOverhead({ runs, chunks: 3 });
  report.table(
    [
      "mode",
      "runs",
      "opencode processes / run",
      "first prompt → request ms (median)",
      "later prompts → request ms (median, p99)",
      "run s (median)",
      "peak agent RSS MB (median)",
    ],
    results.map((a) => [
      a.mode,
      runs,
      a.processesPerRun,
      f(a.firstPromptMs.median),
      `${f(a.laterPromptsMs.median)}, ${f(a.laterPromptsMs.p99)}`,
      f(a.runMs.median / 1000, 2),
      f(a.peakRssMb.median),
    ]),
  );
  const [perPrompt, perRun] = results;
  if (perPrompt && perRun) {
    report.paragraph(
      `Same run, ratios: a run takes ${f(perPrompt.runMs.median / perRun.runMs.median, 1)}× as long with \`opencode run\` per prompt; a later prompt reaches the model ${f(perPrompt.laterPromptsMs.median / Math.max(1, perRun.laterPromptsMs.median))}× sooner through the run's server.`,
    );
  }
}
