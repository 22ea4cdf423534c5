import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { runSpec } from "../src/engine.ts";
import { RunPool } from "../src/pool.ts";
import { RunControl } from "../src/run-control.ts";
import {
  chunk,
  gitOut,
  makeRepo,
  Recorder,
  recordingExecutor,
  snapshot,
  useTempDirs,
} from "./engine-helpers.ts";

let pool: RunPool;
const newDir = useTempDirs();

beforeAll(() => {
  pool = new RunPool({ maxThreads: 2 });
});
afterAll(async () => {
  await pool.close();
});
describe("runSpec in a worker thread", () => {
  test("three chunks in a git repo: a worktree branch with one commit per chunk", async () => {
    const dir = newDir("engine-git");
    const repo = makeRepo(dir);
    const rec = new Recorder();
    const handle = pool.start(
      snapshot(repo, [chunk("a", 0), chunk("b", 1), chunk("c", 2)], {
        worktreeRoot: join(dir, "worktrees"),
      }),
      rec,
    );
    const result = await handle.result;
    expect(result).toEqual({
      outcome: "completed",
      error: null,
      progress: { current: 3, total: 3, passed: 3, failed: 0 },
    });

    const [workspace] = rec.of("workspace");
    expect(workspace?.isGit).toBe(true);
    expect(workspace?.branch).toMatch(/^glm-workers\/test-spec-/);
    const workdir = workspace?.workdir ?? "";
    expect(workdir.startsWith(join(dir, "worktrees"))).toBe(true);

    const hashes = rec
      .of("chunk")
      .filter((m) => m.event === "finished")
      .map((m) => m.chunk.commitHash);
    expect(hashes).toHaveLength(3);
    const log = gitOut(workdir, "log", "--format=%H %an %s", `${workspace?.branch}`)
      .split("\n")
      .slice(0, 4);
    expect(log.slice(0, 3).map((l) => l.split(" ")[0])).toEqual([...hashes].reverse());
    expect(log.slice(0, 3).every((l) => l.includes(" glm-workers Chunk "))).toBe(true);
    expect(log[3]).toContain("initial");
    // the agent's files are in the branch, the main checkout is untouched and clean
    expect(gitOut(workdir, "show", "--name-only", "--format=", hashes[0] ?? "")).toBe(
      "glm-sim/chunk-a.md",
    );
    expect(existsSync(join(repo, "glm-sim"))).toBe(false);
    expect(gitOut(repo, "status", "--porcelain")).toBe("");
    expect(gitOut(repo, "rev-parse", "--abbrev-ref", "HEAD")).toBe("main");

    // typed events along the way
    expect(rec.of("step").map((s) => `${s.chunkId}:${s.step}`)).toEqual([
      "a:executing",
      "a:reviewing",
      "b:executing",
      "b:reviewing",
      "c:executing",
      "c:reviewing",
    ]);
    expect(rec.of("step").every((s) => typeof s.pid === "number")).toBe(true);
    expect(rec.of("log").some((l) => l.chunkId === "b" && l.line.includes("Editing"))).toBe(true);
    expect(rec.of("tool").some((t) => t.name === "bash" && t.status === "completed")).toBe(true);
    const progress = rec.of("progress").map((p) => p.progress.current);
    expect(progress).toContain(1);
    expect(progress).toContain(2);
    expect(rec.messages.at(-1)?.type).toBe("done");
  });

  test("a directory without git runs in place, with no commits", async () => {
    const dir = newDir("engine-plain");
    const rec = new Recorder();
    const result = await pool.start(snapshot(dir, [chunk("x", 0), chunk("y", 1)]), rec).result;
    expect(result.outcome).toBe("completed");
    expect(rec.of("workspace")[0]).toEqual({
      type: "workspace",
      workdir: dir,
      branch: null,
      isGit: false,
      baseBranch: null,
      baseCommit: null,
    });
    expect(readFileSync(join(dir, "glm-sim", "chunk-x.md"), "utf8")).toContain("# Chunk x");
    expect(existsSync(join(dir, "glm-sim", "chunk-y.md"))).toBe(true);
    const finished = rec.of("chunk").filter((m) => m.event === "finished");
    expect(finished.map((m) => [m.chunk.status, m.chunk.commitHash])).toEqual([
      ["completed", null],
      ["completed", null],
    ]);
  });

  test("needs_fix inserts a fix chunk right after and runs it once", async () => {
    const dir = newDir("engine-fix");
    const repo = makeRepo(dir);
    const rec = new Recorder();
    const result = await pool.start(
      snapshot(
        repo,
        [chunk("a", 0), chunk("b", 1, "Part b. [simulate:needs_fix]"), chunk("c", 2)],
        { worktreeRoot: join(dir, "wt") },
      ),
      rec,
    ).result;
    expect(result.outcome).toBe("completed");
    expect(result.progress).toEqual({ current: 4, total: 4, passed: 4, failed: 0 });

    const inserted = rec.of("chunk").filter((m) => m.event === "inserted");
    expect(inserted).toHaveLength(1);
    const fix = inserted[0]?.chunk;
    expect(fix?.fixOf).toBe("b");
    expect(fix?.order).toBe(2);
    expect(fix?.title).toBe("Fix: Chunk b");
    expect(fix?.description).not.toContain("[simulate:");
    const states = rec.chunkStates();
    expect(states.get("b")).toMatchObject({ status: "completed", reviewStatus: "needs_fix" });
    expect(states.get(fix?.id ?? "")).toMatchObject({ status: "completed", reviewStatus: "pass" });
    // order of work: a, b, fix, c
    const started = rec
      .of("chunk")
      .filter((m) => m.event === "started")
      .map((m) => m.chunk.id);
    expect(started).toEqual(["a", "b", fix?.id, "c"]);
    const branch = rec.of("workspace")[0]?.branch ?? "";
    expect(gitOut(repo, "log", "--format=%s", branch).split("\n").slice(0, 4)).toEqual([
      "Chunk c",
      "Fix: Chunk b",
      "Chunk b",
      "Chunk a",
    ]);
  });

  test("an execution failure stops the run: dependents and independent chunks are cancelled", async () => {
    const dir = newDir("engine-fail");
    const rec = new Recorder();
    const result = await pool.start(
      snapshot(dir, [
        chunk("a", 0, "Part a. [simulate:fail]"),
        chunk("b", 1, "Part b.", { dependencies: ["a"] }),
        chunk("c", 2, "Part c."),
        chunk("d", 3, "Part d.", { dependencies: ["b"] }),
      ]),
      rec,
    ).result;
    expect(result.outcome).toBe("failed");
    expect(result.error).toContain('chunk "Chunk a" failed');
    expect(result.error).toContain("simulated failure");
    expect(result.progress).toEqual({ current: 4, total: 4, passed: 0, failed: 1 });
    const states = rec.chunkStates();
    expect(states.get("a")).toMatchObject({ status: "failed" });
    expect(String(states.get("a")?.error)).toContain("simulated failure");
    for (const id of ["b", "c", "d"]) {
      expect(states.get(id)).toMatchObject({
        status: "cancelled",
        event: "cancelled",
        error: 'the run stopped after "Chunk a" failed',
      });
    }
    expect(rec.of("step").map((s) => `${s.chunkId}:${s.step}`)).toEqual(["a:executing"]);
    expect(existsSync(join(dir, "glm-sim", "chunk-c.md"))).toBe(false);
  });

  test("a review fail stops the run and cancels every remaining chunk", async () => {
    const dir = newDir("engine-review-fail");
    const rec = new Recorder();
    const result = await pool.start(
      snapshot(dir, [
        chunk("a", 0, "Part a. [simulate:review_fail]"),
        chunk("b", 1),
        chunk("c", 2),
      ]),
      rec,
    ).result;
    expect(result.outcome).toBe("failed");
    const states = rec.chunkStates();
    expect(states.get("a")).toMatchObject({ status: "failed", reviewStatus: "fail" });
    expect(result.error).toContain("the review rejected the chunk");
    for (const id of ["b", "c"]) {
      expect(states.get(id)).toMatchObject({
        status: "cancelled",
        error: 'the run stopped after "Chunk a" failed',
      });
    }
    expect(rec.of("step").map((s) => s.chunkId)).toEqual(["a", "a"]);
  });

  test("a malformed review answer fails the chunk and keeps the raw text", async () => {
    const dir = newDir("engine-bad-review");
    const rec = new Recorder();
    const result = await pool.start(
      snapshot(dir, [chunk("a", 0, "Part a. [simulate:bad_review]"), chunk("b", 1)]),
      rec,
    ).result;
    expect(result.outcome).toBe("failed");
    const a = rec.chunkStates().get("a");
    expect(a?.status).toBe("failed");
    expect(String(a?.error)).toContain("not JSON");
    expect(String(a?.error)).toContain("Looks fine to me, I think? (not JSON)");
    expect(rec.chunkStates().get("b")).toMatchObject({ status: "cancelled" });
    expect(
      rec
        .of("chunk")
        .filter((m) => m.event === "started")
        .map((m) => m.chunk.id),
    ).toEqual(["a"]);
  });

  test("an agent that changes nothing fails its chunk", async () => {
    const dir = newDir("engine-nochange");
    const repo = makeRepo(dir);
    const rec = new Recorder();
    const result = await pool.start(
      snapshot(repo, [chunk("a", 0, "Part a. [simulate:no_change]")], {
        worktreeRoot: join(dir, "wt"),
      }),
      rec,
    ).result;
    expect(result.outcome).toBe("failed");
    expect(String(rec.chunkStates().get("a")?.error)).toContain("did not change");
    expect(rec.of("step").map((s) => s.step)).toEqual(["executing"]);
  });

  test("a resumed run skips completed chunks and continues on the same branch", async () => {
    const dir = newDir("engine-resume");
    const repo = makeRepo(dir);
    const worktreeRoot = join(dir, "wt");
    const first = new Recorder();
    const one = await pool.start(
      snapshot(repo, [chunk("a", 0)], { worktreeRoot, workerId: "worker-1" }),
      first,
    ).result;
    expect(one.outcome).toBe("completed");
    const ws = first.of("workspace")[0];
    const hashA = first.chunkStates().get("a")?.commitHash as string;

    const second = new Recorder();
    const two = await pool.start(
      snapshot(
        repo,
        [
          chunk("a", 0, "Part a.", {
            status: "completed",
            reviewStatus: "pass",
            commitHash: hashA,
          }),
          chunk("b", 1, "Part b.", { status: "running" }),
        ],
        {
          worktreeRoot,
          workerId: "worker-1",
          branch: ws?.branch ?? null,
          workdir: ws?.workdir ?? null,
        },
      ),
      second,
    ).result;
    expect(two).toMatchObject({ outcome: "completed", progress: { current: 2, passed: 2 } });
    expect(second.of("workspace")[0]).toEqual(ws);
    expect(second.of("step").map((s) => s.chunkId)).toEqual(["b", "b"]);
    const hashB = second.chunkStates().get("b")?.commitHash as string;
    expect(gitOut(repo, "rev-parse", `${hashB}^`)).toBe(hashA);
  });
});

describe("a failed chunk stops the run", () => {
  test.each([
    { how: "the agent fails", directive: "fail", error: "simulated failure", opts: {} },
    {
      how: "the agent changes nothing",
      directive: "no_change",
      error: "the working tree did not change",
      opts: {},
    },
    {
      how: "the agent times out",
      directive: "slow",
      error: "the agent timed out after 1 s",
      opts: { chunkMs: 1000, chunkTimeoutMs: 1000 },
    },
  ])(
    "when $how in chunk 1 of 3, chunks 2 and 3 are cancelled and never started",
    async ({ directive, error, opts }) => {
      const dir = newDir(`engine-stop-${directive}`);
      const rec = new Recorder();
      const calls: string[] = [];
      const result = await runSpec(
        snapshot(
          dir,
          [chunk("a", 0, `Part a. [simulate:${directive}]`), chunk("b", 1), chunk("c", 2)],
          opts,
        ),
        {
          control: new RunControl(),
          send: rec.onMessage,
          createExecutor: recordingExecutor(calls),
        },
      );
      expect(result.outcome).toBe("failed");
      expect(result.error).toBe(`chunk "Chunk a" failed: ${rec.chunkStates().get("a")?.error}`);
      expect(result.error).toContain(error);
      expect(result.progress).toEqual({ current: 3, total: 3, passed: 0, failed: 1 });
      expect(rec.messages.at(-1)).toMatchObject({ type: "done", outcome: "failed" });

      expect(calls).toEqual(["a:execute"]);
      const started = rec.of("chunk").filter((m) => m.event === "started");
      expect(started.map((m) => m.chunk.id)).toEqual(["a"]);
      const states = rec.chunkStates();
      expect(states.get("a")).toMatchObject({ status: "failed", event: "finished" });
      for (const id of ["b", "c"]) {
        expect(states.get(id)).toMatchObject({
          status: "cancelled",
          event: "cancelled",
          error: 'the run stopped after "Chunk a" failed',
        });
        expect(states.get(id)?.startedAt).toBeUndefined();
      }
      expect(existsSync(join(dir, "glm-sim", "chunk-b.md"))).toBe(false);
    },
  );

  test("a retry after a stopped run starts again at the failed chunk and runs the cancelled ones", async () => {
    const dir = newDir("engine-retry");
    const rec = new Recorder();
    const calls: string[] = [];
    const result = await runSpec(
      snapshot(dir, [
        chunk("a", 0, "Part a.", { status: "completed", reviewStatus: "pass" }),
        chunk("b", 1, "Part b.", { status: "failed" }),
        chunk("c", 2, "Part c.", { status: "cancelled", dependencies: ["b"] }),
      ]),
      { control: new RunControl(), send: rec.onMessage, createExecutor: recordingExecutor(calls) },
    );
    expect(result).toEqual({
      outcome: "completed",
      error: null,
      progress: { current: 3, total: 3, passed: 3, failed: 0 },
    });
    expect(calls).toEqual(["b:execute", "b:review", "c:execute", "c:review"]);
    expect(rec.chunkStates().has("a")).toBe(false);
  });
});
