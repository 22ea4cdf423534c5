import type { ServerResponse } from "node:http";
import type { ChatRequestBody, FakeGlmToolCall, FakeGlmTurn } from "./fake-glm-script.ts";

/**
 * Streams one scripted turn as OpenAI chat-completions SSE chunks
 * (`data: {...}\n\n` … `data: [DONE]\n\n`), paced by a per-piece delay, and stops as soon as
 * the client disconnects or the server closes.
 */

/** Token usage the fake reported for one answer (the OpenAI `usage` object, camel-cased). */
export interface FakeGlmUsage {
  /** `prompt_tokens`. */
  promptTokens: number;
  /** `completion_tokens` (includes the reasoning tokens, as in OpenAI's usage). */
  completionTokens: number;
  /** `completion_tokens_details.reasoning_tokens`. */
  reasoningTokens: number;
  /** `prompt_tokens_details.cached_tokens`. */
  cachedTokens: number;
}

export interface StreamStats {
  /** Time each data line was written (ms since epoch). */
  chunkTimes: number[];
  completed: boolean;
  clientClosed: boolean;
  /** The usage the answer reported, set once it was actually written (null = none sent). */
  usage: FakeGlmUsage | null;
}

/** The turns that produce a normal (200) answer with content. */
export type AnswerTurn = Extract<FakeGlmTurn, { kind: "text" | "tool" }>;

interface StreamOptions {
  res: ServerResponse;
  turn: AnswerTurn;
  model: string;
  id: string;
  defaultDelayMs: number;
  /** Sent in a final chunk (`choices: []`) when not null. */
  usage: FakeGlmUsage | null;
  signal: AbortSignal;
  stats: StreamStats;
}

const tokens = (chars: number) => Math.ceil(chars / 4);

/**
 * Deterministic usage for one answer (about 4 characters a token):
 * - prompt = JSON length of the request's messages / 4 (at least 1);
 * - cached = half the prompt (rounded down) when the conversation already holds an assistant
 *   message (a follow-up request, whose prefix a real server would have cached), else 0;
 * - completion = (reasoning + text + tool-call arguments) length / 4 (at least 1);
 * - reasoning = the turn's `reasoning` length / 4 (0 without reasoning).
 */
export function usageFor(turn: AnswerTurn, body: ChatRequestBody): FakeGlmUsage {
  const messages = body.messages ?? [];
  const promptTokens = Math.max(1, tokens(JSON.stringify(messages).length));
  const followUp = messages.some((m) => m.role === "assistant");
  const reasoning = turn.reasoning?.length ?? 0;
  let chars = reasoning + (turn.text ?? "").length;
  if (turn.kind === "tool") {
    for (const call of turn.calls) chars += toolArguments(call).length;
  }
  return {
    promptTokens,
    completionTokens: Math.max(1, tokens(chars)),
    reasoningTokens: tokens(reasoning),
    cachedTokens: followUp ? Math.floor(promptTokens / 2) : 0,
  };
}

/** The OpenAI wire form of a usage. */
export function usageJson(usage: FakeGlmUsage) {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedTokens },
    completion_tokens_details: { reasoning_tokens: usage.reasoningTokens },
  };
}

/**
 * Whether a streamed answer carries usage. OpenAI sends it only on
 * `stream_options.include_usage: true` (opencode asks for it); GLM sends it anyway, and so does
 * the fake, unless the request says `include_usage: false`.
 */
export function wantsUsage(body: ChatRequestBody): boolean {
  const opts = body.stream_options as { include_usage?: unknown } | null | undefined;
  return opts?.include_usage !== false;
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

interface Payload {
  data: object | string;
  paced: boolean;
  /** This payload carries the usage. */
  usage?: boolean;
}

/** Builds the list of SSE payloads for a turn (objects are JSON-encoded, strings sent raw). */
function payloads(opts: StreamOptions): Payload[] {
  const { turn, model, id } = opts;
  const size = Math.max(1, turn.chunkChars ?? 8);
  const out: Payload[] = [];
  out.push({ data: chunk(id, model, { role: "assistant", content: "" }, null), paced: false });
  if (turn.reasoning) {
    for (const piece of split(turn.reasoning, size)) {
      out.push({ data: chunk(id, model, { reasoning_content: piece }, null), paced: true });
    }
  }
  const text = turn.text ?? "";
  for (const piece of split(text, size)) {
    out.push({ data: chunk(id, model, { content: piece }, null), paced: true });
  }
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
    });
  }
  out.push({ data: chunk(id, model, {}, finish), paced: false });
  if (opts.usage) {
    out.push({
      data: {
        id,
        object: "chat.completion.chunk",
        created: Math.floor(Date.now() / 1000),
        model,
        choices: [],
        usage: usageJson(opts.usage),
      },
      paced: false,
      usage: true,
    });
  }
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
  for (const { data, paced, usage } of payloads(opts)) {
    if (paced && !(await wait(delay, signal))) return;
    const line = `data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`;
    if (!(await write(res, line, signal))) return;
    stats.chunkTimes.push(Date.now());
    if (usage) stats.usage = opts.usage;
  }
  stats.completed = true;
  res.end();
}
