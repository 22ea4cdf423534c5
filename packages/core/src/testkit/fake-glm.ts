import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { coerceError } from "../errors.ts";
import {
  buildContext,
  type ChatRequestBody,
  type DefaultScriptOptions,
  type FakeGlmRequestKind,
  type FakeGlmScript,
  type FakeGlmTurn,
  pickTurn,
} from "./fake-glm-script.ts";
import { type StreamStats, sseHeaders, streamTurn } from "./fake-glm-sse.ts";

/**
 * A fake OpenAI-compatible GLM endpoint on 127.0.0.1 for tests: `POST …/chat/completions`
 * (streaming SSE or plain JSON) and `GET …/models`. It follows a script of turns, records every
 * request, and stops streaming (clearing its timers) when the client disconnects.
 */

export interface FakeGlmOptions extends DefaultScriptOptions {
  script?: FakeGlmScript;
  /** Default delay before each streamed piece (ms). 0 = as fast as possible. */
  tokenDelayMs?: number;
  /** When set, requests must carry `Authorization: Bearer <apiKey>` (else 401). */
  apiKey?: string;
  /** Model ids listed by `GET /v1/models`. */
  models?: string[];
}

export interface FakeGlmRecord extends StreamStats {
  index: number;
  method: string;
  path: string;
  authorization: string | null;
  body: ChatRequestBody | null;
  kind: FakeGlmRequestKind | null;
  turn: FakeGlmTurn["kind"] | null;
  /** Text of the request's last user message (empty for non-chat requests). */
  lastUserText: string;
  /** The request answers a tool result (the agent's next step within one turn). */
  afterToolResult: boolean;
  receivedAt: number;
  /** When the response ended or the client went away. */
  finishedAt: number | null;
}

export interface FakeGlm {
  /** Base URL including `/v1`, e.g. `http://127.0.0.1:40123/v1`. */
  readonly url: string;
  readonly port: number;
  /** Chat-completions and models requests, in arrival order. */
  readonly requests: FakeGlmRecord[];
  setScript(script: FakeGlmScript | undefined): void;
  /** Resolves with the first recorded request (past or future) matching `pred`. */
  waitFor(pred: (r: FakeGlmRecord) => boolean, timeoutMs?: number): Promise<FakeGlmRecord>;
  close(): Promise<void>;
}

const MAX_BODY = 16 * 1024 * 1024;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on("data", (d: Buffer) => {
      size += d.length;
      if (size > MAX_BODY) {
        reject(new Error("request body too large"));
        req.destroy();
        return;
      }
      parts.push(d);
    });
    req.on("end", () => resolve(Buffer.concat(parts).toString("utf8")));
    req.on("error", (err) => reject(coerceError(err)));
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function errorBody(message: string, type: string) {
  // opencode retries errors whose type says "server_error" even on a 4xx status.
  return { error: { message, type, code: null } };
}

/** Non-streaming answer (when a client sends `stream: false`). */
function completionJson(turn: FakeGlmTurn, model: string, id: string, promptTokens: number) {
  const text = turn.kind === "text" || turn.kind === "tool" ? (turn.text ?? "") : "";
  const toolCalls =
    turn.kind === "tool"
      ? turn.calls.map((c, i) => ({
          id: c.id ?? `call_${id}_${i}`,
          type: "function",
          function: {
            name: c.name,
            arguments: typeof c.arguments === "string" ? c.arguments : JSON.stringify(c.arguments),
          },
        }))
      : undefined;
  const completionTokens = Math.max(1, Math.ceil(text.length / 4));
  return {
    id,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: text,
          ...(toolCalls ? { tool_calls: toolCalls } : {}),
        },
        finish_reason: toolCalls ? "tool_calls" : "stop",
      },
    ],
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    },
  };
}

export async function startFakeGlm(options: FakeGlmOptions = {}): Promise<FakeGlm> {
  let script = options.script;
  const requests: FakeGlmRecord[] = [];
  const counters = new Map<FakeGlmRequestKind, number>();
  const waiters = new Set<(r: FakeGlmRecord) => void>();
  const shutdown = new AbortController();
  let chatIndex = 0;

  const notify = (record: FakeGlmRecord) => {
    for (const w of [...waiters]) w(record);
  };

  const handleChat = async (req: IncomingMessage, res: ServerResponse, record: FakeGlmRecord) => {
    let body: ChatRequestBody;
    try {
      body = JSON.parse(await readBody(req)) as ChatRequestBody;
    } catch (err) {
      json(
        res,
        400,
        errorBody(`invalid JSON body: ${coerceError(err).message}`, "invalid_request"),
      );
      return;
    }
    record.body = body;
    const ctx = buildContext(body, chatIndex++, counters);
    record.kind = ctx.kind;
    record.lastUserText = ctx.lastUserText;
    record.afterToolResult = ctx.afterToolResult;
    const turn = pickTurn(script, ctx, options);
    record.turn = turn.kind;
    notify(record);
    const model = body.model ?? "glm-4.7";
    const id = `chatcmpl-fake-${ctx.index + 1}`;
    const promptTokens = Math.max(1, Math.ceil(JSON.stringify(body.messages ?? []).length / 4));

    // Stop streaming when the client goes away or the server shuts down.
    const stop = new AbortController();
    const onClose = () => {
      if (!res.writableFinished) record.clientClosed = true;
      stop.abort();
    };
    const onShutdown = () => stop.abort();
    res.on("close", onClose);
    shutdown.signal.addEventListener("abort", onShutdown, { once: true });
    try {
      if (turn.kind === "http-error") {
        const type = turn.status >= 500 ? "server_error" : "invalid_request_error";
        json(res, turn.status, errorBody(turn.message ?? `fake GLM error ${turn.status}`, type));
        record.completed = true;
        return;
      }
      if (turn.kind === "malformed") {
        sseHeaders(res);
        res.end("data: {this is not json\n\n");
        record.completed = true;
        return;
      }
      if (turn.kind === "hang") {
        sseHeaders(res);
        res.flushHeaders();
        await new Promise<void>((resolve) => {
          if (stop.signal.aborted) resolve();
          else stop.signal.addEventListener("abort", () => resolve(), { once: true });
        });
        return;
      }
      if (body.stream === false) {
        json(res, 200, completionJson(turn, model, id, promptTokens));
        record.completed = true;
        return;
      }
      await streamTurn({
        res,
        turn,
        model,
        id,
        defaultDelayMs: options.tokenDelayMs ?? 0,
        promptTokens,
        signal: stop.signal,
        stats: record,
      });
    } finally {
      shutdown.signal.removeEventListener("abort", onShutdown);
      if (stop.signal.aborted && !res.writableEnded) res.destroy();
      res.off("close", onClose);
      record.finishedAt = Date.now();
    }
  };

  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const authorization = req.headers.authorization ?? null;
    const record: FakeGlmRecord = {
      index: requests.length,
      method: req.method ?? "GET",
      path,
      authorization,
      body: null,
      kind: null,
      turn: null,
      lastUserText: "",
      afterToolResult: false,
      receivedAt: Date.now(),
      finishedAt: null,
      chunkTimes: [],
      completed: false,
      clientClosed: false,
    };
    requests.push(record);
    if (options.apiKey && authorization !== `Bearer ${options.apiKey}`) {
      json(res, 401, errorBody("invalid api key", "authentication_error"));
      record.finishedAt = Date.now();
      return;
    }
    if (req.method === "GET" && path.endsWith("/models")) {
      const data = (options.models ?? ["glm-4.7", "glm-4.6"]).map((id) => ({
        id,
        object: "model",
        created: 0,
        owned_by: "fake-glm",
      }));
      json(res, 200, { object: "list", data });
      record.completed = true;
      record.finishedAt = Date.now();
      return;
    }
    if (req.method === "POST" && path.endsWith("/chat/completions")) {
      handleChat(req, res, record).catch((err: unknown) => {
        if (!res.headersSent) json(res, 500, errorBody(coerceError(err).message, "server_error"));
        else res.destroy();
      });
      return;
    }
    json(res, 404, errorBody(`no route for ${req.method} ${path}`, "not_found"));
    record.finishedAt = Date.now();
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closed: Promise<void> | null = null;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    port,
    requests,
    setScript(next) {
      script = next;
      counters.clear();
    },
    waitFor(pred, timeoutMs = 30_000) {
      const found = requests.find((r) => r.kind !== null && pred(r));
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`fake GLM: no matching request within ${timeoutMs} ms`));
        }, timeoutMs);
        const check = (r: FakeGlmRecord) => {
          if (!pred(r)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(r);
        };
        waiters.add(check);
      });
    },
    close() {
      if (!closed) {
        shutdown.abort();
        closed = new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      }
      return closed;
    },
  };
}
