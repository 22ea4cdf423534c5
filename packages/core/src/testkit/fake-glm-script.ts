/**
 * What the fake GLM server answers: scripted "turns" (one per chat-completions request) and
 * the default script that behaves like a small, obedient coding agent.
 */

export interface FakeGlmToolCall {
  /** Tool name as the agent knows it, e.g. `write`, `bash`, `edit`. */
  name: string;
  /** Arguments object (serialised to JSON) or a raw argument string (for malformed calls). */
  arguments: Record<string, unknown> | string;
  id?: string;
}

interface TurnTiming {
  /** Delay before each streamed piece (ms). Overrides the server's `tokenDelayMs`. */
  delayMs?: number;
  /** Characters per streamed piece (default 8). */
  chunkChars?: number;
}

export type FakeGlmTurn =
  /** `reasoning` is streamed first as `reasoning_content` (and counted as reasoning tokens). */
  | ({ kind: "text"; text: string; reasoning?: string } & TurnTiming)
  | ({ kind: "tool"; calls: FakeGlmToolCall[]; text?: string; reasoning?: string } & TurnTiming)
  /** Answer with an HTTP error status and an OpenAI-style error body. */
  | { kind: "http-error"; status: number; message?: string }
  /**
   * Answer like real GLM does: `status` with body `{"error":{"code","message"}}` (the code a
   * string) and, when `retryAfterSec` is given, a `retry-after: <seconds>` header. Without
   * `message` the usual text for the code is sent (see `glmErrorMessage`).
   */
  | ({ kind: "glm-error"; status: number } & FakeGlmError)
  /** A 200 event stream whose data is not JSON. */
  | { kind: "malformed" }
  /** Send the response headers, then nothing until the client goes away. */
  | { kind: "hang" };

export type FakeGlmRequestKind = "title" | "review" | "agent";

/**
 * A Z.ai / Zhipu GLM error answer. Codes (strings, as GLM sends them):
 * - 1302 / 1303 / 1305 / 1312: rate limit, too many requests, high concurrency: slow down
 *   (real GLM may add `retry-after`);
 * - 1304 / 1308 / 1310: quota exhausted (1308's message names the reset time);
 * - 1113 (insufficient balance) / 1309 (plan expired) / 1311 (model not in plan): the key or
 *   plan cannot be used, typically 429 or 403;
 * - "401": bad key.
 */
export interface FakeGlmError {
  code: string;
  /** Default: the usual message for the code (`glmErrorMessage`). */
  message?: string;
  /** Sent as the `retry-after` header (seconds) when given. */
  retryAfterSec?: number;
}

/** Messages close to what GLM sends (approximations; tests should key on the code). */
const GLM_MESSAGES: Record<string, string> = {
  "401": "Authorization token is invalid or expired",
  "1113": "Insufficient balance or no resource package. Please recharge.",
  "1302": "High concurrency usage of this API, please reduce concurrency",
  "1303": "High frequency usage of this API, please reduce frequency",
  "1304": "The daily call limit for this API has been reached",
  "1305": "The service may be temporarily overloaded, please try again later",
  "1309": "Your GLM Coding Plan package has expired",
  "1310": "Weekly/Monthly usage limit exhausted",
  "1311": "Your current plan does not include access to this model",
  "1312": "Too many requests, please slow down",
};

/** `YYYY-MM-DD HH:mm:ss` of `ms` in the given UTC offset (default +08:00, Beijing time). */
export function glmResetTime(ms: number, utcOffsetMinutes = 480): string {
  const iso = new Date(ms + utcOffsetMinutes * 60_000).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

/** A 1308 message naming the reset time, e.g. `… Your limit will reset at 2026-12-01 20:00:00`. */
export function glmQuotaMessage(resetAtMs: number, utcOffsetMinutes = 480): string {
  const at = glmResetTime(resetAtMs, utcOffsetMinutes);
  return `Usage limit reached for 5 hour. Your limit will reset at ${at}`;
}

/** The default message for a GLM error code (`resetAtMs` fills 1308's reset time). */
export function glmErrorMessage(code: string, resetAtMs?: number): string {
  if (code === "1308") {
    return resetAtMs === undefined ? "Usage limit reached for 5 hour." : glmQuotaMessage(resetAtMs);
  }
  return GLM_MESSAGES[code] ?? `fake GLM error ${code}`;
}

/**
 * Answers every chat-completions request with one GLM error for a while, before the script is
 * consulted (so no scripted turn is used up). Semantics:
 * - `status` defaults to 429;
 * - `untilMs` (absolute, `Date.now()` clock) ends the window at that time; `forMs` is the same
 *   relative to when the window is set (`startFakeGlm` or `setErrors`); with both, `untilMs` wins;
 * - `count` ends it after that many chat requests have been answered by it;
 * - with a time and a count, the window ends at whichever comes first; with neither, it lasts
 *   until `setErrors(undefined)`. An ended window is cleared (set a new one to start again);
 * - without `message`, 1308 names the window's end as the reset time when it has one;
 * - requests answered by the window are recorded (`rejected: "error-window"`) but are not in
 *   flight and do not count against `maxInFlight`.
 */
export interface FakeGlmErrorWindow extends FakeGlmError {
  status?: number;
  untilMs?: number;
  forMs?: number;
  count?: number;
}

/**
 * Function form of the error window: called for every chat request (before the script and the
 * concurrency limit) with the request's context; an error answers it, `undefined` lets it through.
 */
export type FakeGlmErrorFn = (
  ctx: FakeGlmContext,
) => (FakeGlmError & { status?: number }) | undefined;

export type FakeGlmErrors = FakeGlmErrorWindow | FakeGlmErrorFn;

/** One message of an OpenAI chat-completions request (only the fields the fake reads). */
export interface ChatMessage {
  role: string;
  content?: unknown;
  tool_calls?: unknown;
  tool_call_id?: string;
}

export interface ChatRequestBody {
  model?: string;
  messages?: ChatMessage[];
  tools?: unknown[];
  stream?: boolean;
  [key: string]: unknown;
}

/** What a script sees when it picks the answer to one request. */
export interface FakeGlmContext {
  /** 0-based index among all chat-completions requests this server received. */
  index: number;
  /**
   * 0-based index among requests of the same kind that reached the script (agent turns are
   * counted separately; requests answered by the error window or the concurrency limit are not).
   */
  kindIndex: number;
  kind: FakeGlmRequestKind;
  body: ChatRequestBody;
  /** The request's raw `Authorization` header. */
  authorization: string | null;
  /** Text of the last user message. */
  lastUserText: string;
  /** Number of tool results in the conversation so far. */
  toolResults: number;
  /** The last message is a tool result (the agent is waiting for the model's next step). */
  afterToolResult: boolean;
  /** Working directory announced in the agent's system prompt, when present. */
  cwd: string | null;
  /** Names of the tools the request offers the model. */
  toolNames: string[];
}

export type FakeGlmScriptFn = (ctx: FakeGlmContext) => FakeGlmTurn | undefined;

/**
 * An array answers agent requests in order (title and review requests get the defaults);
 * a function answers every request. Returning `undefined` falls back to the default script.
 */
export type FakeGlmScript = readonly FakeGlmTurn[] | FakeGlmScriptFn;

export function messageText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => {
        if (typeof part === "string") return part;
        if (part && typeof part === "object" && "text" in part) {
          const text = (part as { text: unknown }).text;
          return typeof text === "string" ? text : "";
        }
        return "";
      })
      .join("");
  }
  return "";
}

const REVIEW_HINT = /\breview/i;
const JSON_HINT = /\bjson\b/i;

/**
 * Classifies a request and gathers what scripts usually need. `kindIndex` is the next index of
 * the request's kind; it is not taken until `takeTurn` (so a rejected request uses up nothing).
 */
export function buildContext(
  body: ChatRequestBody,
  index: number,
  counters: ReadonlyMap<FakeGlmRequestKind, number>,
  authorization: string | null = null,
): FakeGlmContext {
  const messages = body.messages ?? [];
  const system = messages
    .filter((m) => m.role === "system")
    .map((m) => messageText(m.content))
    .join("\n");
  const users = messages.filter((m) => m.role === "user");
  const lastUserText = messageText(users[users.length - 1]?.content);
  const toolResults = messages.filter((m) => m.role === "tool").length;
  const last = messages[messages.length - 1];
  let kind: FakeGlmRequestKind = "agent";
  if (/title generator/i.test(system) && !body.tools?.length) kind = "title";
  else if (REVIEW_HINT.test(lastUserText) && JSON_HINT.test(lastUserText)) kind = "review";
  const kindIndex = counters.get(kind) ?? 0;
  const cwdMatch = /Working directory:\s*(\S+)/.exec(system);
  return {
    index,
    kindIndex,
    kind,
    body,
    authorization,
    lastUserText,
    toolResults,
    afterToolResult: last?.role === "tool",
    cwd: cwdMatch?.[1] ?? null,
    toolNames: (body.tools ?? []).flatMap((t) => {
      const fn = (t as { function?: { name?: unknown } } | null)?.function;
      return typeof fn?.name === "string" ? [fn.name] : [];
    }),
  };
}

export interface DefaultScriptOptions {
  /** The JSON verdict the default script gives review requests. */
  reviewVerdict?: { status: "pass" | "needs_fix" | "fail"; feedback: string; fixChunk?: unknown };
}

/** The tool opencode offers when a prompt asks for JSON-schema output. */
export const STRUCTURED_OUTPUT_TOOL = "StructuredOutput";

/**
 * Default behaviour: titles get a short title; reviews get the JSON verdict (through
 * opencode's structured-output tool when the request offers it, else as text); an agent request
 * first writes `fake-glm-output/<n>.md` (so the working tree changes), then answers with a
 * short summary once the tool result is back.
 */
export function defaultTurn(ctx: FakeGlmContext, opts: DefaultScriptOptions = {}): FakeGlmTurn {
  if (ctx.kind === "title") return { kind: "text", text: "Fake GLM session" };
  if (ctx.kind === "review") {
    const verdict = opts.reviewVerdict ?? { status: "pass", feedback: "Looks good (fake GLM)." };
    if (ctx.toolNames.includes(STRUCTURED_OUTPUT_TOOL)) {
      return { kind: "tool", calls: [{ name: STRUCTURED_OUTPUT_TOOL, arguments: verdict }] };
    }
    if (ctx.afterToolResult) return { kind: "text", text: "Verdict given." };
    return { kind: "text", text: JSON.stringify(verdict) };
  }
  if (ctx.afterToolResult) {
    return { kind: "text", text: "Done. I wrote the requested file (fake GLM)." };
  }
  const firstLine = ctx.lastUserText.split("\n").find((l) => l.trim().length > 0) ?? "task";
  return {
    kind: "tool",
    text: "I'll write the file now.",
    calls: [
      {
        name: "write",
        arguments: {
          filePath: `fake-glm-output/${ctx.index + 1}.md`,
          content: `# Fake GLM output\n\n${firstLine.trim().slice(0, 200)}\n`,
        },
      },
    ],
  };
}

/** Uses up the context's `kindIndex` (the request is about to be answered by the script). */
export function takeTurn(ctx: FakeGlmContext, counters: Map<FakeGlmRequestKind, number>): void {
  counters.set(ctx.kind, ctx.kindIndex + 1);
}

/** Picks the turn for one request from a script (array or function), else the default. */
export function pickTurn(
  script: FakeGlmScript | undefined,
  ctx: FakeGlmContext,
  opts: DefaultScriptOptions,
): FakeGlmTurn {
  if (typeof script === "function") return script(ctx) ?? defaultTurn(ctx, opts);
  if (script && ctx.kind === "agent") {
    const turn = script[ctx.kindIndex];
    if (turn) return turn;
  }
  return defaultTurn(ctx, opts);
}
