import type { ServerResponse } from "node:http";
import type { FakeGlmToolCall, FakeGlmTurn } from "./fake-glm-script.ts";

/**
 * Streams one scripted turn as OpenAI chat-completions SSE chunks
 * (`data: {...}\n\n` … `data: [DONE]\n\n`), paced by a per-piece delay, and stops as soon as
 * the client disconnects or the server closes.
 */

export interface StreamStats {
  /** Time each data line was written (ms since epoch). */
  chunkTimes: number[];
  completed: boolean;
  clientClosed: boolean;
}

interface StreamOptions {
  res: ServerResponse;
  turn: Exclude<FakeGlmTurn, { kind: "http-error" } | { kind: "malformed" } | { kind: "hang" }>;
  model: string;
  id: string;
  defaultDelayMs: number;
  promptTokens: number;
  signal: AbortSignal;
  stats: StreamStats;
}

type Delta = Record<string, unknown>;

function chunk(id: string, model: string, delta: Delta, finish: string | null) {
  return {
    id,
    object: "chat.completion.chunk",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, delta, finish_reason: finish }],
  };
}

function split(text: string, size: number): string[] {
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size));
  return pieces;
}

function toolArguments(call: FakeGlmToolCall): string {
  return typeof call.arguments === "string" ? call.arguments : JSON.stringify(call.arguments);
}

/** Builds the list of SSE payloads for a turn (objects are JSON-encoded, strings sent raw). */
function payloads(opts: StreamOptions): Array<{ data: object | string; paced: boolean }> {
  const { turn, model, id } = opts;
  const size = Math.max(1, turn.chunkChars ?? 8);
  const out: Array<{ data: object | string; paced: boolean }> = [];
  out.push({ data: chunk(id, model, { role: "assistant", content: "" }, null), paced: false });
  let completion = 0;
  if (turn.kind === "text" && turn.reasoning) {
    for (const piece of split(turn.reasoning, size)) {
      out.push({ data: chunk(id, model, { reasoning_content: piece }, null), paced: true });
    }
    completion += turn.reasoning.length;
  }
  const text = turn.text ?? "";
  for (const piece of split(text, size)) {
    out.push({ data: chunk(id, model, { content: piece }, null), paced: true });
  }
  completion += text.length;
  let finish = "stop";
  if (turn.kind === "tool") {
    finish = "tool_calls";
    turn.calls.forEach((call, index) => {
      const callId = call.id ?? `call_${id}_${index}`;
      const head = {
        index,
        id: callId,
        type: "function",
        function: { name: call.name, arguments: "" },
      };
      out.push({ data: chunk(id, model, { tool_calls: [head] }, null), paced: true });
      const args = toolArguments(call);
      for (const piece of split(args, Math.max(size, 32))) {
        const delta = { tool_calls: [{ index, function: { arguments: piece } }] };
        out.push({ data: chunk(id, model, delta, null), paced: true });
      }
      completion += args.length;
    });
  }
  out.push({ data: chunk(id, model, {}, finish), paced: false });
  const completionTokens = Math.max(1, Math.ceil(completion / 4));
  out.push({
    data: {
      id,
      object: "chat.completion.chunk",
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [],
      usage: {
        prompt_tokens: opts.promptTokens,
        completion_tokens: completionTokens,
        total_tokens: opts.promptTokens + completionTokens,
      },
    },
    paced: false,
  });
  out.push({ data: "[DONE]", paced: false });
  return out;
}

function wait(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Writes one SSE line, waiting for `drain` when the socket buffer is full. */
function write(res: ServerResponse, line: string, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted || res.destroyed) return Promise.resolve(false);
  if (res.write(line)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      res.off("drain", onDrain);
      res.off("close", onClose);
      signal.removeEventListener("abort", onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    res.on("drain", onDrain);
    res.on("close", onClose);
    signal.addEventListener("abort", onClose, { once: true });
  });
}

export function sseHeaders(res: ServerResponse): void {
  res.writeHead(200, {
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
    connection: "keep-alive",
  });
}

export async function streamTurn(opts: StreamOptions): Promise<void> {
  const { res, signal, stats } = opts;
  const delay = opts.turn.delayMs ?? opts.defaultDelayMs;
  sseHeaders(res);
  for (const { data, paced } of payloads(opts)) {
    if (paced && !(await wait(delay, signal))) return;
    const line = `data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`;
    if (!(await write(res, line, signal))) return;
    stats.chunkTimes.push(Date.now());
  }
  stats.completed = true;
  res.end();
}
