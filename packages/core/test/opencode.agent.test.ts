import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOpencodeExecutor } from "../src/executors/opencode.ts";
import type { ExecutionHandle, Executor, ExecutorEvent } from "../src/executors/types.ts";
import { descendants, isAlive, processState } from "../src/process-tree.ts";
import type { ChunkSnapshot } from "../src/protocol.ts";
import { type FakeGlm, removeDir, startFakeGlm, tempDir, waitFor } from "../src/testkit/index.ts";

/**
 * The real opencode binary (opencode-ai 1.18) against the fake GLM server on 127.0.0.1.
 * Tests share one executor (one isolated opencode home) and one fake, and run one after the
 * other: opencode's start-up is CPU-heavy and the pause test must not compete for the CPU.
 */

const API_KEY = "fake-zhipu-key";
let fake: FakeGlm;
let executor: Executor;
let root: string;

const chunk: ChunkSnapshot = {
  id: "chunk-1",
  title: "Write the greeting",
  description: "",
  order: 0,
  status: "running",
  dependencies: [],
  fixOf: null,
  reviewStatus: null,
  commitHash: null,
};

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function workdir(name: string): string {
  const dir = join(root, name);
  rmSync(dir, { recursive: true, force: true });
  return mkdtempSync(`${dir}-`);
}

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
}

/** Collects every pid of the tree (walking /proc from the root) while it runs. */
function trackTree(handle: ExecutionHandle): { pids: Set<number>; stop: () => void } {
  const pids = new Set<number>();
  const root = handle.pid;
  const tick = () => {
    if (root !== undefined) for (const p of descendants(root)) pids.add(p);
  };
  tick();
  const timer = setInterval(tick, 25);
  return { pids, stop: () => clearInterval(timer) };
}

beforeAll(async () => {
  root = tempDir("opencode-test");
  fake = await startFakeGlm({ apiKey: API_KEY });
  executor = createOpencodeExecutor({
    kind: "opencode",
    simulatedChunkMs: 0,
    model: "zai-coding-plan/glm-4.7",
    opencodeHome: join(root, "home"),
    env: { ZHIPU_API_KEY: API_KEY },
    // Point the built-in Z.ai coding-plan provider at the fake.
    opencodeConfig: { provider: { "zai-coding-plan": { options: { baseURL: fake.url } } } },
  });
});

afterAll(async () => {
  await executor?.close();
  await fake?.close();
  removeDir(root);
});

describe("opencode executor (real opencode, fake GLM)", () => {
  it("runs the agent: writes the requested file, streams events, returns the final text", async () => {
    fake.setScript([
      {
        kind: "tool",
        text: "Creating the greeting file.",
        calls: [
          { name: "write", arguments: { filePath: "greeting.txt", content: "hello from GLM\n" } },
        ],
      },
      { kind: "text", text: "I created greeting.txt with a greeting." },
    ]);
    const cwd = workdir("happy");
    const events: ExecutorEvent[] = [];
    const handle = executor.execute({
      cwd,
      prompt: "Create greeting.txt containing a greeting.",
      chunk,
      timeoutMs: 45_000,
      onEvent: (e) => events.push(e),
    });
    expect(handle.pid).toBeGreaterThan(0);
    const result = await handle.result;
    expect(result.error).toBeNull();
    expect(result).toMatchObject({ ok: true, exitCode: 0, timedOut: false, aborted: false });
    expect(result.output).toBe("I created greeting.txt with a greeting.");
    expect(readFileSync(join(cwd, "greeting.txt"), "utf8")).toBe("hello from GLM\n");

    expect(events).toContainEqual({
      type: "tool",
      name: "write",
      status: "completed",
      detail: "greeting.txt",
    });
    expect(events.some((e) => e.type === "tool" && e.status === "started")).toBe(true);
    const tokens = events.filter((e) => e.type === "tokens");
    expect(tokens.length).toBe(2);
    expect(tokens.every((t) => t.type === "tokens" && t.input > 0 && t.output > 0)).toBe(true);
    expect(events).toContainEqual({
      type: "log",
      level: "info",
      line: "Creating the greeting file.",
    });

    // The prompt went in on stdin and the API key from config.env reached the provider.
    const agent = fake.requests.filter((r) => r.kind === "agent");
    expect(agent).toHaveLength(2);
    expect(agent[0]?.authorization).toBe(`Bearer ${API_KEY}`);
    expect(JSON.stringify(agent[0]?.body?.messages)).toContain("Create greeting.txt");
    expect(JSON.stringify(agent[0]?.body?.messages)).toContain(`Working directory: ${cwd}`);
    expect(isAlive(handle.pid ?? -1)).toBe(false);

    // The review goes through the same model and returns the JSON verdict as output.
    fake.setScript(undefined);
    const review = await executor.review({
      cwd,
      prompt: "Review the change just made. Answer with JSON only.",
      chunk,
      timeoutMs: 45_000,
      onEvent: () => {},
    }).result;
    expect(review.ok).toBe(true);
    expect(JSON.parse(review.output)).toEqual({
      status: "pass",
      feedback: "Looks good (fake GLM).",
    });
  }, 90_000);

  it("pauses the whole tree mid-stream (no progress, no requests) and resumes to completion", async () => {
    fake.setScript([
      {
        kind: "tool",
        // ~2.3 s of streamed text before the tool call.
        text: "Thinking about it. ".repeat(12),
        delayMs: 40,
        chunkChars: 4,
        calls: [{ name: "write", arguments: { filePath: "paused.txt", content: "resumed ok\n" } }],
      },
      { kind: "text", text: "Finished after the pause." },
    ]);
    const before = fake.requests.length;
    const cwd = workdir("pause");
    const events: ExecutorEvent[] = [];
    const handle = executor.execute({
      cwd,
      prompt: "Write paused.txt",
      chunk,
      timeoutMs: 60_000,
      onEvent: (e) => events.push(e),
    });
    const tree = trackTree(handle);
    const first = await fake.waitFor((r) => r.index >= before && r.kind === "agent", 45_000);
    await waitFor("the stream to start", () => first.chunkTimes.length >= 5, {
      timeoutMs: 10_000,
      intervalMs: 20,
    });

    const pauseAsked = Date.now();
    await handle.pause();
    const pausedAt = Date.now();
    const pids = descendants(handle.pid ?? -1);
    expect(pids.length).toBeGreaterThan(0);
    for (const pid of pids) expect(processState(pid)).toMatch(/^[Tt]$/);
    const eventsAtPause = events.length;
    const requestsAtPause = fake.requests.length;

    await sleep(3000);
    // Frozen: no events, no file, no next model request, still stopped.
    expect(events.length).toBe(eventsAtPause);
    expect(existsSync(join(cwd, "paused.txt"))).toBe(false);
    expect(fake.requests.length).toBe(requestsAtPause);
    for (const pid of pids) expect(processState(pid)).toMatch(/^[Tt]$/);

    const resumedAt = Date.now();
    await handle.resume();
    const result = await handle.result;
    tree.stop();
    expect(result.error).toBeNull();
    expect(result.ok).toBe(true);
    expect(result.output).toBe("Finished after the pause.");
    expect(readFileSync(join(cwd, "paused.txt"), "utf8")).toBe("resumed ok\n");

    // The fake finished streaming into the socket while opencode was frozen, then saw the
    // client stall: the follow-up request came only after the resume.
    expect(first.completed).toBe(true);
    expect(first.finishedAt ?? Number.POSITIVE_INFINITY).toBeLessThan(resumedAt);
    const second = fake.requests.find((r) => r.index > first.index && r.kind === "agent");
    expect(second).toBeDefined();
    expect(second?.receivedAt ?? 0).toBeGreaterThanOrEqual(resumedAt);
    const stall = (second?.receivedAt ?? 0) - (first.finishedAt ?? 0);
    console.info(
      `[opencode] pause took ${pausedAt - pauseAsked} ms for ${pids.length} processes; ` +
        `next request ${(second?.receivedAt ?? 0) - resumedAt} ms after resume; stall ${stall} ms`,
    );
    for (const pid of tree.pids) expect(isAlive(pid)).toBe(false);
  }, 90_000);

  it("abort while a tool subprocess runs ends every process of the tree", async () => {
    fake.setScript([
      {
        kind: "tool",
        calls: [
          {
            name: "bash",
            arguments: { command: "sleep 30; echo late > late.txt", description: "Wait" },
          },
        ],
      },
      { kind: "text", text: "should never get here" },
    ]);
    const cwd = workdir("abort");
    const handle = executor.execute({
      cwd,
      prompt: "Run the slow command",
      chunk,
      timeoutMs: 60_000,
      onEvent: () => {},
    });
    const tree = trackTree(handle);
    const startedAt = Date.now();
    await waitFor(
      "the bash tool's sleep process",
      () => [...tree.pids].some((p) => comm(p) === "sleep" && isAlive(p)),
      { timeoutMs: 45_000, intervalMs: 20 },
    );
    await sleep(100);
    const seen = [...tree.pids].filter(isAlive);
    // opencode → bash (its own session) → sleep
    expect(seen.length).toBeGreaterThanOrEqual(3);

    const t0 = Date.now();
    await handle.abort("stopped by test");
    const abortMs = Date.now() - t0;
    tree.stop();
    const result = await handle.result;
    expect(result).toMatchObject({ ok: false, aborted: true });
    expect(result.error).toContain("stopped by test");
    const alive = [...tree.pids].filter(isAlive);
    expect(alive).toEqual([]);
    expect(existsSync(join(cwd, "late.txt"))).toBe(false);
    console.info(
      `[opencode] tool running after ${t0 - startedAt} ms; abort of ${tree.pids.size} processes took ${abortMs} ms`,
    );
  }, 90_000);

  it("reports a model error (HTTP 400) as a failed run with a clear message", async () => {
    fake.setScript([{ kind: "http-error", status: 400, message: "model refused the request" }]);
    const result = await executor.execute({
      cwd: workdir("error"),
      prompt: "anything",
      chunk,
      timeoutMs: 45_000,
      onEvent: () => {},
    }).result;
    expect(result.ok).toBe(false);
    expect(result.exitCode).toBe(1);
    expect(result.error).toContain("model refused the request");
    expect(result.error).toContain("HTTP 400");
  }, 90_000);

  it("stops a run that exceeds its time limit and says so", async () => {
    fake.setScript([{ kind: "hang" }]);
    const handle = executor.execute({
      cwd: workdir("timeout"),
      prompt: "anything",
      chunk,
      timeoutMs: 4_000,
      onEvent: () => {},
    });
    const tree = trackTree(handle);
    const result = await handle.result;
    tree.stop();
    expect(result).toMatchObject({ ok: false, timedOut: true, aborted: false });
    expect(result.error).toMatch(/timed out after 4000 ms/);
    expect([...tree.pids].filter(isAlive)).toEqual([]);
  }, 60_000);

  it("fails clearly when the opencode binary cannot be found", async () => {
    const broken = createOpencodeExecutor({
      kind: "opencode",
      simulatedChunkMs: 0,
      opencodeBin: join(root, "no-such-opencode"),
      env: {},
    });
    const result = await broken.execute({
      cwd: root,
      prompt: "x",
      chunk,
      timeoutMs: 1000,
      onEvent: () => {},
    }).result;
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(/opencode binary not found/);
    await broken.close();
    await broken.close();
  });
});
