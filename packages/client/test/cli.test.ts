import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { waitFor } from "@glm-workers/core/testkit";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { painter, table } from "../src/cli/output.ts";
import { parseSpecMarkdown, SpecFileError } from "../src/cli/spec-file.ts";
import {
  CLI_BUILT,
  type CliResult,
  cli,
  closedPort,
  git,
  gitProject,
  json,
  ndjson,
  plainProject,
  startTestServer,
  type TestServer,
} from "./cli-helpers.ts";

/**
 * The `glm-workers` CLI as a child process against one real server (simulated agent): every
 * command, `--json` parsed and checked, exit codes for outcomes, bad ids and a dead server.
 */

/** Runs and CLI processes overlap on a 2-core machine: each test gets two minutes at most. */
const LONG = 120_000;
/** In-process waits poll gently: the machine is busy enough with the runs and the CLI. */
const POLL = { timeoutMs: 90_000, intervalMs: 200 };

/** Chunks that take long enough to pause, resume and stop the run in the middle. */
function slowChunks(n: number) {
  return Array.from({ length: n }, (_, i) => ({
    title: `Step ${i}`,
    description: "[simulate:slow]",
  }));
}

function oneLine(result: CliResult): string {
  const lines = result.stderr.trimEnd().split("\n");
  expect(lines, result.stderr).toHaveLength(1);
  return lines[0] ?? "";
}

describe("the spec file", () => {
  test("# title, content before the first ##, one chunk per ## section; fences are text", () => {
    const spec = parseSpecMarkdown(
      [
        "Preamble.",
        "# Parser  ",
        "",
        "Build a parser.",
        "",
        "```md",
        "## not a chunk",
        "# not a title",
        "```",
        "",
        "## Add the parser ##",
        "Write it.",
        "",
        "### Details",
        "~~~",
        "## still code",
        "~~~",
        "",
        "## Wire it",
        "# an h1 in a section is text",
        "",
      ].join("\r\n"),
    );
    expect(spec.title).toBe("Parser");
    expect(spec.content).toBe(
      "Preamble.\n\nBuild a parser.\n\n```md\n## not a chunk\n# not a title\n```",
    );
    expect(spec.chunks).toEqual([
      { title: "Add the parser", description: "Write it.\n\n### Details\n~~~\n## still code\n~~~" },
      { title: "Wire it", description: "# an h1 in a section is text" },
    ]);
  });

  test("a missing title, no sections or an empty heading are errors", () => {
    expect(() => parseSpecMarkdown("## A\nx", "a.md")).toThrow(/a\.md has no "# Title"/);
    expect(() => parseSpecMarkdown("# T\ntext\n```\n## hidden\n```", "b.md")).toThrow(
      SpecFileError,
    );
    expect(() => parseSpecMarkdown("# T\n##\nx", "c.md")).toThrow(/line 2/);
  });
});

test("tables are aligned on the plain text; colours only on a TTY without NO_COLOR", () => {
  const rows = [
    [{ text: "abc", style: "red" as const }, "x"],
    ["a", "longer"],
  ];
  const plain = table(painter(false, {}), ["ID", "NAME"], rows);
  expect(plain).toBe("ID   NAME\nabc  x\na    longer");
  expect(table(painter(true, { NO_COLOR: "1" }), ["ID", "NAME"], rows)).toBe(plain);
  const coloured = table(painter(true, {}), ["ID", "NAME"], rows);
  expect(coloured).toContain("\u001b[31mabc\u001b[39m  x");
  expect(coloured.replaceAll(/\[\d+m/g, "").replaceAll(String.fromCharCode(27), "")).toBe(plain);
});

describe("without a server", () => {
  test.concurrent("--help, usage errors (exit 2) and a dead server (exit 1)", {
    timeout: LONG,
  }, async () => {
    const port = await closedPort();
    const [help, unknown, badFlag, dead] = await Promise.all([
      cli(["--help"]),
      cli(["frobnicate"]),
      cli(["status", "--patch"]),
      cli(["status", "--json"], { url: `http://127.0.0.1:${port}` }),
    ]);
    expect(help.code).toBe(0);
    for (const name of ["status", "queue", "start", "tail", "run", "diff", "merge", "retry"]) {
      expect(help.stdout).toContain(name);
    }
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^glm-workers: unknown command "frobnicate"\nusage: /);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toContain("status does not take --patch");
    expect(badFlag.stderr).toContain("usage: glm-workers status");
    expect(dead.code).toBe(1);
    expect(dead.stdout).toBe("");
    expect(oneLine(dead)).toBe(
      `glm-workers: cannot reach the glm-workers server at http://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`,
    );
  });

  test.skipIf(!existsSync(CLI_BUILT))(
    "the built dist/cli/main.js runs with plain node",
    async () => {
      const help = await cli(["--help"], { entry: CLI_BUILT });
      expect(help.code, help.stderr).toBe(0);
      expect(help.stdout).toContain("usage: glm-workers <command>");
    },
  );
});

describe("against a server", () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ MAX_WORKERS: "8", SIMULATED_CHUNK_MS: "150" });
  });
  afterAll(async () => {
    await server?.close();
  });

  const run = (args: string[], opts: { cwd?: string } = {}) =>
    cli(args, { url: server.url, ...opts });

  async function makeSpec(
    directory: string,
    title: string,
    chunks: Array<{ title: string; description?: string }>,
  ) {
    const project = await server.trpc.projects.create.mutate({ name: title, directory });
    const spec = await server.trpc.specs.create.mutate({
      projectId: project.id,
      title,
      content: `${title}.`,
      chunks: chunks.map((c) => ({ title: c.title, description: c.description ?? c.title })),
    });
    return { projectId: project.id, specId: spec.id };
  }

  async function finished(id: string) {
    return waitFor(
      `worker ${id} to finish`,
      async () => {
        const view = await server.trpc.workers.get.query({ id });
        return ["completed", "failed", "stopped"].includes(view.status) ? view : null;
      },
      POLL,
    );
  }

  describe("runs", () => {
    test.concurrent("start, queue, pause, resume, stop, tail (exit 0 completed, 2 stopped), status", {
      timeout: LONG,
    }, async () => {
      // a plain directory runs one spec at a time: a long run holds it, the next one waits
      const dir = plainProject(server.dir, "plain");
      const blocker = await makeSpec(dir, "Blocker", slowChunks(200));
      const next = await server.trpc.specs.create.mutate({
        projectId: blocker.projectId,
        title: "Next",
        content: "",
        chunks: [{ title: "One" }],
      });
      const startedBlocker = await server.trpc.workers.start.mutate({ specId: blocker.specId });
      const id = startedBlocker.status === "started" ? startedBlocker.worker.id : "";
      expect(id).not.toBe("");

      const [start] = await Promise.all([
        run(["start", next.id, "--priority", "3", "--json"]),
        waitFor(
          "the long run to be under way",
          async () => (await server.trpc.workers.logs.query({ id, limit: 1 })).length > 0,
          POLL,
        ),
      ]);
      expect(start.code, start.stderr).toBe(0);
      const queued = json(start);
      expect(queued.status).toBe("queued");
      expect(queued.queueItem).toMatchObject({ specId: next.id, priority: 3 });

      const [queueJson, queueHuman, paused] = await Promise.all([
        run(["queue", "--json"]),
        run(["queue"]),
        run(["pause", id.slice(0, 8), "--json"]),
      ]);
      const q = json(queueJson);
      expect(q.paused).toBe(false);
      const item = q.queue.find((i: { specId: string }) => i.specId === next.id);
      expect(item).toMatchObject({ specTitle: "Next", priority: 3, waitReason: "project_busy" });
      expect(queueHuman.stdout).toMatch(/^POS\s+PRIORITY\s+SPEC\s+WAITING$/m);
      expect(queueHuman.stdout).toMatch(
        new RegExp(`^${item.position}\\s+3\\s+Next\\s+project_busy: `, "m"),
      );
      expect(queueHuman.stdout).not.toContain("\u001b["); // no colours off a TTY
      expect(paused.code, paused.stderr).toBe(0);
      expect(json(paused)).toMatchObject({ id, status: "paused" });

      const resumed = await run(["resume", id, "--json"]);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(json(resumed)).toMatchObject({ id, status: "running" });
      const stopped = await run(["stop", id]);
      expect(stopped.code, stopped.stderr).toBe(0);
      expect(stopped.stdout).toMatch(
        new RegExp(`^stopped worker ${id.slice(0, 8)} · Blocker \\(stopped\\)`),
      );

      // the slot is free: the queued spec starts
      const nextRun = await waitFor(
        "the queued spec to start",
        async () => {
          const { workers } = await server.trpc.workers.list.query({ recent: 50 });
          return workers.find((w) => w.specId === next.id);
        },
        POLL,
      );
      const [tailStopped, tailNext, statusJson, statusHuman] = await Promise.all([
        run(["tail", id]),
        run(["tail", nextRun.id.slice(0, 8), "--json"]),
        run(["status", "--json"]),
        run(["status"]),
      ]);
      expect(tailStopped.code).toBe(2);
      expect(tailStopped.stdout).toContain("■ stopped");
      expect(tailNext.code, tailNext.stderr).toBe(0);
      const events = ndjson(tailNext);
      expect(events.every((e) => e.workerId === nextRun.id)).toBe(true);
      expect(events.some((e) => e.type === "log")).toBe(true);
      expect(events.at(-1)?.type).toBe("worker_completed");
      const ids = events.map((e) => e.id as number);
      expect(ids).toEqual([...new Set(ids)].sort((x, y) => x - y));

      const status = json(statusJson);
      expect(status.maxWorkers).toBe(8);
      const views = new Map(status.workers.map((w: { id: string }) => [w.id, w]));
      expect(views.get(id)).toMatchObject({
        status: "stopped",
        specTitle: "Blocker",
        progress: { total: 200 },
      });
      expect(views.get(nextRun.id)).toMatchObject({ specTitle: "Next" });
      expect(statusHuman.stdout).toMatch(/ID\s+STATUS\s+SPEC\s+PROGRESS\s+MODEL/);
      expect(statusHuman.stdout).toMatch(
        new RegExp(`${id.slice(0, 8)}\\s+stopped\\s+Blocker\\s+\\d+/200`),
      );
    });

    test.concurrent("a failing run: tail exits 1", { timeout: LONG }, async () => {
      const dir = plainProject(server.dir, "failing");
      const { specId } = await makeSpec(dir, "Failing", [
        { title: "Break", description: "Break it. [simulate:fail]" },
      ]);
      const started = await server.trpc.workers.start.mutate({ specId });
      expect(started.status).toBe("started");
      const tail = await run(["tail", started.status === "started" ? started.worker.id : ""]);
      expect(tail.code).toBe(1);
      expect(tail.stdout).toMatch(/✗ failed: .*simulated failure/);
    });

    test.concurrent("run spec.md creates the project and the spec, then updates it", {
      timeout: LONG,
    }, async () => {
      const dir = plainProject(server.dir, "from-markdown");
      const file = join(server.dir, "spec.md");
      writeFileSync(
        file,
        "# Markdown spec\n\nWhat it is about.\n\n```\n## not a chunk\n```\n\n## Alpha\nDo alpha.\n\n## Beta\nDo beta.\n",
      );
      const first = await run(["run", file, "--project", dir, "--json"]);
      expect(first.code, first.stderr).toBe(0);
      const lines = ndjson(first);
      const head = lines[0];
      expect(head).toMatchObject({ type: "run", projectCreated: true, specCreated: true });
      expect(head.project).toMatchObject({ name: basename(dir), directory: dir });
      expect(head.spec.title).toBe("Markdown spec");
      expect(head.spec.content).toBe("What it is about.\n\n```\n## not a chunk\n```");
      expect(head.spec.chunks.map((c: { title: string }) => c.title)).toEqual(["Alpha", "Beta"]);
      expect(head.spec.chunks[1].description).toBe("Do beta.");
      expect(lines.at(-1)?.type).toBe("worker_completed");

      // edited: same spec, new chunks; the project directory defaults to the working directory
      writeFileSync(file, "# Markdown spec\n\nNow shorter.\n\n## Gamma\nDo gamma.\n");
      const second = await run(["run", file], { cwd: dir });
      expect(second.code, second.stderr).toBe(0);
      expect(second.stdout).toContain(
        "updated spec Markdown spec (1 chunk) in project from-markdown",
      );
      expect(second.stdout).toContain("✓ completed 1/1");
      const specs = await server.trpc.specs.list.query({ projectId: head.project.id });
      expect(specs).toHaveLength(1);
      const spec = await server.trpc.specs.get.query({ id: head.spec.id });
      expect(spec.content).toBe("Now shorter.");
      expect(spec.chunks.map((c) => [c.title, c.description, c.status])).toEqual([
        ["Gamma", "Do gamma.", "completed"],
      ]);
      const projects = await server.trpc.projects.list.query();
      expect(projects.filter((p) => p.directory === dir)).toHaveLength(1);
    });

    test.concurrent("diff, merge (and a refused merge), discard and retry on a git project", {
      timeout: LONG,
    }, async () => {
      const repo = gitProject(server.dir, "repo");
      const project = await server.trpc.projects.create.mutate({ name: "repo", directory: repo });
      const spec = (title: string, description = title) =>
        server.trpc.specs.create.mutate({
          projectId: project.id,
          title,
          content: "",
          chunks: [{ title, description }],
        });
      const [toMerge, toConflict, toDiscard, toFail] = await Promise.all([
        spec("Merge me"),
        spec("Conflict me"),
        spec("Discard me"),
        spec("Fail me", "Fail. [simulate:fail]"),
      ]);
      const starts = await Promise.all(
        [toMerge, toConflict, toDiscard, toFail].map((s) =>
          server.trpc.workers.start.mutate({ specId: s.id }),
        ),
      );
      const ids = starts.map((s) => (s.status === "started" ? s.worker.id : ""));
      const [mergeId, conflictId, discardId, failId] = ids as [string, string, string, string];
      const views = await Promise.all(ids.map(finished));
      expect(views.map((v) => v.status)).toEqual(["completed", "completed", "completed", "failed"]);

      // the base gets someone else's version of one run's file: merging that run is refused
      const theirs =
        (await server.trpc.workers.diff.query({ id: conflictId })).files[0]?.path ?? "";
      mkdirSync(join(repo, theirs, ".."), { recursive: true });
      writeFileSync(join(repo, theirs), "someone else's version\n");
      git(repo, "add", theirs);
      git(repo, "commit", "-q", "-m", "theirs");

      const [diff, human, patch, refused, asked, retried] = await Promise.all([
        run(["diff", mergeId, "--json"]),
        run(["diff", mergeId.slice(0, 8)]),
        run(["diff", mergeId, "--patch"]),
        run(["merge", conflictId, "--json"]),
        run(["discard", discardId]),
        run(["retry", failId, "--json"]),
      ]);
      expect(diff.code, diff.stderr).toBe(0);
      const d = json(diff);
      expect(d.base.branch).toBe("main");
      expect(d.files).toHaveLength(1);
      expect(d.files[0]).toMatchObject({ status: "added", deletions: 0 });
      const path = d.files[0].path as string;
      expect(human.stdout).toMatch(new RegExp(`A\\s+\\+${d.files[0].additions}\\s+−0\\s+${path}`));
      expect(patch.stdout.startsWith(`diff --git a/${path} b/${path}`)).toBe(true);

      expect(refused.code).toBe(1);
      expect(refused.stdout).toBe("");
      const lines = refused.stderr.trimEnd().split("\n");
      expect(lines[0]).toMatch(/^glm-workers: merge refused: /);
      expect(lines.slice(1)).toEqual([`  conflict: ${theirs}`]);
      expect(readFileSync(join(repo, theirs), "utf8")).toBe("someone else's version\n");

      // discard asks first: no terminal, no --yes → refused, nothing discarded
      expect(asked.code).toBe(1);
      expect(oneLine(asked)).toContain("pass --yes");
      expect((await server.trpc.workers.get.query({ id: discardId })).landed).toBeNull();

      expect(retried.code, retried.stderr).toBe(0);
      const again = json(retried);
      expect(again.status).toBe("started");
      expect(again.worker.specId).toBe(toFail.id);
      expect(again.worker.id).not.toBe(failId);

      const [merged, discarded] = await Promise.all([
        run(["merge", mergeId, "--json", "--strategy", "squash", "-m", "Land it"]),
        run(["discard", discardId, "--yes", "--json"]),
      ]);
      expect(merged.code, merged.stderr).toBe(0);
      expect(json(merged)).toMatchObject({ merged: true, strategy: "squash", into: "main" });
      expect(git(repo, "log", "-1", "--format=%s", "main").trim()).toBe("Land it");
      expect(existsSync(join(repo, path))).toBe(true);
      expect(discarded.code, discarded.stderr).toBe(0);
      expect(json(discarded)).toMatchObject({
        discarded: true,
        worker: { id: discardId, landed: { how: "discarded" } },
      });

      expect((await finished(again.worker.id)).status).toBe("failed"); // still [simulate:fail]
    });

    test.concurrent("an unknown id: one line naming it, exit 1", { timeout: LONG }, async () => {
      const [tail, start, bad] = await Promise.all([
        run(["tail", "no-such-worker", "--json"]),
        run(["start", "no-such-spec"]),
        run(["start", "x", "--priority", "5000"]),
      ]);
      for (const r of [tail, start]) {
        expect(r.code, r.stderr).toBe(1);
        expect(r.stdout).toBe("");
        expect(oneLine(r)).toMatch(/^glm-workers: .*no-such-(worker|spec).* not found$/);
      }
      expect(bad.code).toBe(1);
      expect(oneLine(bad)).toMatch(/^glm-workers: .*priority.*1000/);
    });
  });

  describe("every run at once", () => {
    test("pause-all; stop-all asks (refused without a terminal), then stops with --yes", {
      timeout: LONG,
    }, async () => {
      const specs = await Promise.all([
        makeSpec(plainProject(server.dir, "all-1"), "All one", slowChunks(200)),
        makeSpec(plainProject(server.dir, "all-2"), "All two", slowChunks(200)),
      ]);
      const ids: string[] = [];
      for (const s of specs) {
        const started = await server.trpc.workers.start.mutate({ specId: s.specId });
        if (started.status === "started") ids.push(started.worker.id);
      }
      expect(ids).toHaveLength(2);
      await waitFor(
        "both runs to be under way",
        async () => {
          const logs = await Promise.all(
            ids.map((id) => server.trpc.workers.logs.query({ id, limit: 1 })),
          );
          return logs.every((l) => l.length > 0);
        },
        POLL,
      );

      const pausedAll = await run(["pause-all", "--json"]);
      expect(pausedAll.code, pausedAll.stderr).toBe(0);
      const paused = json(pausedAll) as Array<{ id: string; status: string }>;
      expect(paused.map((w) => w.id).sort()).toEqual([...ids].sort());
      expect(paused.every((w) => w.status === "paused")).toBe(true);

      const refused = await run(["stop-all"]);
      expect(refused.code).toBe(1);
      expect(oneLine(refused)).toBe(
        "glm-workers: stop-all needs confirmation: pass --yes (stdin is not a terminal)",
      );
      for (const id of ids) {
        expect((await server.trpc.workers.get.query({ id })).status).toBe("paused");
      }

      const stoppedAll = await run(["stop-all", "--yes", "--json"]);
      expect(stoppedAll.code, stoppedAll.stderr).toBe(0);
      const stopped = json(stoppedAll) as Array<{ id: string; status: string }>;
      expect(stopped.map((w) => w.id).sort()).toEqual([...ids].sort());
      expect(stopped.every((w) => w.status === "stopped")).toBe(true);
      expect((await server.trpc.queue.list.query()).paused).toBe(true);
      const released = await run(["resume-queue", "--json"]);
      expect(released.code, released.stderr).toBe(0);
      expect(json(released)).toEqual({ paused: false });
      expect((await server.trpc.queue.list.query()).paused).toBe(false);
    });
  });
});
