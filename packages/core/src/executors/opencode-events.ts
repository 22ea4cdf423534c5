import type { ExecutorEvent } from "./types.ts";

/**
 * Turns `opencode run --format json` output into ExecutorEvents.
 *
 * opencode 1.18 writes one JSON object per line: `{type, timestamp, sessionID, part|error}`
 * with `type` one of `step_start`, `text` (a finished text part), `reasoning`, `tool_use`
 * (a tool that finished: `part.state.status` is `completed` or `error`), `step_finish`
 * (with `part.tokens`) and `error` (`error.name`, `error.data.message`). Tools are reported
 * only when they finish; with `--print-logs` the stderr line
 * `message=evaluated permission=<tool> pattern=<what>` marks the moment a tool is allowed to
 * run, which is the closest thing to a start event.
 */

type Json = Record<string, unknown>;

const MAX_LINE = 2000;

function obj(v: unknown): Json | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
}
function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}
function num(v: unknown): number {
  return typeof v === "number" && Number.isFinite(v) ? v : 0;
}
function clip(s: string, max = MAX_LINE): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/** A short, human description of a tool call's input (command, path or pattern). */
export function describeToolInput(tool: string, input: Json | undefined): string | undefined {
  if (!input) return undefined;
  const pick =
    str(input.command) ??
    str(input.filePath) ??
    str(input.path) ??
    str(input.pattern) ??
    str(input.url) ??
    str(input.description);
  if (pick) return clip(pick.split("\n")[0] ?? pick, 300);
  const keys = Object.keys(input);
  return keys.length > 0 ? `${tool}(${keys.join(", ")})` : undefined;
}

function errorMessage(error: Json | undefined): string {
  if (!error) return "unknown error";
  const name = str(error.name) ?? str(error.type) ?? "Error";
  const data = obj(error.data);
  const message = str(data?.message) ?? str(error.message) ?? "no message";
  const status = data?.statusCode;
  return `${name}: ${message}${typeof status === "number" ? ` (HTTP ${status})` : ""}`;
}

export interface OpencodeStreamParser {
  /** One stdout line. */
  stdout(line: string): void;
  /** One stderr line (opencode's `--print-logs` output). */
  stderr(line: string): void;
  /** Text of the last assistant message that had text (the final answer). */
  output(): string;
  /** The last error opencode reported in its event stream, if any. */
  error(): string | null;
  /** The last stderr log line at level ERROR, if any. */
  stderrError(): string | null;
  sessionId(): string | null;
}

const LOG_LINE = /\blevel=(\w+)\b.*?\bmessage=("(?:[^"\\]|\\.)*"|\S+)(.*)$/;
const PERMISSION = /\bpermission=(\S+) pattern=("(?:[^"\\]|\\.)*"|\S+)/;

function unquote(s: string): string {
  if (s.startsWith('"') && s.endsWith('"')) {
    try {
      return JSON.parse(s) as string;
    } catch {
      return s.slice(1, -1);
    }
  }
  return s;
}

export function createOpencodeParser(onEvent: (e: ExecutorEvent) => void): OpencodeStreamParser {
  /** messageID → partID → text (text parts may arrive whole or as deltas with the same id). */
  const texts = new Map<string, Map<string, string>>();
  let lastTextMessage: string | null = null;
  let lastError: string | null = null;
  let lastStderrError: string | null = null;
  let session: string | null = null;

  const onText = (part: Json) => {
    const text = str(part.text) ?? "";
    const messageId = str(part.messageID) ?? "unknown";
    const partId = str(part.id) ?? String(texts.size);
    let parts = texts.get(messageId);
    if (!parts) {
      parts = new Map();
      texts.set(messageId, parts);
    }
    parts.set(partId, (parts.get(partId) ?? "") + text);
    if (text.trim()) lastTextMessage = messageId;
    for (const line of text.split("\n")) {
      if (line.trim()) onEvent({ type: "log", level: "info", line: clip(line) });
    }
  };

  const onTool = (part: Json) => {
    const name = str(part.tool) ?? "tool";
    const state = obj(part.state);
    const status = str(state?.status);
    const input = obj(state?.input);
    if (status === "error") {
      const err = str(state?.error) ?? "failed";
      onEvent({ type: "tool", name, status: "failed", detail: clip(err, 500) });
      return;
    }
    const detail = describeToolInput(name, input);
    onEvent({
      type: "tool",
      name,
      status: status === "completed" ? "completed" : "started",
      ...(detail ? { detail } : {}),
    });
  };

  const onStepFinish = (part: Json) => {
    const tokens = obj(part.tokens);
    if (!tokens) return;
    const output = num(tokens.output) + num(tokens.reasoning);
    onEvent({ type: "tokens", input: num(tokens.input), output });
  };

  return {
    stdout(line) {
      let event: Json | undefined;
      try {
        event = obj(JSON.parse(line));
      } catch {
        event = undefined;
      }
      if (!event) {
        onEvent({ type: "log", level: "info", line: clip(line) });
        return;
      }
      session = str(event.sessionID) ?? session;
      const part = obj(event.part) ?? {};
      switch (event.type) {
        case "text":
          onText(part);
          break;
        case "reasoning": {
          const text = str(part.text)?.trim();
          if (text) onEvent({ type: "log", level: "debug", line: clip(`thinking: ${text}`) });
          break;
        }
        case "tool_use":
          onTool(part);
          break;
        case "step_finish":
          onStepFinish(part);
          break;
        case "step_start":
          break;
        case "error": {
          lastError = errorMessage(obj(event.error));
          onEvent({ type: "log", level: "error", line: clip(lastError) });
          break;
        }
        default:
          onEvent({
            type: "log",
            level: "debug",
            line: clip(`opencode event: ${String(event.type)}`),
          });
      }
    },
    stderr(line) {
      const m = LOG_LINE.exec(line);
      if (!m) {
        if (line.trim()) onEvent({ type: "log", level: "warn", line: clip(line) });
        return;
      }
      const level = (m[1] ?? "").toUpperCase();
      const message = unquote(m[2] ?? "");
      const rest = m[3] ?? "";
      if (message === "evaluated") {
        const p = PERMISSION.exec(rest);
        if (p?.[1]) {
          const detail = clip(unquote(p[2] ?? ""), 300);
          onEvent({ type: "tool", name: p[1], status: "started", ...(detail ? { detail } : {}) });
        }
        return;
      }
      if (level === "ERROR") {
        lastStderrError = clip(`${message}${rest}`.trim(), 500);
        onEvent({ type: "log", level: "error", line: lastStderrError });
      } else if (level === "WARN") {
        onEvent({ type: "log", level: "warn", line: clip(`${message}${rest}`.trim()) });
      }
    },
    output() {
      if (!lastTextMessage) return "";
      return [...(texts.get(lastTextMessage)?.values() ?? [])].join("").trim();
    },
    error: () => lastError,
    stderrError: () => lastStderrError,
    sessionId: () => session,
  };
}
