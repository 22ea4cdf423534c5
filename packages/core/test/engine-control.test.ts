import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { RunPool } from "../src/pool.ts";
import { descendants, isAlive, processState } from "../src/process-tree.ts";
import type { ThreadToMain } from "../src/protocol.ts";
import { removeDir, tempDir, waitFor } from "../src/testkit/index.ts";
import { chunk, Recorder, sleep, snapshot } from "./engine-helpers.ts";

let pool: RunPool;
const dirs: string[] = [];

beforeAll(() => {
  pool = new RunPool({ maxThreads: 2 });
});
afterAll(async () => {
  await pool.close({ force: true });
});
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});

function newDir(): string {
  const d = tempDir("engine-control");
  dirs.push(d);
  return d;
}

const isStep = (m: ThreadToMain) => m.type === "step" && m.step === "executing";
const isLogStep = (n: number) => (m: ThreadToMain) =>
  m.type === "log" && m.line.startsWith(`[${n}/`);

/** Session id of a process (field 6 of /proc/<pid>/stat). */
function sessionOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[3]);
  } catch {
    return null;
  }
}

/** Start time of a process (field 22), to tell a pid from a later process that reuses it. */
function startTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}

/** The processes of `pids` that are still alive (the same processes, not reused pids). */
function alive(pids: Map<number, string | null>): number[] {
  return [...pids]
    .filter(([pid, start]) => isAlive(pid) && startTime(pid) === start)
    .map(([p]) => p);
}

/**
 * The processes of `pids` still alive. A process the abort SIGKILLed can take a moment to be
 * scheduled out on a loaded machine, so this gives the kernel up to 5 s before it answers.
 */
async function survivors(pids: Map<number, string | null>): Promise<number[]> {
  const deadline = Date.now() + 5000;
  while (alive(pids).length > 0 && Date.now() < deadline) await sleep(20);
  return alive(pids);
}

/** Polls the tree under `root` and remembers every pid seen, until stopped. */
function collectTree(root: number) {
  const seen = new Map<number, string | null>();
  let on = true;
  const loop = (async () => {
    while (on) {
      for (const pid of descendants(root)) {
        if (isAlive(pid) && !seen.has(pid)) seen.set(pid, startTime(pid));
      }
      await sleep(10);
    }
  })();
  return {
    seen,
    async stop() {
      on = false;
      await loop;
    },
  };
}

describe("pause, resume and abort of a run thread", () => {
  test("pause stops the whole tree: no output and no file change until resume", async () => {
    const dir = newDir();
    const rec = new Recorder();
    const handle = pool.start(
      snapshot(dir, [chunk("a", 0, "Part a. [simulate:slow]")], { chunkMs: 800 }),
      rec,
    );
    const step = (await rec.waitFor(isStep)) as Extract<ThreadToMain, { type: "step" }>;
    await rec.waitFor(isLogStep(3));
    await rec.waitFor((m) => m.type === "tool" && m.name === "bash" && m.status === "started");
    await handle.pause();
    await rec.waitFor((m) => m.type === "paused");

    const file = join(dir, "glm-sim", "chunk-a.md");
    const countBefore = rec.messages.length;
    const contentBefore = readFileSync(file, "utf8");
    const tree = descendants(step.pid ?? -1).filter(isAlive);
    expect(tree.length).toBeGreaterThanOrEqual(2); // the agent and its detached shell tool
    expect(tree.map(processState).every((s) => s === "T" || s === "t")).toBe(true);

    await sleep(1000);
    expect(rec.messages.slice(countBefore)).toEqual([]);
    expect(readFileSync(file, "utf8")).toBe(contentBefore);

    await handle.resume();
    await rec.waitFor((m) => m.type === "resumed");
    const result = await handle.result;
    expect(result.outcome).toBe("completed");
    expect(readFileSync(file, "utf8").length).toBeGreaterThan(contentBefore.length);
    // it never resumed by itself: the only resume is the one we asked for
    expect(rec.of("resumed")).toHaveLength(1);
  });

  test("abort ends every process of the tree, including the detached grandchild", async () => {
    const dir = newDir();
    const rec = new Recorder();
    const handle = pool.start(
      snapshot(dir, [chunk("a", 0, "Part a. [simulate:slow]"), chunk("b", 1)], { chunkMs: 800 }),
      rec,
    );
    const step = (await rec.waitFor(isStep)) as Extract<ThreadToMain, { type: "step" }>;
    const root = step.pid ?? -1;
    const tree = collectTree(root);
    await rec.waitFor((m) => m.type === "tool" && m.name === "bash" && m.status === "started");
    await rec.waitFor(isLogStep(2));
    // the collector polls: on a loaded machine it may see the tool's processes a little later
    const detachedOf = () =>
      [...tree.seen.keys()].filter((p) => p !== root && sessionOf(p) !== sessionOf(root));
    await waitFor("the detached tool process to be seen", () => detachedOf().length > 0, {
      timeoutMs: 10_000,
    });
    await tree.stop();
    expect([...tree.seen.keys()]).toContain(root);

    await handle.abort("stopped by test");
    const result = await handle.result;
    expect(result.outcome).toBe("aborted");
    expect(result.error).toBe("stopped by test");
    expect(await survivors(tree.seen)).toEqual([]);
    // the interrupted chunk goes back to pending; the next one never started
    const states = rec.chunkStates();
    expect(states.get("a")).toMatchObject({ status: "pending" });
    expect(states.has("b")).toBe(false);
    expect(rec.messages.at(-1)).toMatchObject({ type: "done", outcome: "aborted" });
  });

  test("abort while paused ends the stopped tree too", async () => {
    const dir = newDir();
    const rec = new Recorder();
    const handle = pool.start(
      snapshot(dir, [chunk("a", 0, "Part a. [simulate:slow]")], { chunkMs: 800 }),
      rec,
    );
    const step = (await rec.waitFor(isStep)) as Extract<ThreadToMain, { type: "step" }>;
    await rec.waitFor((m) => m.type === "tool" && m.name === "bash" && m.status === "started");
    // the tool's process may still be starting when its start is announced (a loaded machine)
    await waitFor(
      "the tool's process",
      () => descendants(step.pid ?? -1).filter(isAlive).length >= 2,
      {
        timeoutMs: 10_000,
        intervalMs: 10,
      },
    );
    await handle.pause();
    await rec.waitFor((m) => m.type === "paused");
    const pids = new Map(
      descendants(step.pid ?? -1)
        .filter(isAlive)
        .map((pid) => [pid, startTime(pid)] as const),
    );
    expect(pids.size).toBeGreaterThanOrEqual(2);
    await handle.abort("stop while paused");
    expect((await handle.result).outcome).toBe("aborted");
    expect(await survivors(pids)).toEqual([]);
  });

  test("startPaused holds before the first chunk until resumed", async () => {
    const dir = newDir();
    const rec = new Recorder();
    const handle = pool.start(snapshot(dir, [chunk("a", 0)], { startPaused: true }), rec);
    await rec.waitFor((m) => m.type === "paused");
    await sleep(600);
    expect(rec.of("step")).toEqual([]);
    expect(rec.of("chunk")).toEqual([]);
    await handle.resume();
    expect((await handle.result).outcome).toBe("completed");
    expect(rec.of("step").length).toBe(2);
  });

  test("pause during the review holds the next chunk as well", async () => {
    const dir = newDir();
    const rec = new Recorder();
    const handle = pool.start(snapshot(dir, [chunk("a", 0), chunk("b", 1)]), rec);
    await rec.waitFor((m) => m.type === "step" && m.step === "reviewing" && m.chunkId === "a");
    await handle.pause();
    await rec.waitFor((m) => m.type === "paused");
    await sleep(800);
    // the review is stopped and b has not started
    expect(rec.of("step").filter((s) => s.chunkId === "b")).toEqual([]);
    await handle.resume();
    const result = await handle.result;
    expect(result.outcome).toBe("completed");
    expect(rec.of("step").filter((s) => s.chunkId === "b")).toHaveLength(2);
  });
});
