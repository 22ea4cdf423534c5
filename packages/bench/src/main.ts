// pnpm bench: every benchmark of glm-workers on the compiled build, written to
// docs/BENCHMARKS.md (+ docs/bench/*.svg) with the machine and the date.
// Flags: --only a,b (sections by name)  --quick (small sizes, for development; writes to
// --out, default a temp dir, never docs/)  --out DIR
import { cpus, freemem, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type BenchContext, createContext } from "./context.ts";
import { Report } from "./report.ts";
import { REPO_ROOT } from "./server-process.ts";

interface SectionEntry {
  name: string;
  load: () => Promise<{ default: (ctx: BenchContext) => Promise<void> }>;
}

/** In report order. Each module's default export writes its own section. */
export const SECTIONS: SectionEntry[] = [
  { name: "dispatch", load: () => import("./sections/dispatch.ts") },
  { name: "control", load: () => import("./sections/control.ts") },
  { name: "fanout", load: () => import("./sections/fanout.ts") },
  { name: "queue", load: () => import("./sections/queue.ts") },
  { name: "memory", load: () => import("./sections/memory.ts") },
  { name: "writes", load: () => import("./sections/writes.ts") },
  { name: "agent", load: () => import("./sections/agent.ts") },
  { name: "gateway", load: () => import("./sections/gateway.ts") },
];

const { values } = parseArgs({
  options: {
    only: { type: "string" },
    quick: { type: "boolean", default: false },
    out: { type: "string" },
  },
});
const only = values.only
  ?.split(",")
  .map((s) => s.trim())
  .filter(Boolean);
const unknown = only?.filter((n) => !SECTIONS.some((s) => s.name === n)) ?? [];
if (unknown.length > 0) {
  process.stderr.write(
    `unknown section(s): ${unknown.join(", ")}; known: ${SECTIONS.map((s) => s.name).join(", ")}\n`,
  );
  process.exit(2);
}
const quick = values.quick ?? false;
const partial = quick || only !== undefined;
const outDir = values.out ?? (partial ? join(REPO_ROOT, "tmp-bench") : join(REPO_ROOT, "docs"));

const report = new Report();
const ctx = createContext(report, quick);
const f1 = (n: number) => n.toFixed(1);
const started = new Date();
const t0 = performance.now();
report.line("# Benchmarks");
report.line();
report.line(
  `Measured ${started.toISOString()} on ${cpus().length} × ${cpus()[0]?.model ?? "unknown cpu"}, ${f1(totalmem() / 2 ** 30)} GiB RAM (${f1(freemem() / 2 ** 30)} GiB free), Node ${process.version}, ${process.platform}.`,
);
report.line(
  `Produced by \`pnpm bench\` (packages/bench, compiled build: the server, orchestrator and worker threads run their built JavaScript); every number comes from this run${quick ? " — **quick mode, sizes reduced: not a reference run**" : ""}. Figures are min / median / p99 over repeated runs or samples; a ratio is always between figures of the same run.`,
);
report.line();

let failed = 0;
try {
  for (const section of SECTIONS) {
    if (only && !only.includes(section.name)) continue;
    ctx.progress(`${section.name}…`);
    const s0 = performance.now();
    try {
      const mod = await section.load();
      await mod.default(ctx);
    } catch (err) {
      failed++;
      const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
      process.stderr.write(`section ${section.name} failed: ${message}\n`);
      report.paragraph(`**Section \`${section.name}\` failed:** ${message.split("\n")[0]}`);
    }
    ctx.progress(`${section.name} done in ${((performance.now() - s0) / 1000).toFixed(0)} s`);
  }
} finally {
  ctx.cleanup();
}
report.paragraph(`Whole bench: ${((performance.now() - t0) / 60_000).toFixed(1)} min.`);
const path = report.write(outDir);
process.stderr.write(`\nwritten to ${path}\n`);
process.exit(failed > 0 ? 1 : 0);
