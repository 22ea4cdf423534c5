// What every benchmark section gets: the report to write into, the size mode, temp dirs.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Report } from "./report.ts";

export interface BenchContext {
  report: Report;
  /** `--quick`: small sizes for development; the committed report is never a quick run. */
  quick: boolean;
  /** A progress line on stderr (not in the report). */
  progress(message: string): void;
  /** A new temp directory, removed when the whole bench ends. */
  tempDir(prefix: string): string;
}

export function createContext(report: Report, quick: boolean): BenchContext & { cleanup(): void } {
  const dirs: string[] = [];
  const t0 = performance.now();
  return {
    report,
    quick,
    progress(message) {
      process.stderr.write(`[bench ${((performance.now() - t0) / 1000).toFixed(0)}s] ${message}\n`);
    },
    tempDir(prefix) {
      const dir = mkdtempSync(join(tmpdir(), `glm-bench-${prefix}-`));
      dirs.push(dir);
      return dir;
    },
    cleanup() {
      for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    },
  };
}

export type BenchSection = (ctx: BenchContext) => Promise<void>;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
