// The GLM gateway: added latency, and five real opencode runs on a plan that allows one request.
import { measureGatewayLatency, measurePlanRuns } from "@glm-workers/core/bench-gateway";
import type { BenchContext } from "../context.ts";

export default async function gateway(ctx: BenchContext): Promise<void> {
  const { report } = ctx;
  const f = (n: number, d = 2) => n.toFixed(d);
  report.heading(2, "The GLM gateway");
  const n = ctx.quick ? 50 : 200;
  report.paragraph(
    `Added latency: time to the first byte of a streamed answer from the fake GLM, straight vs through the gateway, ${n} requests each, alternating, after a warm-up.`,
  );
  const gw = await measureGatewayLatency(n);
  report.table(
    ["path", "min ms", "p50 ms", "p99 ms", "max ms"],
    [
      ["direct", f(gw.direct.min), f(gw.direct.median), f(gw.direct.p99), f(gw.direct.max)],
      [
        "through the gateway",
        f(gw.gateway.min),
        f(gw.gateway.median),
        f(gw.gateway.p99),
        f(gw.gateway.max),
      ],
    ],
  );
  report.paragraph(
    `Same run: the gateway adds ${f(gw.gateway.median - gw.direct.median)} ms at the median (p99 ${f(gw.gateway.p99 - gw.direct.p99)} ms).`,
  );
  if (ctx.quick) return;
  report.paragraph(
    "Five real opencode runs at once (one chunk each: execute + review) on a fake plan that allows one request in flight per key and answers 429/1302 above it; its answers stream at 40 ms per piece, so the runs' requests overlap:",
  );
  const rows: string[][] = [];
  for (const p of await measurePlanRuns(5)) {
    rows.push([
      p.mode,
      f(p.wallS, 1),
      String(p.completed),
      String(p.failed),
      String(p.plan429),
      String(p.maxInFlight),
    ]);
    for (const e of p.errors.slice(0, 3)) rows.push(["", `failure: ${e}`, "", "", "", ""]);
  }
  report.table(
    [
      "mode",
      "wall s",
      "completed",
      "failed",
      "429 answers from the plan",
      "most in flight upstream",
    ],
    rows,
  );
}
