// Shared helpers of the benchmarks (packages/bench): summaries and the bench worker entry.
export interface LatencyStats {
  n: number;
  min: number;
  median: number;
  p95: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentile of `samples` (`q` in (0, 1]); 0 when there are none. */
export function percentile(samples: readonly number[], q: number): number {
  return nearestRank(
    [...samples].sort((a, b) => a - b),
    q,
  );
}

function nearestRank(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;
}

/** min / median / p95 / p99 / max of `samples`, rounded to 0.01. */
export function stats(samples: readonly number[]): LatencyStats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => nearestRank(sorted, q);
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    n: sorted.length,
    min: round(sorted[0] ?? 0),
    median: round(at(0.5)),
    p95: round(at(0.95)),
    p99: round(at(0.99)),
    max: round(sorted.at(-1) ?? 0),
  };
}

/** The bench worker entry (instant executor) for `new RunPool({ workerFile })`. */
export function benchWorkerFile(): URL {
  return new URL(
    import.meta.url.endsWith(".ts") ? "./bench-worker.ts" : "./bench-worker.js",
    import.meta.url,
  );
}
