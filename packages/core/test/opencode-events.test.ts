import { describe, expect, it } from "vitest";
import { createOpencodeParser } from "../src/executors/opencode-events.ts";
import type { ExecutorEvent } from "../src/executors/types.ts";

/** Lines shaped like `opencode run --format json` (1.18) output. */
const line = (type: string, data: Record<string, unknown>) =>
  JSON.stringify({ type, timestamp: 1, sessionID: "ses_1", ...data });

describe("opencode JSON event parser", () => {
  it("keeps the last assistant message's text as output, joining deltas of one part", () => {
    const events: ExecutorEvent[] = [];
    const p = createOpencodeParser((e) => events.push(e));
    p.stdout(line("text", { part: { id: "a", messageID: "m1", type: "text", text: "Working." } }));
    p.stdout(
      line("text", { part: { id: "b", messageID: "m2", type: "text", text: '{"status":' } }),
    );
    p.stdout(line("text", { part: { id: "b", messageID: "m2", type: "text", text: '"pass"}' } }));
    expect(p.output()).toBe('{"status":"pass"}');
    expect(p.sessionId()).toBe("ses_1");
    expect(events[0]).toEqual({ type: "log", level: "info", line: "Working." });
  });

  it("maps tools, tokens and errors", () => {
    const events: ExecutorEvent[] = [];
    const p = createOpencodeParser((e) => events.push(e));
    p.stdout(
      line("tool_use", {
        part: {
          type: "tool",
          tool: "bash",
          state: { status: "completed", input: { command: "npm test\nmore", description: "x" } },
        },
      }),
    );
    p.stdout(
      line("tool_use", {
        part: { type: "tool", tool: "edit", state: { status: "error", error: "no match" } },
      }),
    );
    p.stdout(
      line("step_finish", {
        part: { type: "step-finish", tokens: { input: 100, output: 20, reasoning: 5 } },
      }),
    );
    p.stdout(
      line("error", {
        error: { name: "APIError", data: { message: "quota exceeded", statusCode: 429 } },
      }),
    );
    p.stdout("not json at all");
    expect(events).toEqual([
      { type: "tool", name: "bash", status: "completed", detail: "npm test" },
      { type: "tool", name: "edit", status: "failed", detail: "no match" },
      { type: "tokens", input: 100, output: 25 },
      { type: "log", level: "error", line: "APIError: quota exceeded (HTTP 429)" },
      { type: "log", level: "info", line: "not json at all" },
    ]);
    expect(p.error()).toBe("APIError: quota exceeded (HTTP 429)");
    expect(p.output()).toBe("");
  });

  it("reads tool starts and errors from opencode's log lines on stderr", () => {
    const events: ExecutorEvent[] = [];
    const p = createOpencodeParser((e) => events.push(e));
    p.stderr(
      'timestamp=2026-01-01T00:00:00.000Z level=INFO run=1 message=evaluated permission=bash pattern="sleep 30" action.action=allow',
    );
    p.stderr("timestamp=2026-01-01T00:00:00.000Z level=INFO run=1 message=init count=1");
    p.stderr('timestamp=2026-01-01T00:00:00.000Z level=ERROR run=1 message="stream error" e=x');
    expect(events).toEqual([
      { type: "tool", name: "bash", status: "started", detail: "sleep 30" },
      { type: "log", level: "error", line: "stream error e=x" },
    ]);
    expect(p.stderrError()).toBe("stream error e=x");
  });
});
