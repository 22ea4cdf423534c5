// Readings of a process from /proc: resident memory and CPU time (Linux).
import { readFileSync } from "node:fs";
import { descendants } from "@glm-workers/core";

const TICKS_PER_SECOND = 100; // USER_HZ on Linux
const PAGE = 4096;

/** Resident set size of one process in bytes (0 when gone). */
export function rssBytes(pid: number): number {
  try {
    const statm = readFileSync(`/proc/${pid}/statm`, "utf8").split(" ");
    return Number(statm[1]) * PAGE;
  } catch {
    return 0;
  }
}

/** Summed RSS of a process and all its descendants, in bytes. */
export function treeRssBytes(pid: number): number {
  return descendants(pid).reduce((sum, p) => sum + rssBytes(p), 0);
}

/** User + system CPU seconds a process has used so far (its own threads, not children). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // after the comm: state(0) ppid(1) … utime(11) stime(12)
    return (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** CPU share of `pid` (1.0 = one core) while `work` runs. */
export async function cpuShare<T>(
  pid: number,
  work: () => Promise<T>,
): Promise<{ value: T; share: number; cpuS: number; wallS: number }> {
  const c0 = cpuSeconds(pid);
  const t0 = performance.now();
  const value = await work();
  const wallS = (performance.now() - t0) / 1000;
  const cpuS = cpuSeconds(pid) - c0;
  return { value, share: cpuS / wallS, cpuS, wallS };
}

export const mb = (bytes: number) => bytes / 1048576;
