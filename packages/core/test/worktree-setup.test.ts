import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { runSpec } from "../src/engine.ts";
import { RunPool } from "../src/pool.ts";
import { descendants, isAlive, processState } from "../src/process-tree.ts";
import type { RunSnapshotInput, ThreadToMain } from "../src/protocol.ts";
import { RunControl } from "../src/run-control.ts";
import { removeDir, waitFor } from "../src/testkit/index.ts";
import { readRepoConfig, SETUP_MARKER_FILE, setupEnv } from "../src/worktree-setup.ts";
import {
  chunk,
  gitOut,
  makeRepo,
  Recorder,
  recordingExecutor,
  sleep,
  snapshot,
  useTempDirs,
} from "./engine-helpers.ts";

const newDir = useTempDirs();
let pool: RunPool;

beforeAll(() => {
  pool = new RunPool({ maxThreads: 1 });
});
afterAll(async () => {
  await pool.close({ force: true });
});
/** A repository with `glm-workers.json` (and a .gitignore for the setup's own files) committed. */
function repoWithSetup(dir: string, config: unknown): string {
  const repo = makeRepo(dir);
  writeFileSync(
    join(repo, "glm-workers.json"),
    typeof config === "string" ? config : JSON.stringify(config),
  );
  writeFileSync(join(repo, ".gitignore"), ".setup-*\n");
  const g = (...args: string[]) =>
    execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd: repo });
  g("add", "-A");
  g("commit", "-q", "-m", "setup config");
  return repo;
}

function start(input: RunSnapshotInput, control = new RunControl()) {
  const rec = new Recorder();
  const calls: string[] = [];
  const result = runSpec(input, {
    control,
    send: rec.onMessage,
    createExecutor: recordingExecutor(calls),
  });
  return { rec, calls, result, control };
}

const setupLogs = (rec: Recorder) =>
  rec
    .of("log")
    .filter((m) => m.line.startsWith("setup: "))
    .map((m) => m.line);

const indexOf = (rec: Recorder, test: (m: ThreadToMain) => boolean) => rec.messages.findIndex(test);

function gitDirOf(worktree: string): string {
  return gitOut(worktree, "rev-parse", "--absolute-git-dir");
}

describe("the repository's setup command", () => {
  test("runs in the new worktree before the first chunk, its output streamed to the log", async () => {
    const dir = newDir("setup-run");
    const repo = repoWithSetup(dir, {
      setup: "pwd > .setup-ran; echo installing deps; echo 'a warning' >&2",
      future: { ignored: true },
    });
    const { rec, calls, result } = start(
      snapshot(repo, [chunk("a", 0), chunk("b", 1)], { worktreeRoot: join(dir, "wt") }),
    );
    expect(await result).toMatchObject({ outcome: "completed", error: null });
    const workdir = rec.of("workspace")[0]?.workdir ?? "";
    expect(workdir.startsWith(join(dir, "wt"))).toBe(true);

    // it ran in the worktree's root, not in the project's checkout
    expect(readFileSync(join(workdir, ".setup-ran"), "utf8").trim()).toBe(workdir);
    expect(existsSync(join(repo, ".setup-ran"))).toBe(false);

    const info = rec.of("log").find((m) => m.line === "setup: installing deps");
    const warn = rec.of("log").find((m) => m.line === "setup: a warning");
    expect(info).toMatchObject({ chunkId: null, level: "info" });
    expect(warn).toMatchObject({ chunkId: null, level: "warn" });
    const firstStarted = indexOf(rec, (m) => m.type === "chunk" && m.event === "started");
    expect(firstStarted).toBeGreaterThan(0);
    expect(indexOf(rec, (m) => m === info)).toBeLessThan(firstStarted);
    expect(indexOf(rec, (m) => m.type === "workspace")).toBeLessThan(
      indexOf(rec, (m) => m === info),
    );

    // the live state named the step while it ran and was cleared after, before any chunk
    const states = rec.of("state").filter((m) => m.chunkId === null);
    expect(states.map((m) => m.text)).toEqual([
      "setting up the worktree: pwd > .setup-ran; echo installing deps; echo 'a warning' >&2",
      null,
    ]);
    expect(indexOf(rec, (m) => m === states[1])).toBeLessThan(firstStarted);

    expect(calls).toEqual(["a:execute", "a:review", "b:execute", "b:review"]);
    const marker = JSON.parse(readFileSync(join(gitDirOf(workdir), SETUP_MARKER_FILE), "utf8"));
    expect(marker.command).toContain("echo installing deps");
    expect(typeof marker.succeededAt).toBe("string");
  });

  test("runs in a worker thread of the pool too", async () => {
    const dir = newDir("setup-pool");
    const repo = repoWithSetup(dir, { setup: "echo from the pool; touch .setup-pool" });
    const rec = new Recorder();
    const handle = pool.start(
      snapshot(repo, [chunk("a", 0)], { worktreeRoot: join(dir, "wt") }),
      rec,
    );
    expect((await handle.result).outcome).toBe("completed");
    const workdir = rec.of("workspace")[0]?.workdir ?? "";
    expect(existsSync(join(workdir, ".setup-pool"))).toBe(true);
    expect(setupLogs(rec)).toContain("setup: from the pool");
  });

  test("a failing command fails the run with the step and its output's tail; no chunk runs", async () => {
    const dir = newDir("setup-fail");
    const repo = repoWithSetup(dir, {
      setup: "for i in $(seq 1 40); do echo line $i; done; echo 'boom: missing tool' >&2; exit 3",
    });
    const { rec, calls, result } = start(
      snapshot(repo, [chunk("a", 0), chunk("b", 1)], { worktreeRoot: join(dir, "wt") }),
    );
    const res = await result;
    expect(res.outcome).toBe("failed");
    expect(res.error).toMatch(
      /^the setup step \(`for i in .* exit 3`\) failed with exit code 3: line 22\nline 23\n/,
    );
    expect(res.error).toContain("line 40\nboom: missing tool");
    expect(res.error).not.toContain("line 21\n");
    expect(res.progress).toEqual({ current: 2, total: 2, passed: 0, failed: 0 });
    expect(rec.messages.at(-1)).toMatchObject({
      type: "done",
      outcome: "failed",
      error: res.error,
    });

    expect(calls).toEqual([]);
    expect(rec.of("chunk").filter((m) => m.event === "started")).toEqual([]);
    for (const id of ["a", "b"]) {
      expect(rec.chunkStates().get(id)).toMatchObject({ status: "cancelled", event: "cancelled" });
    }
    expect(rec.of("log").find((m) => m.level === "error")?.line).toBe(`setup: ${res.error}`);
    // nothing recorded: a later run tries again
    const workdir = rec.of("workspace")[0]?.workdir ?? "";
    expect(existsSync(join(gitDirOf(workdir), SETUP_MARKER_FILE))).toBe(false);
  });

  test("the tail is capped at 2000 characters", async () => {
    const dir = newDir("setup-long");
    const repo = repoWithSetup(dir, {
      setup: "for i in 1 2 3 4 5; do head -c 1000 /dev/zero | tr '\\0' x; echo; done; exit 1",
    });
    const res = await start(snapshot(repo, [chunk("a", 0)], { worktreeRoot: join(dir, "wt") }))
      .result;
    expect(res.outcome).toBe("failed");
    const tail = (res.error ?? "").split("failed with exit code 1: ")[1] ?? "";
    expect(tail.length).toBe(2000);
    expect(tail.startsWith("…")).toBe(true);
  });

  test("the run's time limit applies: a setup that runs too long fails the run", async () => {
    const dir = newDir("setup-timeout");
    const repo = repoWithSetup(dir, { setup: "echo $$ > ../setup.pid; exec sleep 30" });
    const started = Date.now();
    const { calls, result } = start(
      snapshot(repo, [chunk("a", 0)], { worktreeRoot: join(dir, "wt"), chunkTimeoutMs: 1000 }),
    );
    const res = await result;
    expect(res.outcome).toBe("failed");
    expect(res.error).toBe(
      "the setup step (`echo $$ > ../setup.pid; exec sleep 30`) timed out after 1 s",
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(calls).toEqual([]);
    const pid = Number(readFileSync(join(dir, "wt", "setup.pid"), "utf8"));
    expect(isAlive(pid)).toBe(false);
  });

  test("a later run on the same worktree repeats it only when it never succeeded there", async () => {
    const dir = newDir("setup-retry");
    const counter = join(dir, "runs.txt");
    const flag = join(dir, "fail-once");
    writeFileSync(flag, "");
    // fails while the flag file exists, counts every run
    const repo = repoWithSetup(dir, {
      setup: `echo run >> '${counter}'; if [ -e '${flag}' ]; then echo 'not yet' >&2; exit 1; fi`,
    });
    const opts = { worktreeRoot: join(dir, "wt") };
    const runs = () => readFileSync(counter, "utf8").trim().split("\n").length;

    // 1: fails; the chunk is cancelled
    const first = start(snapshot(repo, [chunk("a", 0)], opts));
    const r1 = await first.result;
    expect(r1.outcome).toBe("failed");
    expect(r1.error).toContain("failed with exit code 1: not yet");
    const ws = first.rec.of("workspace")[0];
    const branch = ws?.branch ?? "";
    expect(runs()).toBe(1);

    // 2: a retry on the same worktree (not made anew) runs it again, and it succeeds now
    removeDir(flag);
    const cancelled = chunk("a", 0, "Implement part a.", { status: "cancelled" });
    const second = start(snapshot(repo, [cancelled], { ...opts, branch }));
    expect((await second.result).outcome).toBe("completed");
    expect(second.rec.of("workspace")[0]?.workdir).toBe(ws?.workdir);
    expect(runs()).toBe(2);
    expect(second.calls).toEqual(["a:execute", "a:review"]);

    // 3: after a success it is not repeated
    const third = start(snapshot(repo, [chunk("a", 0), chunk("b", 1)], { ...opts, branch }));
    const r3 = await third.result;
    expect(r3.outcome).toBe("completed");
    expect(runs()).toBe(2);
    expect(setupLogs(third.rec)).toEqual([
      expect.stringMatching(/^setup: already done in this worktree \(.+\); not repeated$/),
    ]);
    expect(third.rec.of("state").filter((m) => m.chunkId === null)).toEqual([]);
  });

  test.each([
    { what: "invalid JSON", config: "{ setup: npm ci", error: "is not valid JSON" },
    { what: "a setup that is not a string", config: { setup: ["npm", "ci"] }, error: "setup:" },
    { what: "an empty setup", config: { setup: "  " }, error: "non-empty shell command" },
  ])(
    "$what in glm-workers.json fails the run clearly before any chunk",
    async ({ config, error }) => {
      const dir = newDir("setup-invalid");
      const repo = repoWithSetup(dir, config);
      const { rec, calls, result } = start(
        snapshot(repo, [chunk("a", 0)], { worktreeRoot: join(dir, "wt") }),
      );
      const res = await result;
      expect(res.outcome).toBe("failed");
      expect(res.error).toContain("the repository's glm-workers.json");
      expect(res.error).toContain(error);
      expect(res.error).toContain(join(rec.of("workspace")[0]?.workdir ?? "?", "glm-workers.json"));
      expect(calls).toEqual([]);
      expect(rec.chunkStates().get("a")).toMatchObject({ status: "cancelled" });
    },
  );

  test("a file without a setup command, or no file, changes nothing", async () => {
    const dir = newDir("setup-none");
    const repo = repoWithSetup(dir, { other: 1 });
    const { rec, result } = start(
      snapshot(repo, [chunk("a", 0)], { worktreeRoot: join(dir, "wt") }),
    );
    expect((await result).outcome).toBe("completed");
    expect(setupLogs(rec)).toEqual([]);
    expect(rec.of("state").filter((m) => m.chunkId === null)).toEqual([]);
  });

  test("the server's secrets are not visible to the command", async () => {
    const saved = { ...process.env };
    process.env.ZHIPU_API_KEY = "zhipu-secret-value";
    process.env.GLM_API_KEY = "glm-secret-value";
    process.env.GLM_WORKERS_ADMIN = "glm-other-value";
    process.env.AUTH_TOKEN = "auth-secret-value";
    process.env.SOME_PASSWORD = "password-value";
    process.env.SETUP_VISIBLE = "plain-value";
    try {
      const dir = newDir("setup-env");
      const envFile = join(dir, "env.txt");
      const repo = repoWithSetup(dir, {
        setup: `env > '${envFile}'; echo "key=\${ZHIPU_API_KEY:-unset}"`,
      });
      const { rec, result } = start(
        snapshot(repo, [chunk("a", 0)], { worktreeRoot: join(dir, "wt") }),
      );
      expect((await result).outcome).toBe("completed");
      const env = readFileSync(envFile, "utf8");
      for (const secret of ["zhipu-secret", "glm-secret", "glm-other", "auth-secret", "password"]) {
        expect(env).not.toContain(secret);
      }
      expect(env).toContain("SETUP_VISIBLE=plain-value");
      expect(env).toContain(`PATH=${process.env.PATH}`);
      expect(setupLogs(rec)).toContain("setup: key=unset");
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });

  test("setupEnv drops secrets by name", () => {
    expect(
      setupEnv({
        PATH: "/bin",
        HOME: "/h",
        ZHIPU_API_KEY: "x",
        ZAI_API_KEY: "x",
        GLM_BASE_URL: "x",
        GITHUB_TOKEN: "x",
        npm_config__authToken: "x",
        AWS_SECRET_ACCESS_KEY: "x",
        PGPASSWORD: "x",
        DATABASE_URL: "libsql://x?authToken=y",
        LANG: "C.UTF-8",
      }),
    ).toEqual({ PATH: "/bin", HOME: "/h", LANG: "C.UTF-8" });
  });

  test("readRepoConfig: none, valid with unknown keys, invalid", () => {
    const dir = newDir("setup-config");
    expect(readRepoConfig(dir)).toBeNull();
    writeFileSync(join(dir, "glm-workers.json"), JSON.stringify({ setup: " make ", x: [1] }));
    expect(readRepoConfig(dir)).toEqual({ setup: "make", x: [1] });
    writeFileSync(join(dir, "glm-workers.json"), "[]");
    expect(() => readRepoConfig(dir)).toThrow(/glm-workers\.json is invalid/);
  });
});

describe("where the setup does not run", () => {
  test("in-place runs skip it with one warning", async () => {
    const dir = newDir("setup-inplace");
    const repo = repoWithSetup(dir, { setup: "touch .setup-inplace" });
    const { rec, result } = start(snapshot(repo, [chunk("a", 0)], { useWorktree: false }));
    expect((await result).outcome).toBe("completed");
    expect(existsSync(join(repo, ".setup-inplace"))).toBe(false);
    const lines = setupLogs(rec);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("skipped for this in-place run");
    expect(rec.of("log").find((m) => m.line === lines[0])?.level).toBe("warn");
  });

  test("a project that is not a git repository: skipped with one warning when the file exists", async () => {
    const dir = newDir("setup-nogit");
    writeFileSync(join(dir, "glm-workers.json"), JSON.stringify({ setup: "touch .setup-nogit" }));
    const { rec, result } = start(snapshot(dir, [chunk("a", 0)]));
    expect((await result).outcome).toBe("completed");
    expect(existsSync(join(dir, ".setup-nogit"))).toBe(false);
    expect(setupLogs(rec)).toEqual([expect.stringContaining("skipped for this in-place run")]);

    const plain = newDir("setup-nogit-nofile");
    const other = start(snapshot(plain, [chunk("a", 0)]));
    expect((await other.result).outcome).toBe("completed");
    expect(setupLogs(other.rec)).toEqual([]);
  });
});

describe("pause, resume and abort during the setup", () => {
  /** A setup that records its shell's pid, then works for ~`ticks` × 100 ms of active time. */
  function longSetup(dir: string, ticks: number): string {
    return repoWithSetup(dir, {
      setup: `echo $$ > '${join(dir, "setup.pid")}'; i=0; while [ $i -lt ${ticks} ]; do sleep 0.1; i=$((i+1)); done; echo finished > '${join(dir, "setup.done")}'`,
    });
  }
  const pidOf = (dir: string) =>
    waitFor("the setup's pid", () => {
      const text = existsSync(join(dir, "setup.pid"))
        ? readFileSync(join(dir, "setup.pid"), "utf8")
        : "";
      return Number(text.trim()) || null;
    });

  test("pause suspends its process tree, resume continues it", async () => {
    const dir = newDir("setup-pause");
    const repo = longSetup(dir, 15);
    const run = start(snapshot(repo, [chunk("a", 0)], { worktreeRoot: join(dir, "wt") }));
    const pid = await pidOf(dir);
    await run.control.pause();
    const tree = descendants(pid);
    expect(tree.length).toBeGreaterThan(0);
    for (const p of tree) expect(processState(p)).toBe("T");
    // held while paused: longer than the setup's own work takes
    await sleep(2000);
    expect(existsSync(join(dir, "setup.done"))).toBe(false);
    expect(run.calls).toEqual([]);
    for (const p of descendants(pid)) expect(processState(p)).toBe("T");

    await run.control.resume();
    expect(processState(pid)).not.toBe("T");
    const res = await run.result;
    expect(res.outcome).toBe("completed");
    expect(existsSync(join(dir, "setup.done"))).toBe(true);
    expect(run.calls).toEqual(["a:execute", "a:review"]);
  });

  test.each([{ paused: false }, { paused: true }])(
    "abort ends it (paused: $paused): the run is aborted, no chunk ran",
    async ({ paused }) => {
      const dir = newDir("setup-abort");
      const repo = longSetup(dir, 300);
      const run = start(snapshot(repo, [chunk("a", 0)], { worktreeRoot: join(dir, "wt") }));
      const pid = await pidOf(dir);
      const tree = descendants(pid);
      if (paused) await run.control.pause();
      await run.control.abort("stopped by the user");
      const res = await run.result;
      expect(res).toMatchObject({ outcome: "aborted", error: "stopped by the user" });
      for (const p of tree) expect(isAlive(p)).toBe(false);
      expect(run.calls).toEqual([]);
      // an aborted run leaves its chunks pending (the next run starts them)
      expect(run.rec.of("chunk")).toEqual([]);
      expect(run.rec.of("state").at(-1)).toMatchObject({ chunkId: null, text: null });
      expect(existsSync(join(dir, "setup.done"))).toBe(false);
    },
  );
});
