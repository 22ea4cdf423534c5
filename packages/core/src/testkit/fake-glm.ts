import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { coerceError } from "../errors.ts";
import {
  buildContext,
  type ChatRequestBody,
  type DefaultScriptOptions,
  type FakeGlmContext,
  type FakeGlmError,
  type FakeGlmErrorFn,
  type FakeGlmErrors,
  type FakeGlmErrorWindow,
  type FakeGlmRequestKind,
  type FakeGlmScript,
  type FakeGlmTurn,
  glmErrorMessage,
  pickTurn,
  takeTurn,
} from "./fake-glm-script.ts";
import {
  type AnswerTurn,
  type FakeGlmUsage,
  type StreamStats,
  sseHeaders,
  streamTurn,
  usageFor,
  usageJson,
  wantsUsage,
} from "./fake-glm-sse.ts";

/**
 * A fake OpenAI-compatible GLM endpoint on 127.0.0.1 for tests: `POST …/chat/completions`
 * (streaming SSE or plain JSON) and `GET …/models`. It follows a script of turns, records every
 * request, and stops streaming (clearing its timers) when the client disconnects.
 *
 * Like a real GLM plan it can also refuse work: an error window (`errorWindow` / `setErrors`)
 * answers every chat request with a GLM error for a while, and `maxInFlight` limits how many
 * chat requests one key may have streaming at once (429, code "1302"). A chat request goes
 * through, in order: the error window, the concurrency limit, then the script. Only requests that
 * reach the script use up a scripted turn or count as in flight.
 */

export interface FakeGlmOptions extends DefaultScriptOptions {
  script?: FakeGlmScript;
  /** Default delay before each streamed piece (ms). 0 = as fast as possible. */
  tokenDelayMs?: number;
  /** When set, requests must carry `Authorization: Bearer <apiKey>` (else 401). */
  apiKey?: string;
  /** Model ids listed by `GET /v1/models`. */
  models?: string[];
  /**
   * Per-key concurrency limit, like a real plan's: a chat request that arrives while this many
   * chat requests with the same `Authorization` header are in flight (accepted and not yet
   * finished or abandoned by the client) is answered at once with 429, code "1302" ("High
   * concurrency usage of this API, please reduce concurrency"), recorded with
   * `rejected: "max-in-flight"`, without using up a scripted turn. Unset = no limit. Changeable
   * with `setMaxInFlight`.
   */
  maxInFlight?: number;
  /** Answer chat requests with a GLM error for a while; see `FakeGlmErrorWindow`, `setErrors`. */
  errorWindow?: FakeGlmErrors;
}

/** Why a chat request was answered before reaching the script. */
export type FakeGlmRejection = "error-window" | "max-in-flight";

export interface FakeGlmRecord extends StreamStats {
  index: number;
  method: string;
  path: string;
  authorization: string | null;
  body: ChatRequestBody | null;
  kind: FakeGlmRequestKind | null;
  /** The scripted turn that answered (null when rejected before the script, or not a chat). */
  turn: FakeGlmTurn["kind"] | null;
  /** HTTP status of the answer (null until the response head is sent). */
  status: number | null;
  /** The GLM error code when answered with one (`glm-error` turn, error window, limit). */
  code: string | null;
  /** Set when the error window or the concurrency limit answered instead of the script. */
  rejected: FakeGlmRejection | null;
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
  /** Replaces the error window (`undefined` ends it); `forMs` counts from this call. */
  setErrors(errors: FakeGlmErrors | undefined): void;
  /** Changes the per-key concurrency limit (`undefined` = none). */
  setMaxInFlight(limit: number | undefined): void;
  /** Chat requests in flight now (accepted by the limit, not yet finished or abandoned). */
  readonly inFlight: number;
  /** In-flight chat requests by raw `Authorization` header ("" = none); absent = 0. */
  readonly inFlightByKey: ReadonlyMap<string, number>;
  /** Highest `inFlight` seen (since start or `resetMaxInFlight`). */
  readonly maxInFlightSeen: number;
  /** Highest in-flight count seen per raw `Authorization` header ("" = none). */
  readonly maxInFlightByKey: ReadonlyMap<string, number>;
  /** Restarts the maxima from the current in-flight counts. */
  resetMaxInFlight(): void;
  /**
   * Sum of the usage the fake actually sent (`record.usage`), over all requests or those
   * matching `filter`.
   */
  usageTotals(filter?: (r: FakeGlmRecord) => boolean): FakeGlmUsage;
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

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

/** A GLM error answer with its status resolved. */
type GlmErrorAnswer = FakeGlmError & { status: number };

/** The live error window: a function, or a window with its end resolved. */
type ErrorState =
  | { type: "fn"; fn: FakeGlmErrorFn }
  | {
      type: "window";
      window: FakeGlmErrorWindow;
      untilMs: number | undefined;
      remaining: number | undefined;
    };

function armErrors(errors: FakeGlmErrors | undefined): ErrorState | null {
  if (!errors) return null;
  if (typeof errors === "function") return { type: "fn", fn: errors };
  const untilMs =
    errors.untilMs ?? (errors.forMs === undefined ? undefined : Date.now() + errors.forMs);
  return { type: "window", window: errors, untilMs, remaining: errors.count };
}

function errorBody(message: string, type: string) {
  // opencode retries errors whose type says "server_error" even on a 4xx status.
  return { error: { message, type, code: null } };
}

/** Non-streaming answer (when a client sends `stream: false`). */
function completionJson(turn: AnswerTurn, model: string, id: string, usage: FakeGlmUsage) {
  const text = turn.text ?? "";
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
          ...(turn.reasoning ? { reasoning_content: turn.reasoning } : {}),
          ...(toolCalls ? { tool_calls: toolCalls } : {}),
        },
        finish_reason: toolCalls ? "tool_calls" : "stop",
      },
    ],
    usage: usageJson(usage),
  };
}

export async function startFakeGlm(options: FakeGlmOptions = {}): Promise<FakeGlm> {
  let script = options.script;
  const requests: FakeGlmRecord[] = [];
  const counters = new Map<FakeGlmRequestKind, number>();
  const waiters = new Set<(r: FakeGlmRecord) => void>();
  const shutdown = new AbortController();
  let chatIndex = 0;
  let errors = armErrors(options.errorWindow);
  let maxInFlight = options.maxInFlight;
  let inFlight = 0;
  let maxInFlightSeen = 0;
  const inFlightByKey = new Map<string, number>();
  const maxInFlightByKey = new Map<string, number>();

  const notify = (record: FakeGlmRecord) => {
    for (const w of [...waiters]) w(record);
  };

  const reply = (
    res: ServerResponse,
    record: FakeGlmRecord,
    status: number,
    body: unknown,
    headers?: Record<string, string>,
  ) => {
    record.status = status;
    json(res, status, body, headers);
  };

  const replyGlmError = (res: ServerResponse, record: FakeGlmRecord, err: GlmErrorAnswer) => {
    const headers: Record<string, string> =
      err.retryAfterSec === undefined ? {} : { "retry-after": String(err.retryAfterSec) };
    const message = err.message ?? glmErrorMessage(err.code);
    reply(res, record, err.status, { error: { code: err.code, message } }, headers);
    record.code = err.code;
    record.completed = true;
  };

  /** The error window's answer to one request, if it is active (uses up one of its count). */
  const windowError = (ctx: FakeGlmContext): GlmErrorAnswer | undefined => {
    if (!errors) return undefined;
    if (errors.type === "fn") {
      const err = errors.fn(ctx);
      return err && { ...err, status: err.status ?? 429 };
    }
    const { window, untilMs } = errors;
    if ((untilMs !== undefined && Date.now() >= untilMs) || (errors.remaining ?? 1) <= 0) {
      errors = null;
      return undefined;
    }
    if (errors.remaining !== undefined) {
      errors.remaining--;
      if (errors.remaining <= 0) errors = null;
    }
    return {
      status: window.status ?? 429,
      code: window.code,
      message: window.message ?? glmErrorMessage(window.code, untilMs),
      retryAfterSec: window.retryAfterSec,
    };
  };

  const enter = (key: string) => {
    const mine = (inFlightByKey.get(key) ?? 0) + 1;
    inFlightByKey.set(key, mine);
    inFlight++;
    maxInFlightSeen = Math.max(maxInFlightSeen, inFlight);
    maxInFlightByKey.set(key, Math.max(maxInFlightByKey.get(key) ?? 0, mine));
  };

  const leave = (key: string) => {
    const mine = (inFlightByKey.get(key) ?? 1) - 1;
    if (mine > 0) inFlightByKey.set(key, mine);
    else inFlightByKey.delete(key);
    inFlight--;
  };

  const handleChat = async (req: IncomingMessage, res: ServerResponse, record: FakeGlmRecord) => {
    let body: ChatRequestBody;
    try {
      body = JSON.parse(await readBody(req)) as ChatRequestBody;
    } catch (err) {
      reply(
        res,
        record,
        400,
        errorBody(`invalid JSON body: ${coerceError(err).message}`, "invalid_request"),
      );
      record.finishedAt = Date.now();
      return;
    }
    record.body = body;
    // From here to `enter` nothing awaits, so the limit check and the count are one step.
    const ctx = buildContext(body, chatIndex++, counters, record.authorization);
    record.kind = ctx.kind;
    record.lastUserText = ctx.lastUserText;
    record.afterToolResult = ctx.afterToolResult;
    const key = record.authorization ?? "";
    const windowed = windowError(ctx);
    const limited =
      !windowed && maxInFlight !== undefined && (inFlightByKey.get(key) ?? 0) >= maxInFlight;
    if (windowed || limited) {
      record.rejected = windowed ? "error-window" : "max-in-flight";
      replyGlmError(res, record, windowed ?? { status: 429, code: "1302" });
      record.finishedAt = Date.now();
      notify(record);
      return;
    }
    takeTurn(ctx, counters);
    const turn = pickTurn(script, ctx, options);
    record.turn = turn.kind;
    const model = body.model ?? "glm-4.7";
    const id = `chatcmpl-fake-${ctx.index + 1}`;

    // Stop streaming when the client goes away or the server shuts down.
    const stop = new AbortController();
    const onClose = () => {
      if (!res.writableFinished) record.clientClosed = true;
      stop.abort();
    };
    const onShutdown = () => stop.abort();
    res.on("close", onClose);
    shutdown.signal.addEventListener("abort", onShutdown, { once: true });
    enter(key);
    try {
      notify(record);
      if (turn.kind === "http-error") {
        const type = turn.status >= 500 ? "server_error" : "invalid_request_error";
        const message = turn.message ?? `fake GLM error ${turn.status}`;
        reply(res, record, turn.status, errorBody(message, type));
        record.completed = true;
        return;
      }
      if (turn.kind === "glm-error") {
        replyGlmError(res, record, turn);
        return;
      }
      if (turn.kind === "malformed") {
        record.status = 200;
        sseHeaders(res);
        res.end("data: {this is not json\n\n");
        record.completed = true;
        return;
      }
      if (turn.kind === "hang") {
        record.status = 200;
        sseHeaders(res);
        res.flushHeaders();
        await new Promise<void>((resolve) => {
          if (stop.signal.aborted) resolve();
          else stop.signal.addEventListener("abort", () => resolve(), { once: true });
        });
        return;
      }
      if (body.stream === false) {
        const usage = usageFor(turn, body);
        reply(res, record, 200, completionJson(turn, model, id, usage));
        record.usage = usage;
        record.completed = true;
        return;
      }
      record.status = 200;
      await streamTurn({
        res,
        turn,
        model,
        id,
        defaultDelayMs: options.tokenDelayMs ?? 0,
        usage: wantsUsage(body) ? usageFor(turn, body) : null,
        signal: stop.signal,
        stats: record,
      });
    } finally {
      leave(key);
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
      status: null,
      code: null,
      rejected: null,
      lastUserText: "",
      afterToolResult: false,
      receivedAt: Date.now(),
      finishedAt: null,
      chunkTimes: [],
      completed: false,
      clientClosed: false,
      usage: null,
    };
    requests.push(record);
    if (options.apiKey && authorization !== `Bearer ${options.apiKey}`) {
      reply(res, record, 401, errorBody("invalid api key", "authentication_error"));
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
      reply(res, record, 200, { object: "list", data });
      record.completed = true;
      record.finishedAt = Date.now();
      return;
    }
    if (req.method === "POST" && path.endsWith("/chat/completions")) {
      handleChat(req, res, record).catch((err: unknown) => {
        if (!res.headersSent) {
          reply(res, record, 500, errorBody(coerceError(err).message, "server_error"));
        } else res.destroy();
        record.finishedAt ??= Date.now();
      });
      return;
    }
    reply(res, record, 404, errorBody(`no route for ${req.method} ${path}`, "not_found"));
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
    setErrors(next) {
      errors = armErrors(next);
    },
    setMaxInFlight(limit) {
      maxInFlight = limit;
    },
    get inFlight() {
      return inFlight;
    },
    inFlightByKey,
    get maxInFlightSeen() {
      return maxInFlightSeen;
    },
    maxInFlightByKey,
    resetMaxInFlight() {
      maxInFlightSeen = inFlight;
      maxInFlightByKey.clear();
      for (const [key, n] of inFlightByKey) maxInFlightByKey.set(key, n);
    },
    usageTotals(filter) {
      const total: FakeGlmUsage = {
        promptTokens: 0,
        completionTokens: 0,
        reasoningTokens: 0,
        cachedTokens: 0,
      };
      for (const r of requests) {
        if (!r.usage || (filter && !filter(r))) continue;
        total.promptTokens += r.usage.promptTokens;
        total.completionTokens += r.usage.completionTokens;
        total.reasoningTokens += r.usage.reasoningTokens;
        total.cachedTokens += r.usage.cachedTokens;
      }
      return total;
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
