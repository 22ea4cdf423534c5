import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { hasGitAbove } from "../git.ts";
import type { WaitReason } from "./types.ts";

/** Bytes of memory the kernel says can be given to new processes (MemAvailable). */
export function availableMemory(): number {
  try {
    const text = readFileSync("/proc/meminfo", "utf8");
    const match = /^MemAvailable:\s+(\d+)\s+kB/m.exec(text);
    if (match?.[1]) return Number(match[1]) * 1024;
  } catch {
    // not Linux: fall through
  }
  return Number.POSITIVE_INFINITY;
}

export interface AdmissionOptions {
  maxWorkers: number;
  /** Concurrent runs of one project when it has no git worktrees (default 1). */
  perProjectLimit: number;
  /** Concurrent runs of one git project (each in its own worktree). */
  perGitProjectLimit: number;
  /** Estimated memory one run needs (agent RSS). */
  perRunBytes: number;
  /** Memory always left free. */
  reserveBytes: number;
  memoryProbe: () => number;
}

export interface AdmissionState {
  active: number;
  byProject: Map<string, number>;
}

export type Decision =
  | { ok: true }
  | { ok: false; reason: Exclude<WaitReason, null>; detail: string };

/** Is `directory` the top of (or inside) a git work tree? Cheap check, no subprocess. */
export function looksLikeGitRepo(directory: string): boolean {
  return hasGitAbove(resolve(directory));
}

export function decide(
  opts: AdmissionOptions,
  state: AdmissionState,
  project: { id: string; directory: string },
): Decision {
  if (state.active >= opts.maxWorkers) {
    return {
      ok: false,
      reason: "no_slot",
      detail: `all worker slots in use (${state.active}/${opts.maxWorkers})`,
    };
  }
  const limit = looksLikeGitRepo(project.directory)
    ? opts.perGitProjectLimit
    : opts.perProjectLimit;
  const running = state.byProject.get(project.id) ?? 0;
  if (running >= limit) {
    return {
      ok: false,
      reason: "project_busy",
      detail: `project already runs ${running} spec${running === 1 ? "" : "s"} (limit ${limit})`,
    };
  }
  const free = opts.memoryProbe();
  if (free - opts.perRunBytes < opts.reserveBytes) {
    const mb = (n: number) => `${Math.round(n / 1048576)} MB`;
    return {
      ok: false,
      reason: "memory",
      detail: `${mb(free)} available, a run needs ${mb(opts.perRunBytes)} plus ${mb(opts.reserveBytes)} reserve`,
    };
  }
  return { ok: true };
}
