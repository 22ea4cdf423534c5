// Readings and write-out for `pnpm load`: the server's /api/metrics, machine CPU from
// /proc/stat, percentiles, and the splice of the load block into BENCHMARKS.md.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { percentile } from "@glm-workers/core/bench";
import { LOAD_END, LOAD_START, type Report } from "./report.ts";

export interface ServerMetrics {
  pid: number;
  uptimeS: number;
  memory: { rss: number; heapUsed: number; heapTotal: number; external: number };
  eventLoopDelayMs: {
    since: string;
    min: number;
    p50: number;
    p99: number;
    max: number;
    mean: number;
    samples: number;
  };
  resources: Record<string, number>;
  busListeners: number;
  activeRuns: number;
}

/** Busy and total jiffies of the whole machine (all cores) from /proc/stat. */
export function machineCpu(): { busy: number; total: number } {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return { busy: 0, total: 0 };
  }
}

/** Total microseconds some task waited for a CPU (/proc/pressure/cpu), or null without PSI. */
export function cpuPressureUs(): number | null {
  try {
    const m = /^some .*total=(\d+)/m.exec(readFileSync("/proc/pressure/cpu", "utf8"));
    return m?.[1] ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Nearest-rank percentile (the benchmarks' one definition). */
export const pct = percentile;

export const f0 = (n: number) => n.toFixed(0);
export const f1 = (n: number) => n.toFixed(1);
export const f2 = (n: number) => n.toFixed(2);

export { LOAD_END, LOAD_START };

/**
 * Puts the report's lines between the load markers of `<dir>/BENCHMARKS.md` (replacing the
 * block there, else appending it) and writes the report's charts to `<dir>/bench/<id>.svg`.
 */
export function spliceInto(dir: string, report: Report): string {
  mkdirSync(join(dir, "bench"), { recursive: true });
  for (const [id, svg] of report.charts) writeFileSync(join(dir, "bench", `${id}.svg`), svg);
  const path = join(dir, "BENCHMARKS.md");
  const block = [LOAD_START, ...report.lines, LOAD_END].join("\n");
  const existing = existsSync(path) ? readFileSync(path, "utf8") : "# Benchmarks\n";
  const start = existing.indexOf(LOAD_START);
  const end = existing.indexOf(LOAD_END, start + LOAD_START.length);
  const next =
    start >= 0 && end > start
      ? existing.slice(0, start) + block + existing.slice(end + LOAD_END.length)
      : `${existing.replace(/\n*$/, "")}\n\n${block}\n`;
  writeFileSync(path, next);
  return path;
}
