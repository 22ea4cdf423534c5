import { type ChildProcess, spawn } from "node:child_process";
import { afterEach, describe, expect, test } from "vitest";
import {
  descendants,
  isAlive,
  killTree,
  processState,
  readProcTable,
  resumeTree,
  suspendTree,
  waitGone,
  waitStopped,
} from "../src/process-tree.ts";
import { sleep } from "./engine-helpers.ts";

const started: ChildProcess[] = [];

afterEach(async () => {
  for (const child of started.splice(0)) {
    if (child.pid !== undefined) await killTree(child.pid);
  }
});

/** sh → sleep, and (setsid) sh in a NEW session → sleep: four processes. */
async function spawnTree(): Promise<{ root: number; all: number[] }> {
  const child = spawn("sh", ["-c", "sleep 30 & setsid sh -c 'sleep 30 & wait' & wait"], {
    stdio: "ignore",
  });
  started.push(child);
  const root = child.pid ?? -1;
  for (let i = 0; i < 200; i++) {
    const all = descendants(root);
    if (all.length >= 4) return { root, all };
    await sleep(10);
  }
  throw new Error(`tree did not grow: ${descendants(root).join(",")}`);
}

describe("process-tree", () => {
  test("readProcTable and descendants find children across sessions, root first", async () => {
    const { root, all } = await spawnTree();
    expect(all[0]).toBe(root);
    expect(new Set(all).size).toBe(all.length);
    const table = readProcTable();
    expect(table.get(root)?.length).toBeGreaterThanOrEqual(2);
    expect(descendants(process.pid, table)).toContain(root);
  });

  test("suspendTree stops every process; resumeTree continues them", async () => {
    const { root, all } = await spawnTree();
    const stopped = suspendTree(root);
    expect(new Set(stopped)).toEqual(new Set(all));
    expect(await waitStopped(stopped)).toBe(true);
    expect(all.map(processState)).toEqual(all.map(() => "T"));
    resumeTree(root, stopped);
    await sleep(50);
    expect(all.map(processState).every((s) => s === "S" || s === "R")).toBe(true);
  });

  test("killTree ends the whole tree, also when it is stopped", async () => {
    const { root, all } = await spawnTree();
    suspendTree(root);
    const killed = await killTree(root);
    for (const pid of all) expect(killed).toContain(pid);
    expect(await waitGone(all, 2000)).toBe(true);
    expect(all.filter(isAlive)).toEqual([]);
  });

  test("killTree ends a tree whose processes ignore SIGTERM", async () => {
    const child = spawn("sh", ["-c", "trap '' TERM; sleep 30 & wait; sleep 30"], {
      stdio: "ignore",
    });
    started.push(child);
    const root = child.pid ?? -1;
    await sleep(100);
    const all = descendants(root);
    expect(all.length).toBeGreaterThanOrEqual(2);
    await killTree(root, { graceMs: 30 });
    expect(await waitGone(all, 2000)).toBe(true);
  });

  test("functions tolerate pids that do not exist", async () => {
    const ghost = 2 ** 22 + 12345;
    expect(isAlive(ghost)).toBe(false);
    expect(processState(ghost)).toBeNull();
    expect(descendants(ghost)).toEqual([ghost]);
    expect(suspendTree(ghost)).toEqual([]);
    expect(await killTree(ghost)).toEqual([ghost]);
  });
});
