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
  | ({ kind: "text"; text: string; reasoning?: string } & TurnTiming)
  | ({ kind: "tool"; calls: FakeGlmToolCall[]; text?: string } & TurnTiming)
  /** Answer with an HTTP error status and an OpenAI-style error body. */
  | { kind: "http-error"; status: number; message?: string }
  /** A 200 event stream whose data is not JSON. */
  | { kind: "malformed" }
  /** Send the response headers, then nothing until the client goes away. */
  | { kind: "hang" };

export type FakeGlmRequestKind = "title" | "review" | "agent";

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
  /** 0-based index among requests of the same kind (agent turns are counted separately). */
  kindIndex: number;
  kind: FakeGlmRequestKind;
  body: ChatRequestBody;
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

/** Classifies a request and gathers what scripts usually need. */
export function buildContext(
  body: ChatRequestBody,
  index: number,
  counters: Map<FakeGlmRequestKind, number>,
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
  counters.set(kind, kindIndex + 1);
  const cwdMatch = /Working directory:\s*(\S+)/.exec(system);
  return {
    index,
    kindIndex,
    kind,
    body,
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
