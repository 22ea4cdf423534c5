import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "@glm-workers/core/testkit";
import { describe, expect, test } from "vitest";
import { gitProject } from "./agent-helpers.ts";
import { type Json, useLiveServers } from "./helpers.ts";
import { api } from "./process-helpers.ts";

/**
 * Landing a run's work over REST against real git repositories: the diff, merge three ways,
 * refusals that leave the repository as it was, conflicts, discard, retry, worktree clean-up.
 */

const start = useLiveServers();

async function boot() {
  const live = await start({ MAX_WORKERS: "3", SIMULATED_CHUNK_MS: "150" });
  const { url } = live;
  return {
    url,
    dir: live.box.dir,
    orchestrator: live.orchestrator,
    call: <T = Json>(method: string, path: string, body?: unknown) =>
      api<T>(url, method, path, body),
  };
}

type App = Awaited<ReturnType<typeof boot>>;

function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "user.name=u", "-c", "user.email=u@u", ...args], {
    cwd,
    encoding: "utf8",
  });
}

/** A project on `dir` with one spec of the given chunks; resolves with the spec id. */
async function makeSpec(
  app: App,
  directory: string,
  title: string,
  chunks: Array<{ title: string; description?: string }>,
  projectId?: string,
): Promise<{ projectId: string; specId: string; chunkIds: string[] }> {
  let pid = projectId;
  if (!pid) {
    const p = await app.call("POST", "/api/projects", { name: title, directory });
    expect(p.status).toBe(201);
    pid = p.json.id as string;
  }
  const s = await app.call("POST", `/api/projects/${pid}/specs`, {
    title,
    content: `## Goal\n\n${title}.`,
    chunks: chunks.map((c) => ({ title: c.title, description: c.description ?? c.title })),
  });
  expect(s.status).toBe(201);
  const spec = await app.call("GET", `/api/specs/${s.json.id}`);
  return {
    projectId: pid,
    specId: s.json.id,
    chunkIds: (spec.json.chunks as Array<{ id: string }>).map((c) => c.id),
  };
}

async function runToEnd(app: App, specId: string, expected = "completed"): Promise<Json> {
  const started = await app.call("POST", "/api/workers", { specId });
  expect(started.status).toBe(201);
  const id = started.json.worker.id as string;
  return finished(app, id, expected);
}

async function finished(app: App, id: string, expected = "completed"): Promise<Json> {
  let view: Json = null;
  await waitFor(
    `worker ${id} to finish`,
    async () => {
      view = (await app.call("GET", `/api/workers/${id}`)).json;
      return ["completed", "failed", "stopped"].includes(view.status);
    },
    { timeoutMs: 20_000 },
  );
  expect(view.status, view.error ?? "").toBe(expected);
  return view;
}

function worktreeCount(project: string): number {
  return git(project, "worktree", "list", "--porcelain")
    .split("\n")
    .filter((l) => l.startsWith("worktree ")).length;
}

const TWO = [{ title: "Add the parser" }, { title: "Wire the parser" }];

describe("landing a run", () => {
  test("the diff of a finished run, whole and per chunk, and its counts on the worker", async () => {
    const app = await boot();
    const project = gitProject(app.dir, "repo");
    const { specId, chunkIds } = await makeSpec(app, project, "Parser", TWO);
    const view = await runToEnd(app, specId);
    expect(view.baseBranch).toBe("main");
    expect(view.baseCommit).toBe(git(project, "rev-parse", "main").trim());
    expect(view.landed).toBeNull();

    const diff = await app.call("GET", `/api/workers/${view.id}/diff`);
    expect(diff.status).toBe(200);
    expect(diff.json.base).toEqual({ branch: "main", commit: view.baseCommit });
    expect(diff.json.head.branch).toBe(view.branch);
    expect(diff.json.head.commit).toBe(git(project, "rev-parse", view.branch).trim());
    expect(diff.json.files).toHaveLength(2);
    for (const f of diff.json.files) {
      expect(f.status).toBe("added");
      expect(f.path).toMatch(/^glm-sim\/.+\.md$/);
      expect(f.additions).toBeGreaterThan(3);
      expect(f.deletions).toBe(0);
      expect(f.patch).toMatch(/^diff --git /);
      expect(f.patch).toContain("+# ");
      expect(f.truncated).toBe(false);
    }
    const additions = diff.json.files.reduce((n: number, f: Json) => n + f.additions, 0);
    expect(diff.json.stats).toEqual({ files: 2, additions, deletions: 0 });
    expect(view.changes).toEqual(diff.json.stats);

    const one = await app.call("GET", `/api/workers/${view.id}/diff?chunkId=${chunkIds[0]}`);
    expect(one.status).toBe(200);
    expect(one.json.chunkId).toBe(chunkIds[0]);
    expect(one.json.files).toHaveLength(1);
    expect(one.json.files[0].patch).toContain("+# Add the parser");

    const unknown = await app.call("GET", `/api/workers/${view.id}/diff?chunkId=nope`);
    expect(unknown.status).toBe(404);

    // a plain directory has no branch to diff
    const plain = join(app.dir, "plain");
    mkdirSync(plain);
    const other = await makeSpec(app, plain, "Plain", [{ title: "Only" }]);
    const plainRun = await runToEnd(app, other.specId);
    const refused = await app.call("GET", `/api/workers/${plainRun.id}/diff`);
    expect(refused.status).toBe(409);
    expect(refused.json.error.code).toBe("NOT_A_GIT_REPO");
  });

  test.each([
    ["squash", "squashed"],
    ["merge", "merged"],
    ["rebase", "rebased"],
  ])("%s lands the work on the base branch and removes the worktree", async (strategy, how) => {
    const app = await boot();
    const project = gitProject(app.dir, "repo");
    const { projectId, specId } = await makeSpec(app, project, "Parser", TWO);
    const view = await runToEnd(app, specId);
    const files = (await app.call("GET", `/api/workers/${view.id}/diff`)).json.files as Json[];
    const before = await app.call("GET", `/api/projects/${projectId}`);
    expect(before.json.worktrees.count).toBe(1);
    expect(before.json.worktrees.bytes).toBeGreaterThan(0);
    // the base moved on meanwhile (an unrelated commit)
    writeFileSync(join(project, "NOTES.md"), "notes\n");
    git(project, "add", "NOTES.md");
    git(project, "commit", "-q", "-m", "notes");
    const baseHead = git(project, "rev-parse", "HEAD").trim();

    const merged = await app.call("POST", `/api/workers/${view.id}/merge`, { strategy });
    expect(merged.status, JSON.stringify(merged.json)).toBe(200);
    expect(merged.json).toMatchObject({ merged: true, strategy, into: "main" });
    const head = git(project, "rev-parse", "main").trim();
    expect(merged.json.commit).toBe(head);
    for (const f of files) {
      expect(git(project, "show", `main:${f.path}`)).toContain("# ");
      expect(existsSync(join(project, f.path))).toBe(true); // the checkout has it too
    }
    expect(git(project, "status", "--porcelain")).toBe("");
    const parents = git(project, "rev-list", "--parents", "-n", "1", "main").trim().split(" ");
    if (strategy === "squash") {
      expect(parents).toEqual([head, baseHead]);
      expect(git(project, "log", "-1", "--format=%B", "main")).toContain("- Add the parser");
    } else if (strategy === "merge") {
      expect(parents).toHaveLength(3);
      expect(parents[1]).toBe(baseHead);
    } else {
      expect(parents).toHaveLength(2);
      const subjects = git(project, "log", "--format=%s", `${baseHead}..main`).trim().split("\n");
      expect(subjects).toEqual(["Wire the parser", "Add the parser"]);
    }
    expect(worktreeCount(project)).toBe(1);
    expect(git(project, "branch", "--list", view.branch).trim()).toBe("");

    const landed = (await app.call("GET", `/api/workers/${view.id}`)).json;
    expect(landed.landed).toMatchObject({ how, commit: head });
    const after = await app.call("GET", `/api/projects/${projectId}`);
    expect(after.json.worktrees).toEqual({ count: 0, bytes: 0 });
    // the diff of a landed run still reads, from the ref that keeps its tip
    const diff = await app.call("GET", `/api/workers/${view.id}/diff`);
    expect(diff.status).toBe(200);
    expect(diff.json.files).toHaveLength(2);
    // and it cannot land twice
    const again = await app.call("POST", `/api/workers/${view.id}/merge`, {});
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe("ALREADY_LANDED");
  });

  test("a conflicting merge is refused with the files and leaves the repository as it was", async () => {
    const app = await boot();
    const project = gitProject(app.dir, "repo");
    const { specId } = await makeSpec(app, project, "Parser", TWO);
    const view = await runToEnd(app, specId);
    const files = (await app.call("GET", `/api/workers/${view.id}/diff`)).json.files as Json[];
    const path = files[0].path as string;
    mkdirSync(join(project, "glm-sim"), { recursive: true });
    writeFileSync(join(project, path), "someone else's version\n");
    git(project, "add", path);
    git(project, "commit", "-q", "-m", "theirs");
    writeFileSync(join(project, "scratch.txt"), "untracked, not in the way\n");
    const head = git(project, "rev-parse", "HEAD").trim();
    const status = git(project, "status", "--porcelain");

    const conflicts = await app.call("GET", `/api/workers/${view.id}/conflicts`);
    expect(conflicts.status).toBe(200);
    expect(conflicts.json).toEqual({ base: [path], runs: [] });

    for (const strategy of ["squash", "merge", "rebase"]) {
      const refused = await app.call("POST", `/api/workers/${view.id}/merge`, { strategy });
      expect(refused.status).toBe(409);
      expect(refused.json.error.code).toBe("MERGE_CONFLICT");
      expect(refused.json.error.files).toEqual([path]);
      expect(git(project, "rev-parse", "HEAD").trim()).toBe(head);
      expect(git(project, "status", "--porcelain")).toBe(status);
      expect(existsSync(join(project, ".git", "MERGE_HEAD"))).toBe(false);
      expect(readFileSync(join(project, path), "utf8")).toBe("someone else's version\n");
      expect(worktreeCount(project)).toBe(2); // the run's worktree is still there
    }
    const still = (await app.call("GET", `/api/workers/${view.id}`)).json;
    expect(still.landed).toBeNull();
  });

  test("a dirty base or another checked-out branch is refused and the user's edit survives", async () => {
    const app = await boot();
    const project = gitProject(app.dir, "repo");
    const { specId } = await makeSpec(app, project, "Parser", TWO);
    const view = await runToEnd(app, specId);
    const head = git(project, "rev-parse", "HEAD").trim();
    writeFileSync(join(project, "README.md"), "# my unsaved edit\n");

    const dirty = await app.call("POST", `/api/workers/${view.id}/merge`, {});
    expect(dirty.status).toBe(409);
    expect(dirty.json.error.code).toBe("DIRTY_WORKTREE");
    expect(dirty.json.error.files).toEqual(["README.md"]);
    expect(readFileSync(join(project, "README.md"), "utf8")).toBe("# my unsaved edit\n");
    expect(git(project, "rev-parse", "HEAD").trim()).toBe(head);

    git(project, "stash", "-q");
    git(project, "checkout", "-q", "-b", "feature");
    const wrong = await app.call("POST", `/api/workers/${view.id}/merge`, {});
    expect(wrong.status).toBe(409);
    expect(wrong.json.error.code).toBe("WRONG_BRANCH");
    expect(wrong.json.error.message).toContain("main");
    git(project, "checkout", "-q", "main");
    git(project, "stash", "pop", "-q");
    expect(readFileSync(join(project, "README.md"), "utf8")).toBe("# my unsaved edit\n");

    const bad = await app.call("POST", `/api/workers/${view.id}/merge`, { strategy: "octopus" });
    expect(bad.status).toBe(400);
    const unknownField = await app.call("POST", `/api/workers/${view.id}/merge`, { force: true });
    expect(unknownField.status).toBe(400);
  });

  test("conflicts name other unlanded runs of the project that changed the same paths", async () => {
    const app = await boot();
    const project = gitProject(app.dir, "repo");
    const a = await makeSpec(app, project, "Parser", TWO);
    const b = await makeSpec(app, project, "Printer", [{ title: "Add the printer" }], a.projectId);
    const [runA, runB] = await Promise.all([runToEnd(app, a.specId), runToEnd(app, b.specId)]);
    expect((await app.call("GET", `/api/workers/${runA.id}/conflicts`)).json).toEqual({
      base: [],
      runs: [],
    });
    // run B also touches one of run A's files
    const path = (await app.call("GET", `/api/workers/${runA.id}/diff`)).json.files[0].path;
    mkdirSync(join(runB.workdir, "glm-sim"), { recursive: true });
    writeFileSync(join(runB.workdir, path), "the printer's take\n");
    git(runB.workdir, "add", path);
    git(runB.workdir, "commit", "-q", "-m", "printer touches the parser");

    const seen = await app.call("GET", `/api/workers/${runA.id}/conflicts`);
    expect(seen.json.runs).toEqual([
      { workerId: runB.id, specId: b.specId, specTitle: "Printer", files: [path] },
    ]);
    // once B is discarded it no longer counts
    const discarded = await app.call("POST", `/api/workers/${runB.id}/discard`);
    expect(discarded.status).toBe(200);
    expect((await app.call("GET", `/api/workers/${runA.id}/conflicts`)).json.runs).toEqual([]);
  });

  test("discard removes the worktree and the branch", async () => {
    const app = await boot();
    const project = gitProject(app.dir, "repo");
    const { specId } = await makeSpec(app, project, "Parser", TWO);
    const view = await runToEnd(app, specId);
    expect(existsSync(view.workdir)).toBe(true);
    const main = git(project, "rev-parse", "main").trim();

    const res = await app.call("POST", `/api/workers/${view.id}/discard`);
    expect(res.status).toBe(200);
    expect(res.json.discarded).toBe(true);
    expect(res.json.worker.landed).toMatchObject({ how: "discarded", commit: null });
    expect(existsSync(view.workdir)).toBe(false);
    expect(worktreeCount(project)).toBe(1);
    expect(git(project, "branch", "--list", view.branch).trim()).toBe("");
    expect(git(project, "rev-parse", "main").trim()).toBe(main);
    const merge = await app.call("POST", `/api/workers/${view.id}/merge`, {});
    expect(merge.json.error.code).toBe("ALREADY_LANDED");
    const diff = await app.call("GET", `/api/workers/${view.id}/diff`);
    expect(diff.status).toBe(409);
    // the spec's next run starts on a fresh branch
    const next = await runToEnd(app, specId);
    expect(next.branch).not.toBe(view.branch);
  });

  test("retry: a failed run picks up at its failed chunk; completed and stale runs are refused", async () => {
    const app = await boot();
    const project = gitProject(app.dir, "repo");
    const { specId, chunkIds } = await makeSpec(app, project, "Parser", [
      { title: "Add the parser" },
      { title: "Wire the parser", description: "Wire it. [simulate:fail]" },
      { title: "Test the parser" },
    ]);
    const failed = await runToEnd(app, specId, "failed");
    const spec1 = (await app.call("GET", `/api/specs/${specId}`)).json;
    expect(spec1.chunks.map((c: Json) => c.status)).toEqual(["completed", "failed", "cancelled"]);
    const firstDone = spec1.chunks[0];

    // the user fixes the chunk, then retries the run
    const fixed = await app.call("PATCH", `/api/chunks/${chunkIds[1]}`, {
      description: "Wire it.",
    });
    expect(fixed.status).toBe(200);
    const retried = await app.call("POST", `/api/workers/${failed.id}/retry`);
    expect(retried.status).toBe(201);
    expect(retried.json.status).toBe("started");
    const again = await finished(app, retried.json.worker.id);
    expect(again.branch).toBe(failed.branch);
    expect(again.baseCommit).toBe(failed.baseCommit);
    expect(again.workdir).toBe(failed.workdir);

    const spec2 = (await app.call("GET", `/api/specs/${specId}`)).json;
    expect(spec2.chunks.map((c: Json) => c.status)).toEqual([
      "completed",
      "completed",
      "completed",
    ]);
    // the completed chunk was not run again
    expect(spec2.chunks[0].startedAt).toBe(firstDone.startedAt);
    expect(spec2.chunks[0].commitHash).toBe(firstDone.commitHash);
    const log = git(project, "log", "--format=%s", `${failed.baseCommit}..${again.branch}`);
    expect(log.trim().split("\n")).toEqual([
      "Test the parser",
      "Wire the parser",
      "Add the parser",
    ]);
    // the retried run's diff has all three chunks' files
    expect((await app.call("GET", `/api/workers/${again.id}/diff`)).json.files).toHaveLength(3);

    const stale = await app.call("POST", `/api/workers/${failed.id}/retry`);
    expect(stale.status).toBe(409);
    expect(stale.json.error.code).toBe("NOT_LATEST");
    const done = await app.call("POST", `/api/workers/${again.id}/retry`);
    expect(done.status).toBe(409);
    expect(done.json.error.code).toBe("NOTHING_TO_RETRY");
    const missing = await app.call("POST", "/api/workers/no-such-run/retry");
    expect(missing.status).toBe(404);
  });

  test("a running run cannot be merged or discarded", async () => {
    const app = await boot();
    const project = gitProject(app.dir, "repo");
    const { specId } = await makeSpec(app, project, "Parser", [
      { title: "Slow", description: "Slowly. [simulate:slow]" },
    ]);
    const started = await app.call("POST", "/api/workers", { specId });
    const id = started.json.worker.id;
    for (const action of ["merge", "discard"]) {
      const res = await app.call("POST", `/api/workers/${id}/${action}`, {});
      expect(res.status).toBe(409);
      expect(res.json.error.code).toBe("RUN_ACTIVE");
    }
    await app.call("POST", `/api/workers/${id}/stop`);
  });

  test("worktree retention removes old unlanded worktrees and keeps their branches", async () => {
    const app = await boot();
    const project = gitProject(app.dir, "repo");
    const { specId } = await makeSpec(app, project, "Parser", TWO);
    const view = await runToEnd(app, specId);
    expect(await app.orchestrator.removeStaleWorktrees()).toBe(0); // too young
    await new Promise((r) => setTimeout(r, 5));
    expect(await app.orchestrator.removeStaleWorktrees(1)).toBe(1); // older than 1 ms
    expect(existsSync(view.workdir)).toBe(false);
    expect(git(project, "branch", "--list", view.branch).trim()).not.toBe("");
    const after = (await app.call("GET", `/api/workers/${view.id}`)).json;
    expect(after.workdir).toBeNull();
    // the work is still there to merge
    const merged = await app.call("POST", `/api/workers/${view.id}/merge`, {});
    expect(merged.status).toBe(200);
  });
});
