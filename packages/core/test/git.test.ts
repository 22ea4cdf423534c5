import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import {
  branchName,
  commitAll,
  gitTopLevel,
  isGitRepo,
  listWorktrees,
  prepareWorkspace,
} from "../src/git.ts";
import { removeDir, tempDir } from "../src/testkit/index.ts";
import { treeFingerprint } from "../src/tree-state.ts";
import { gitOut, makeRepo } from "./engine-helpers.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});
function newDir(): string {
  const d = tempDir("git");
  dirs.push(d);
  return d;
}

describe("git workspace", () => {
  test("branch names are slugged and short", () => {
    expect(branchName("Add OAuth login!", "01HZX9ABCDEF12345678")).toBe(
      "glm-workers/add-oauth-login-12345678",
    );
    expect(branchName("***", "x")).toBe("glm-workers/spec-x");
  });

  test("a plain directory runs in place", async () => {
    const dir = newDir();
    expect(await isGitRepo(dir)).toBe(false);
    const ws = await prepareWorkspace({
      projectDir: dir,
      specTitle: "S",
      runId: "r1",
      useWorktree: true,
    });
    expect(ws).toMatchObject({ workdir: dir, branch: null, isGit: false, inPlace: true });
  });

  test("a repo gets a worktree on a new branch; the same branch is reused on resume", async () => {
    const dir = newDir();
    const repo = makeRepo(dir);
    const root = join(dir, "wt");
    const ws = await prepareWorkspace({
      projectDir: repo,
      specTitle: "My spec",
      runId: "run-0001",
      useWorktree: true,
      worktreeRoot: root,
    });
    expect(ws).toMatchObject({
      isGit: true,
      inPlace: false,
      branch: "glm-workers/my-spec-run0001",
    });
    expect(ws.workdir.startsWith(root)).toBe(true);
    expect(await gitTopLevel(ws.workdir)).toBe(ws.workdir);
    expect((await listWorktrees(repo)).get(ws.workdir)).toBe(ws.branch);

    const again = await prepareWorkspace({
      projectDir: repo,
      specTitle: "My spec",
      runId: "other",
      useWorktree: true,
      worktreeRoot: root,
      branch: ws.branch,
    });
    expect(again.workdir).toBe(ws.workdir);

    // the worktree was removed but the branch stays: a new worktree on the same branch
    gitOut(repo, "worktree", "remove", "--force", ws.workdir);
    const restored = await prepareWorkspace({
      projectDir: repo,
      specTitle: "My spec",
      runId: "other",
      useWorktree: true,
      worktreeRoot: root,
      branch: ws.branch,
    });
    expect(restored.branch).toBe(ws.branch);
    expect(gitOut(restored.workdir, "rev-parse", "--abbrev-ref", "HEAD")).toBe(ws.branch);
  });

  test("the default worktree root is inside the git directory and keeps the checkout clean", async () => {
    const dir = newDir();
    const repo = makeRepo(dir);
    const ws = await prepareWorkspace({
      projectDir: repo,
      specTitle: "S",
      runId: "abc",
      useWorktree: true,
    });
    expect(ws.workdir.startsWith(join(repo, ".git", "glm-workers", "worktrees"))).toBe(true);
    writeFileSync(join(ws.workdir, "new.txt"), "x");
    expect(gitOut(repo, "status", "--porcelain")).toBe("");
  });

  test("a project in a subdirectory works in the same subdirectory of the worktree", async () => {
    const dir = newDir();
    const repo = makeRepo(dir);
    mkdirSync(join(repo, "pkg"));
    writeFileSync(join(repo, "pkg", "a.txt"), "a");
    gitOut(repo, "add", "-A");
    gitOut(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "pkg");
    const ws = await prepareWorkspace({
      projectDir: join(repo, "pkg"),
      specTitle: "S",
      runId: "sub",
      useWorktree: true,
      worktreeRoot: join(dir, "wt"),
    });
    expect(ws.workdir.endsWith("/pkg")).toBe(true);
    expect(ws.repoRoot && join(ws.repoRoot, "pkg")).toBe(ws.workdir);
  });

  test("a repo without commits, or with worktrees disabled, works in place", async () => {
    const dir = newDir();
    gitOut(dir, "init", "-q", "-b", "trunk");
    const ws = await prepareWorkspace({
      projectDir: dir,
      specTitle: "S",
      runId: "r",
      useWorktree: true,
    });
    expect(ws).toMatchObject({ workdir: dir, isGit: true, inPlace: true, branch: "trunk" });
    expect(ws.notes[0]).toContain("no commit");
    const repo = makeRepo(newDir());
    const off = await prepareWorkspace({
      projectDir: repo,
      specTitle: "S",
      runId: "r",
      useWorktree: false,
    });
    expect(off).toMatchObject({ workdir: repo, inPlace: true, branch: "main" });
  });
});

describe("change detection and commits", () => {
  test("git: a new file, a rewrite of a dirty file and a commit all change the fingerprint", async () => {
    const repo = makeRepo(newDir());
    const f0 = await treeFingerprint(repo, true);
    expect(await treeFingerprint(repo, true)).toBe(f0);
    writeFileSync(join(repo, "a.txt"), "1");
    const f1 = await treeFingerprint(repo, true);
    expect(f1).not.toBe(f0);
    await new Promise((r) => setTimeout(r, 5));
    writeFileSync(join(repo, "a.txt"), "22");
    const f2 = await treeFingerprint(repo, true);
    expect(f2).not.toBe(f1);
    const hash = await commitAll(repo, "add a\n\nbody");
    expect(hash).toMatch(/^[0-9a-f]{40}$/);
    expect(gitOut(repo, "log", "-1", "--format=%H|%an|%s")).toBe(`${hash}|glm-workers|add a`);
    expect(gitOut(repo, "status", "--porcelain")).toBe("");
    expect(await treeFingerprint(repo, true)).not.toBe(f2);
  });

  test("no git: any file change in the directory, but not in node_modules", async () => {
    const dir = newDir();
    mkdirSync(join(dir, "node_modules", "x"), { recursive: true });
    const f0 = await treeFingerprint(dir, false);
    writeFileSync(join(dir, "node_modules", "x", "i.js"), "x");
    expect(await treeFingerprint(dir, false)).toBe(f0);
    mkdirSync(join(dir, "src"));
    writeFileSync(join(dir, "src", "a.ts"), "x");
    expect(await treeFingerprint(dir, false)).not.toBe(f0);
  });
});

describe("what git gets of the server's environment", () => {
  test("a repository's hook runs without the server's secrets", async () => {
    const dir = newDir();
    const repo = makeRepo(dir);
    const dump = join(dir, "hook-env.txt");
    writeFileSync(join(repo, ".git", "hooks", "post-checkout"), `#!/bin/sh\nenv > "${dump}"\n`, {
      mode: 0o755,
    });
    process.env.GLM_API_KEY = "server-secret-for-the-hook-test";
    try {
      await prepareWorkspace({
        projectDir: repo,
        specTitle: "Hook env",
        runId: "hook-env-1",
        useWorktree: true,
        branch: null,
        worktreeRoot: join(dir, "wt"),
      });
    } finally {
      delete process.env.GLM_API_KEY;
    }
    const env = readFileSync(dump, "utf8");
    expect(env).toMatch(/^PATH=/m);
    expect(env).not.toContain("server-secret-for-the-hook-test");
  });
});
