import { readdirSync, readFileSync } from "node:fs";

/**
 * Process-tree control on Linux by walking /proc. Agents start tools in new sessions and
 * process groups, so signalling a process group misses them; we walk parent links instead.
 */

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export type ProcTable = Map<number, number[]>; // ppid -> children

/** Reads pid → ppid for every process from /proc/<pid>/stat (field 4 is the parent). */
export function readProcTable(): ProcTable {
  const children: ProcTable = new Map();
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return children;
  }
  for (const name of entries) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue; // exited while we walked
    }
    // comm (field 2) may contain spaces and parentheses: parse after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ppid = Number(rest[1]);
    if (!Number.isInteger(ppid)) continue;
    const list = children.get(ppid);
    if (list) list.push(pid);
    else children.set(ppid, [pid]);
  }
  return children;
}

/** Root first, breadth-first list of `rootPid` and all its descendants. */
export function descendants(rootPid: number, table: ProcTable = readProcTable()): number[] {
  const out: number[] = [];
  const seen = new Set<number>();
  const queue = [rootPid];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    if (seen.has(pid)) continue;
    seen.add(pid);
    out.push(pid);
    for (const child of table.get(pid) ?? []) queue.push(child);
  }
  return out;
}

/** The one-letter state of a process from /proc (`R`, `S`, `T`, `Z`, …), or null when gone. */
export function processState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0] ?? null;
  } catch {
    return null;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie still answers kill(0); treat it as gone. A process that answers kill(0) but whose
  // stat cannot be read (in the middle of exiting, on a loaded machine) still counts as alive:
  // the next look tells, and an end that is not yet certain is never reported as done.
  const state = processState(pid);
  if (state === null) {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
  return state !== "Z" && state !== "X";
}

function tryKill(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Suspends the whole tree with SIGSTOP, root first so no parent spawns a new child while we
 * walk, and walks again until nothing new appears. Returns the stopped pids (root first).
 */
export function suspendTree(rootPid: number): number[] {
  const stopped: number[] = [];
  const seen = new Set<number>();
  for (let round = 0; round < 8; round++) {
    const fresh = descendants(rootPid).filter((p) => !seen.has(p));
    if (fresh.length === 0) break;
    for (const pid of fresh) {
      seen.add(pid);
      if (tryKill(pid, "SIGSTOP")) stopped.push(pid);
    }
  }
  return stopped;
}

/**
 * Resolves once every pid is stopped (state `T`/`t`) or gone, or after `timeoutMs`.
 * Returns true when all of them were confirmed.
 */
export async function waitStopped(pids: readonly number[], timeoutMs = 500): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pending = pids.filter((pid) => {
      const state = processState(pid);
      return state !== null && state !== "T" && state !== "t" && state !== "Z" && state !== "X";
    });
    if (pending.length === 0) return true;
    if (Date.now() >= deadline) return false;
    await sleep(2);
  }
}

/** Resolves once none of `pids` is alive (zombies count as gone), or after `timeoutMs`. */
export async function waitGone(pids: readonly number[], timeoutMs = 1000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!pids.some(isAlive)) return true;
    if (Date.now() >= deadline) return false;
    await sleep(5);
  }
}

/**
 * Suspends the whole tree and makes sure of it: SIGSTOP takes effect a moment after it is sent,
 * and a process may fork in that moment, so after the stops are confirmed the tree is walked
 * again (stopping what appeared) until a walk finds nothing new. Returns every stopped pid.
 */
export async function suspendTreeSettled(
  rootPid: number,
  known: readonly number[] = [],
): Promise<number[]> {
  const all = new Set<number>(known);
  for (let round = 0; round < 6; round++) {
    const fresh = suspendTree(rootPid).filter((p) => !all.has(p));
    for (const pid of fresh) all.add(pid);
    await waitStopped([...all], 250);
    if (round > 0 && fresh.length === 0) break;
  }
  return [...all];
}

/** Continues the tree leaves first; `known` adds pids stopped earlier that may have been re-parented. */
export function resumeTree(rootPid: number, known: readonly number[] = []): void {
  const pids = new Set([...known, ...descendants(rootPid)]);
  for (const pid of [...pids].reverse()) tryKill(pid, "SIGCONT");
}

/**
 * Ends the whole tree: SIGTERM (+SIGCONT so stopped processes handle it), wait up to
 * `graceMs`, then SIGKILL what remains, and verify by pid. Resolves with the pids that were
 * signalled; rejects never. `extra` pids (seen earlier) are included even if re-parented.
 */
export async function killTree(
  rootPid: number,
  opts: { graceMs?: number; extra?: readonly number[]; killWaitMs?: number } = {},
): Promise<number[]> {
  const graceMs = opts.graceMs ?? 50;
  const killWaitMs = opts.killWaitMs ?? 3000;
  // Freeze first so nothing forks while we collect the tree.
  const all = new Set<number>(await suspendTreeSettled(rootPid, opts.extra ?? []));
  for (const pid of descendants(rootPid)) all.add(pid);
  for (const pid of all) {
    tryKill(pid, "SIGTERM");
    tryKill(pid, "SIGCONT");
  }
  const graceEnd = Date.now() + graceMs;
  while (Date.now() < graceEnd && [...all].some(isAlive)) await sleep(5);
  // SIGKILL whatever is left (and anything it forked) until all of it is gone; a loaded
  // machine can take a while to schedule the exits.
  const killEnd = Date.now() + killWaitMs;
  for (;;) {
    const alive = [...all].filter(isAlive);
    if (alive.length === 0 || Date.now() >= killEnd) break;
    for (const pid of alive) {
      for (const child of descendants(pid)) {
        all.add(child);
        tryKill(child, "SIGKILL");
      }
    }
    await sleep(5);
  }
  return [...all];
}
