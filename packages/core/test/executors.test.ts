import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { createCommandExecutor, expandCommand } from "../src/executors/command.ts";
import { createExecutor, executorLabel } from "../src/executors/index.ts";
import { createSimulatedExecutor } from "../src/executors/simulated.ts";
import type { ExecutorEvent } from "../src/executors/types.ts";
import { executorConfigSchema } from "../src/protocol.ts";
import { parseReview } from "../src/review.ts";
import { removeDir, tempDir } from "../src/testkit/index.ts";
import { chunk, sleep } from "./engine-helpers.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});
function newDir(): string {
  const d = tempDir("exec");
  dirs.push(d);
  return d;
}

const simulated = (ms: number) =>
  createSimulatedExecutor(executorConfigSchema.parse({ kind: "simulated", simulatedChunkMs: ms }));

describe("simulated executor", () => {
  test("is labelled as simulated", () => {
    expect(executorLabel("simulated")).toBe("Simulated (no real agent)");
    expect(simulated(100).label).toBe("Simulated (no real agent)");
    expect(createExecutor(executorConfigSchema.parse({ kind: "simulated" })).kind).toBe(
      "simulated",
    );
  });

  test("execute streams events and writes a file; review answers JSON", async () => {
    const cwd = newDir();
    const events: ExecutorEvent[] = [];
    const exec = simulated(300);
    const c = chunk("a", 0, "Write the parser.");
    const handle = exec.execute({
      cwd,
      prompt: "p",
      chunk: c,
      timeoutMs: 10_000,
      onEvent: (e) => events.push(e),
    });
    expect(handle.pid).toBeGreaterThan(0);
    const result = await handle.result;
    expect(result).toMatchObject({
      ok: true,
      exitCode: 0,
      timedOut: false,
      aborted: false,
      error: null,
    });
    expect(result.output).toContain("glm-sim/chunk-a.md");
    expect(readFileSync(join(cwd, "glm-sim", "chunk-a.md"), "utf8")).toContain("Write the parser.");
    expect(events.some((e) => e.type === "tool" && e.name === "write")).toBe(true);
    expect(events.filter((e) => e.type === "log").length).toBeGreaterThanOrEqual(4);

    const review = await exec.review({
      cwd,
      prompt: "r",
      chunk: c,
      timeoutMs: 10_000,
      onEvent: () => {},
    }).result;
    expect(review.ok).toBe(true);
    expect(parseReview(review.output)).toMatchObject({ ok: true, answer: { status: "pass" } });
  });

  test("[simulate:fail] exits non-zero with the agent's error", async () => {
    const cwd = newDir();
    const result = await simulated(200).execute({
      cwd,
      prompt: "p",
      chunk: chunk("a", 0, "x [simulate:fail]"),
      timeoutMs: 10_000,
      onEvent: () => {},
    }).result;
    expect(result.ok).toBe(false);
    expect(result.exitCode).toBe(1);
    expect(result.error).toContain("simulated failure");
  });

  test("the time budget kills the tree and reports timedOut", async () => {
    const cwd = newDir();
    const result = await simulated(2000).execute({
      cwd,
      prompt: "p",
      chunk: chunk("a", 0),
      timeoutMs: 300,
      onEvent: () => {},
    }).result;
    expect(result).toMatchObject({ ok: false, timedOut: true });
  });

  test("paused time does not count against the time budget", async () => {
    const cwd = newDir();
    const handle = simulated(400).execute({
      cwd,
      prompt: "p",
      chunk: chunk("a", 0),
      timeoutMs: 1500,
      onEvent: () => {},
    });
    await sleep(150);
    await handle.pause();
    await sleep(1600);
    await handle.resume();
    expect((await handle.result).ok).toBe(true);
  });
});

describe("command executor", () => {
  const script = [
    "const fs = require('node:fs');",
    "const [promptFile, cwd, mode] = process.argv.slice(1);",
    "const prompt = fs.readFileSync(promptFile, 'utf8');",
    "if (mode === 'fail') { console.error('nope'); process.exit(4); }",
    "console.log('working on: ' + prompt.split('\\n')[0]);",
    "fs.writeFileSync(cwd + '/out.txt', prompt);",
    "console.log(JSON.stringify({ status: 'pass', feedback: 'ok' }));",
  ].join("\n");

  const make = (mode: string) =>
    createCommandExecutor(
      executorConfigSchema.parse({
        kind: "command",
        command: [process.execPath, "-e", script, "{promptFile}", "{cwd}", mode],
      }),
    );

  test("substitutes the template, streams stdout lines and returns stdout", async () => {
    const cwd = newDir();
    const events: ExecutorEvent[] = [];
    const result = await make("ok").execute({
      cwd,
      prompt: "Build the thing\nmore",
      chunk: chunk("a", 0),
      timeoutMs: 10_000,
      onEvent: (e) => events.push(e),
    }).result;
    expect(result.ok).toBe(true);
    expect(readFileSync(join(cwd, "out.txt"), "utf8")).toBe("Build the thing\nmore");
    expect(events[0]).toEqual({ type: "log", level: "info", line: "working on: Build the thing" });
    expect(parseReview(result.output)).toMatchObject({ ok: true, answer: { status: "pass" } });
  });

  test("a non-zero exit fails with stderr; a missing program fails to start", async () => {
    const cwd = newDir();
    const failed = await make("fail").execute({
      cwd,
      prompt: "p",
      chunk: chunk("a", 0),
      timeoutMs: 10_000,
      onEvent: () => {},
    }).result;
    expect(failed).toMatchObject({ ok: false, exitCode: 4 });
    expect(failed.error).toContain("nope");
    const missing = createCommandExecutor(
      executorConfigSchema.parse({ kind: "command", command: [join(cwd, "no-such-agent")] }),
    );
    const result = await missing.execute({
      cwd,
      prompt: "p",
      chunk: chunk("a", 0),
      timeoutMs: 10_000,
      onEvent: () => {},
    }).result;
    expect(result.ok).toBe(false);
    expect(result.error).toContain("could not start");
    expect(existsSync(join(cwd, "out.txt"))).toBe(false);
  });

  test("template expansion and configuration checks", () => {
    expect(
      expandCommand(["a", "--p={prompt}", "{cwd}/x", "{promptFile}"], {
        prompt: "hi",
        promptFile: "/f",
        cwd: "/c",
      }),
    ).toEqual(["a", "--p=hi", "/c/x", "/f"]);
    expect(() => createCommandExecutor(executorConfigSchema.parse({ kind: "command" }))).toThrow(
      /command/,
    );
  });
});

describe("parseReview", () => {
  test("accepts the strict shape, a fenced block or a last line", () => {
    expect(parseReview('{"status":"pass","feedback":"good"}')).toEqual({
      ok: true,
      answer: { status: "pass", feedback: "good" },
    });
    const fenced =
      'Here you go:\n```json\n{"status":"needs_fix","feedback":"f","fixChunk":{"title":"T","description":"D"}}\n```';
    expect(parseReview(fenced)).toMatchObject({
      ok: true,
      answer: { status: "needs_fix", fixChunk: { title: "T" } },
    });
    expect(parseReview('thinking...\n{"status":"fail","feedback":"bad"}')).toMatchObject({
      ok: true,
      answer: { status: "fail" },
    });
  });

  test("rejects malformed answers and keeps the raw text", () => {
    const notJson = parseReview("all good!");
    expect(notJson.ok).toBe(false);
    if (!notJson.ok) expect(notJson.error).toContain("Raw answer: all good!");
    const wrong = parseReview('{"status":"great","feedback":"x"}');
    expect(wrong.ok).toBe(false);
    if (!wrong.ok) expect(wrong.error).toContain("wrong shape");
    expect(parseReview('{"status":"pass","feedback":"x","extra":1}').ok).toBe(false);
  });
});
