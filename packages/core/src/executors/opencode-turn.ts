import type { AssistantMessage, Event, Part } from "@opencode-ai/sdk/v2";
import { describeToolInput } from "./opencode-events.ts";
import type { OpencodeServer } from "./opencode-server.ts";
import type { ExecutorEvent } from "./types.ts";

/**
 * One prompt's turn in an opencode session, followed through the server's event stream and
 * turned into ExecutorEvents: the agent's text as it is generated (complete lines every
 * `flushMs`, a line still growing after `partialMs` as it is), each tool call with one name
 * from start to end, a retrying request as a state (`retrying in 8 s: …`), tokens per
 * finished model answer. Permission or question prompts nobody can answer are rejected.
 */

export interface TurnOutcome {
  ok: boolean;
  /** Text of the last assistant message that had text. */
  output: string;
  /** The structured answer (JSON-schema output), when the prompt asked for one. */
  structured: unknown;
  error: string | null;
}

export interface TurnOptions {
  flushMs?: number;
  partialMs?: number;
  /** The turn was aborted by us: opencode's "aborted" error is expected then. */
  aborted?: () => boolean;
}

const MAX_LINE = 2000;

function clip(s: string, max = MAX_LINE): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

interface Assistant {
  info: AssistantMessage;
  counted: boolean;
}

interface TextPartState {
  kind: "text" | "reasoning";
  messageId: string;
  /** Everything received so far. */
  text: string;
  /** How much of `text` went to the log. */
  emitted: number;
  /** When the unemitted tail started waiting. */
  pendingSince: number | null;
}

function errorText(error: AssistantMessage["error"] | undefined | null): string | null {
  if (!error) return null;
  const data = (error as { data?: { message?: unknown; statusCode?: unknown } }).data;
  const message = typeof data?.message === "string" ? data.message : "no message";
  const status = typeof data?.statusCode === "number" ? ` (HTTP ${data.statusCode})` : "";
  return `${error.name}: ${message}${status}`;
}

export class OpencodeTurn {
  readonly #server: OpencodeServer;
  readonly #sessionId: string;
  readonly #emit: (e: ExecutorEvent) => void;
  readonly #flushMs: number;
  readonly #partialMs: number;
  readonly #aborted: () => boolean;
  readonly #assistants = new Map<string, Assistant>();
  readonly #texts = new Map<string, TextPartState>();
  readonly #tools = new Map<string, "started" | "done">();
  #sessionError: string | null = null;
  #retrying = false;
  #sent = false;
  #busySeen = false;
  #finished = false;
  #resolve: (o: TurnOutcome) => void = () => {};
  #timer: NodeJS.Timeout | null = null;
  #off: () => void = () => {};
  readonly done: Promise<TurnOutcome>;

  constructor(
    server: OpencodeServer,
    sessionId: string,
    emit: (e: ExecutorEvent) => void,
    opts: TurnOptions = {},
  ) {
    this.#server = server;
    this.#sessionId = sessionId;
    this.#emit = emit;
    this.#flushMs = opts.flushMs ?? 250;
    this.#partialMs = opts.partialMs ?? 1000;
    this.#aborted = opts.aborted ?? (() => false);
    this.done = new Promise((r) => {
      this.#resolve = r;
    });
    this.#off = server.listen(sessionId, {
      onEvent: (e) => this.#onEvent(e),
      onReconnect: () => void this.#catchUp(),
    });
  }

  /** Sends the prompt (after listening began, so no event is missed). */
  async send(prompt: () => Promise<{ error?: unknown }>): Promise<void> {
    const res = await prompt();
    if (res.error) {
      this.finish(`opencode refused the prompt: ${describe(res.error)}`);
      return;
    }
    this.#sent = true;
    this.#timer = setInterval(() => this.#flush(false), this.#flushMs);
    this.#timer.unref();
  }

  /** Ends the turn now (server gone, aborted, timed out): `error` says why. */
  finish(error: string | null): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#off();
    if (this.#timer) clearInterval(this.#timer);
    this.#flush(true);
    if (this.#retrying) this.#emit({ type: "state", text: null });
    const last = this.#lastAssistant();
    const messageError = errorText(last?.info.error);
    const aborted = this.#aborted();
    const failure =
      error ??
      (aborted ? null : this.#sessionError) ??
      (aborted || last?.info.error?.name === "MessageAbortedError" ? null : messageError);
    this.#resolve({
      ok: failure === null && !aborted,
      output: this.#finalText(),
      structured: last?.info.structured,
      error: failure,
    });
  }

  #onEvent(event: Event): void {
    if (this.#finished) return;
    switch (event.type) {
      case "message.updated": {
        const info = event.properties.info;
        if (info.role !== "assistant") break;
        const known = this.#assistants.get(info.id);
        const entry = known ?? { info, counted: false };
        entry.info = info;
        this.#assistants.set(info.id, entry);
        if (!entry.counted && info.time.completed) {
          entry.counted = true;
          const t = info.tokens;
          this.#emit({ type: "tokens", input: t.input, output: t.output + t.reasoning });
        }
        break;
      }
      case "message.part.delta": {
        const p = event.properties;
        if (p.field !== "text") break;
        const state = this.#texts.get(p.partID) ?? this.#newText(p.partID, p.messageID, "text");
        state.text += p.delta;
        state.pendingSince ??= Date.now();
        break;
      }
      case "message.part.updated":
        this.#onPart(event.properties.part);
        break;
      case "session.status": {
        const status = event.properties.status;
        if (status.type === "retry") {
          this.#retrying = true;
          const secs = Math.max(0, Math.round((status.next - Date.now()) / 1000));
          this.#emit({
            type: "state",
            text: clip(`retrying in ${secs} s: ${status.message}`, 300),
          });
        } else {
          if (status.type === "busy") this.#busySeen = true;
          if (this.#retrying) {
            this.#retrying = false;
            this.#emit({ type: "state", text: null });
          }
          if (status.type === "idle" && this.#sent) this.finish(null);
        }
        break;
      }
      case "session.idle":
        if (this.#sent) this.finish(null);
        break;
      case "session.error": {
        const err = event.properties.error;
        if (err && err.name !== "MessageAbortedError") this.#sessionError = errorText(err);
        break;
      }
      case "permission.asked": {
        const p = event.properties;
        this.#emit({
          type: "log",
          level: "warn",
          line: clip(`denied ${p.permission} ${p.patterns.join(" ")} (no one can approve it here)`),
        });
        void this.#server.client.permission.reply({ requestID: p.id, reply: "reject" });
        break;
      }
      case "question.asked": {
        this.#emit({
          type: "log",
          level: "warn",
          line: "the agent asked a question; answered: no",
        });
        void this.#server.client.question.reject({ requestID: event.properties.id });
        break;
      }
      default:
        break;
    }
  }

  #newText(partId: string, messageId: string, kind: "text" | "reasoning"): TextPartState {
    const state: TextPartState = { kind, messageId, text: "", emitted: 0, pendingSince: null };
    this.#texts.set(partId, state);
    return state;
  }

  #onPart(part: Part): void {
    if (part.type === "text" || part.type === "reasoning") {
      const state = this.#texts.get(part.id) ?? this.#newText(part.id, part.messageID, part.type);
      state.kind = part.type;
      if (part.text.length >= state.text.length) state.text = part.text;
      if (part.time?.end) this.#flushPart(state, true);
      return;
    }
    if (part.type !== "tool") return;
    const s = part.state;
    // A call of a tool the agent does not have arrives as opencode's `invalid` tool: show it
    // under the name the model asked for, as refused.
    const asked = part.tool === "invalid" ? s.input.tool : undefined;
    const name = typeof asked === "string" && asked ? asked : part.tool;
    const detail = describeToolInput(name, asked ? undefined : s.input);
    const seen = this.#tools.get(part.callID);
    const start = () => {
      this.#tools.set(part.callID, "started");
      this.#emit({ type: "tool", name, status: "started", ...(detail ? { detail } : {}) });
    };
    if (s.status === "running" && !seen) {
      start();
    } else if ((s.status === "completed" || s.status === "error") && seen !== "done") {
      if (!seen) start();
      this.#tools.set(part.callID, "done");
      if (asked) {
        const why = typeof s.input.error === "string" ? s.input.error : "not available";
        this.#emit({ type: "tool", name, status: "failed", detail: clip(`refused: ${why}`, 500) });
      } else if (s.status === "completed") {
        this.#emit({ type: "tool", name, status: "completed", ...(detail ? { detail } : {}) });
      } else {
        this.#emit({ type: "tool", name, status: "failed", detail: clip(s.error, 500) });
      }
    }
  }

  #flush(all: boolean): void {
    for (const state of this.#texts.values()) this.#flushPart(state, all);
  }

  /** Emits the complete lines not yet emitted; the growing tail too when `all` or it waited long. */
  #flushPart(state: TextPartState, all: boolean): void {
    const fresh = state.text.slice(state.emitted);
    if (!fresh) return;
    const cut = fresh.lastIndexOf("\n");
    const waited =
      state.pendingSince !== null && Date.now() - state.pendingSince >= this.#partialMs;
    const take = all || waited ? fresh.length : cut + 1;
    if (take <= 0) return;
    const chunk = fresh.slice(0, take);
    state.emitted += take;
    state.pendingSince = state.emitted < state.text.length ? Date.now() : null;
    const level = state.kind === "reasoning" ? "debug" : "info";
    for (const line of chunk.split("\n")) {
      if (!line.trim()) continue;
      const text = state.kind === "reasoning" ? `thinking: ${line}` : line;
      this.#emit({ type: "log", level, line: clip(text) });
    }
  }

  #lastAssistant(): Assistant | undefined {
    let last: Assistant | undefined;
    for (const a of this.#assistants.values()) {
      if (!last || a.info.time.created >= last.info.time.created) last = a;
    }
    return last;
  }

  #finalText(): string {
    const byMessage = new Map<string, string>();
    for (const t of this.#texts.values()) {
      if (t.kind !== "text") continue;
      byMessage.set(t.messageId, (byMessage.get(t.messageId) ?? "") + t.text);
    }
    const ordered = [...this.#assistants.values()].sort(
      (a, b) => a.info.time.created - b.info.time.created,
    );
    for (const a of ordered.reverse()) {
      const text = byMessage.get(a.info.id)?.trim();
      if (text) return text;
    }
    return [...byMessage.values()].join("\n").trim();
  }

  /** After a reconnect: if the session went idle meanwhile, take its last answer and finish. */
  async #catchUp(): Promise<void> {
    if (this.#finished || !this.#sent) return;
    const status = await this.#server.client.session.status({});
    const mine = (status.data as Record<string, { type: string }> | undefined)?.[this.#sessionId];
    if (mine && mine.type !== "idle") return;
    if (!this.#busySeen && !mine) {
      // the turn may not have started yet when the stream dropped; look at the last message
    }
    const last = await this.#server.client.session.messages({
      sessionID: this.#sessionId,
      limit: 1,
    });
    const message = last.data?.[0];
    if (message?.info.role === "assistant") {
      const entry = this.#assistants.get(message.info.id) ?? { info: message.info, counted: false };
      entry.info = message.info;
      this.#assistants.set(message.info.id, entry);
      for (const part of message.parts) this.#onPart(part);
      if (!entry.counted && message.info.time.completed) {
        entry.counted = true;
        const t = message.info.tokens;
        this.#emit({ type: "tokens", input: t.input, output: t.output + t.reasoning });
      }
      if (message.info.time.completed) this.finish(null);
    }
  }
}

function describe(err: unknown): string {
  if (err && typeof err === "object") {
    const e = err as { name?: unknown; data?: { message?: unknown }; message?: unknown };
    const msg = typeof e.data?.message === "string" ? e.data.message : e.message;
    if (typeof msg === "string") return typeof e.name === "string" ? `${e.name}: ${msg}` : msg;
  }
  return typeof err === "string" ? err : JSON.stringify(err);
}
