import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { runSpec } from "../src/engine.ts";
import { createSimulatedExecutor } from "../src/executors/index.ts";
import type { ExecutionHandle, ExecutorFactory } from "../src/executors/types.ts";
import { checkTree, recordTree } from "../src/review-guard.ts";
import { RunControl } from "../src/run-control.ts";
import { removeDir, tempDir } from "../src/testkit/index.ts";
import { chunk, gitOut, makeRepo, Recorder, snapshot } from "./engine-helpers.ts";

const dirs: string[] = [];
function newDir(name: string): string {
  const d = tempDir(name);
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", ["-c", "user.name=r", "-c", "user.email=r@r", ...args], {
    cwd,
    encoding: "utf8",
  });

/** A repo with committed files and uncommitted work in progress (what a chunk leaves). */
function workInProgress(): string {
  const repo = makeRepo(newDir("guard"));
  writeFileSync(join(repo, ".gitignore"), "build/\n");
  mkdirSync(join(repo, "build"));
  writeFileSync(join(repo, "build", "kept.txt"), "tracked although ignored\n");
  writeFileSync(join(repo, "old.txt"), "old\n");
  writeFileSync(join(repo, "gone.txt"), "to be deleted by the chunk\n");
  git(repo, "add", "-A");
  git(repo, "add", "-f", "build/kept.txt");
  git(repo, "commit", "-q", "-m", "base");
  // the chunk's uncommitted work: a change, a new file, a deletion
  writeFileSync(join(repo, "old.txt"), "changed by the chunk\n");
  writeFileSync(join(repo, "new.txt"), "new from the chunk\n");
  rmSync(join(repo, "gone.txt"));
  return repo;
}

function state(repo: string) {
  return {
    head: gitOut(repo, "rev-parse", "HEAD"),
    status: gitOut(repo, "status", "--porcelain"),
    old: readFileSync(join(repo, "old.txt"), "utf8"),
    added: readFileSync(join(repo, "new.txt"), "utf8"),
    gone: existsSync(join(repo, "gone.txt")),
    kept: readFileSync(join(repo, "build", "kept.txt"), "utf8"),
  };
}

describe("review guard", () => {
  test("an untouched tree passes", async () => {
    const repo = workInProgress();
    const before = await recordTree(repo, true);
    expect(await checkTree(repo, before)).toEqual({ changed: false, touched: [], reverted: false });
  });

  test("edits, new files, deletions and a commit by the reviewer are all put back exactly", async () => {
    const repo = workInProgress();
    const expected = state(repo);
    const before = await recordTree(repo, true);
    // the reviewer misbehaves in every way it can
    writeFileSync(join(repo, "old.txt"), "reviewer edit\n");
    writeFileSync(join(repo, "new.txt"), "reviewer edit of the new file\n");
    writeFileSync(join(repo, "sneaky.txt"), "reviewer file\n");
    mkdirSync(join(repo, "deep", "er"), { recursive: true });
    writeFileSync(join(repo, "deep", "er", "x.txt"), "x\n");
    rmSync(join(repo, "README.md"));
    writeFileSync(join(repo, "build", "kept.txt"), "reviewer edit of an ignored tracked file\n");
    git(repo, "add", "-A");
    git(repo, "commit", "-q", "-m", "reviewer commit");

    const check = await checkTree(repo, before);
    expect(check.changed).toBe(true);
    expect(check.reverted).toBe(true);
    expect(check.touched[0]).toMatch(/^HEAD \(moved from /);
    expect(check.touched).toEqual(
      expect.arrayContaining([
        "old.txt",
        "new.txt",
        "sneaky.txt",
        "deep/er/x.txt",
        "README.md",
        "build/kept.txt",
      ]),
    );
    expect(state(repo)).toEqual(expected);
    expect(existsSync(join(repo, "sneaky.txt"))).toBe(false);
    expect(existsSync(join(repo, "deep", "er", "x.txt"))).toBe(false);
    expect(readFileSync(join(repo, "README.md"), "utf8")).toBe("# test repo\n");
    expect(await checkTree(repo, before)).toMatchObject({ changed: false });
  });

  test("without git the change is detected (not reverted)", async () => {
    const dir = newDir("guard-plain");
    writeFileSync(join(dir, "a.txt"), "a\n");
    const before = await recordTree(dir, false);
    writeFileSync(join(dir, "b.txt"), "b\n");
    expect(await checkTree(dir, before)).toMatchObject({ changed: true, reverted: false });
  });

  test("through the engine: a reviewer that writes fails the review, and no commit holds its file", async () => {
    const dir = newDir("guard-engine");
    const repo = makeRepo(dir);
    // the simulated agent does the work; its reviewer writes a file before answering pass
    const sneakyReviewer: ExecutorFactory = (config) => {
      const inner = createSimulatedExecutor(config);
      return {
        kind: inner.kind,
        label: inner.label,
        execute: (req) => inner.execute(req),
        review(req): ExecutionHandle {
          writeFileSync(join(req.cwd, "reviewer-was-here.txt"), "x\n");
          return inner.review(req);
        },
        close: () => inner.close(),
      };
    };
    const rec = new Recorder();
    const result = await runSpec(
      snapshot(repo, [chunk("a", 0), chunk("b", 1)], {
        chunkMs: 50,
        worktreeRoot: join(dir, "wt"),
      }),
      { control: new RunControl(), send: rec.onMessage, createExecutor: sneakyReviewer },
    );
    expect(result.outcome).toBe("failed");
    expect(result.error).toMatch(/the reviewer changed reviewer-was-here\.txt \(reverted\)/);
    const states = rec.chunkStates();
    expect(states.get("a")?.status).toBe("failed");
    expect(states.get("b")?.status).toBe("cancelled");
    const workspace = rec.of("workspace")[0];
    const wt = workspace?.workdir ?? repo;
    expect(existsSync(join(wt, "reviewer-was-here.txt"))).toBe(false);
    expect(gitOut(repo, "log", "--all", "--format=%H", "--", "reviewer-was-here.txt")).toBe("");
    // the chunk's own work is still there, uncommitted, for a retry to pick up
    expect(gitOut(wt, "status", "--porcelain")).not.toBe("");
  });
});
