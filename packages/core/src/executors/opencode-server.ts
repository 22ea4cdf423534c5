import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { createOpencodeClient, type Event, type OpencodeClient } from "@opencode-ai/sdk/v2";
import { coerceError } from "../errors.ts";
import {
  descendants,
  isAlive,
  killTree,
  resumeTree,
  suspendTree,
  suspendTreeSettled,
  waitGone,
} from "../process-tree.ts";

/**
 * One `opencode serve` process for one run: started in the run's worktree on 127.0.0.1 with a
 * free port and a password of its own, driven through `@opencode-ai/sdk` (the v2 client, the
 * API generation of the opencode 1.18 binary). Its process tree (the server and every tool it
 * starts, also in new sessions) belongs to this run alone, so a SIGSTOP of the tree pauses
 * exactly this run.
 *
 * Events come from one `/event` stream that reconnects by itself: when it ends or fails (a
 * long pause can outlast a client timeout), listeners get `onReconnect` and catch up.
 */

export interface SessionListener {
  onEvent(event: Event): void;
  /** The event stream was re-established: events may have been missed. */
  onReconnect?(): void;
}

export interface OpencodeServerOptions {
  bin: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** How long start-up may take before it counts as failed (default 90 s). */
  startTimeoutMs?: number;
  /**
   * Why the server went away (`error`), and opencode's own WARN/ERROR log lines (`debug`: they
   * are diagnostics — a rate-limited request it retries logs an ERROR too; what fails a step
   * arrives as the step's error).
   */
  onLog?: (level: "debug" | "warn" | "error", line: string) => void;
  /** The process exists (before it listens): a pause during start-up can stop it already. */
  onSpawn?: (pid: number) => void;
  /** While this says true (the run is paused), the start-up time limit does not run out. */
  held?: () => boolean;
}

const USER = "opencode";
const LISTENING = /listening on (http:\/\/127\.0\.0\.1:\d+)/;
const STDERR_TAIL = 4096;

export class OpencodeServerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OpencodeServerError";
  }
}

/** The session an opencode event belongs to, when it names one. */
export function sessionOf(event: Event): string | null {
  const p = event.properties as Record<string, unknown> | undefined;
  if (!p) return null;
  if (typeof p.sessionID === "string") return p.sessionID;
  const nested = (p.part ?? p.info) as { sessionID?: unknown } | undefined;
  return typeof nested?.sessionID === "string" ? nested.sessionID : null;
}

export class OpencodeServer {
  readonly client: OpencodeClient;
  readonly pid: number;
  readonly url: string;
  readonly #listeners = new Map<string, Set<SessionListener>>();
  readonly #abort = new AbortController();
  readonly #seen = new Set<number>();
  readonly #onLog: OpencodeServerOptions["onLog"];
  #stderrTail = "";
  #paused: { pids: number[]; resumed: Promise<void>; resume: () => void } | null = null;
  #exited = false;
  #closing: Promise<void> | null = null;
  #connected: Promise<void>;
  #markConnected: () => void = () => {};

  private constructor(
    child: ChildProcess,
    url: string,
    password: string,
    opts: OpencodeServerOptions,
  ) {
    this.pid = child.pid as number;
    this.url = url;
    this.#onLog = opts.onLog;
    this.client = createOpencodeClient({
      baseUrl: url,
      directory: opts.cwd,
      headers: { Authorization: `Basic ${Buffer.from(`${USER}:${password}`).toString("base64")}` },
    });
    this.#connected = new Promise((r) => {
      this.#markConnected = r;
    });
    child.on("exit", (code, signal) => {
      this.#exited = true;
      if (!this.#closing) {
        const why = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        this.#onLog?.("error", `opencode server ${why}${this.#lastError()}`);
      }
      this.#abort.abort();
    });
  }

  /** Starts the server and resolves once it listens and its event stream is open. */
  static async start(opts: OpencodeServerOptions): Promise<OpencodeServer> {
    const password = randomBytes(18).toString("base64url");
    const env = {
      ...opts.env,
      OPENCODE_SERVER_USERNAME: USER,
      OPENCODE_SERVER_PASSWORD: password,
    };
    const args = ["serve", "--hostname", "127.0.0.1", "--port", "0", "--print-logs"];
    args.push("--log-level", "WARN");
    let child: ChildProcess;
    try {
      child = spawn(opts.bin, args, { cwd: opts.cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    } catch (err) {
      throw new OpencodeServerError(
        `could not start opencode (${opts.bin}): ${coerceError(err).message}`,
      );
    }
    let stderrTail = "";
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new OpencodeServerError(
            `opencode serve did not listen within ${opts.startTimeoutMs ?? 90_000} ms`,
          ),
        );
      }, opts.startTimeoutMs ?? 90_000);
      const done = (err: Error | null, value?: string) => {
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(value as string);
      };
      child.once("error", (err) =>
        done(new OpencodeServerError(`could not start opencode (${opts.bin}): ${err.message}`)),
      );
      child.once("exit", (code, signal) =>
        done(
          new OpencodeServerError(
            `opencode serve ${signal ? `was killed by ${signal}` : `exited with code ${code}`} before listening${tail(stderrTail)}`,
          ),
        ),
      );
      createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
        const m = LISTENING.exec(line);
        if (m?.[1]) done(null, m[1]);
      });
      createInterface({ input: child.stderr as NodeJS.ReadableStream }).on("line", (line) => {
        stderrTail = `${stderrTail}${line}\n`.slice(-STDERR_TAIL);
      });
    }).catch(async (err: unknown) => {
      if (child.pid !== undefined) await killTree(child.pid);
      throw err;
    });
    const server = new OpencodeServer(child, url, password, opts);
    server.#stderrTail = stderrTail;
    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on("line", (line) =>
      server.#stderr(line),
    );
    void server.#pump();
    await Promise.race([
      server.#connected,
      new Promise<void>((_, reject) =>
        setTimeout(
          () => reject(new OpencodeServerError("opencode's event stream did not open")),
          30_000,
        ).unref(),
      ),
    ]).catch(async (err: unknown) => {
      await server.close();
      throw err;
    });
    return server;
  }

  get exited(): boolean {
    return this.#exited;
  }

  get paused(): boolean {
    return this.#paused !== null;
  }

  /** Receives the events of one session until the returned function is called. */
  listen(sessionId: string, listener: SessionListener): () => void {
    let set = this.#listeners.get(sessionId);
    if (!set) {
      set = new Set();
      this.#listeners.set(sessionId, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.#listeners.delete(sessionId);
    };
  }

  /** Suspends the whole tree (SIGSTOP, root first); resolves when every process is stopped. */
  async pause(): Promise<void> {
    if (this.#paused || this.#exited) return;
    let resume: () => void = () => {};
    const resumed = new Promise<void>((r) => {
      resume = r;
    });
    const pids = suspendTree(this.pid);
    for (const p of pids) this.#seen.add(p);
    const paused = { pids, resumed, resume };
    this.#paused = paused;
    // what forked while the first stops took effect is stopped too
    paused.pids = await suspendTreeSettled(this.pid, pids);
    for (const p of paused.pids) this.#seen.add(p);
  }

  resume(): void {
    const paused = this.#paused;
    if (!paused) return;
    this.#paused = null;
    if (!this.#exited) resumeTree(this.pid, paused.pids);
    paused.resume();
  }

  /** Ends the whole tree and verifies by pid that nothing of it is left. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#abort.abort();
      for (const p of descendants(this.pid)) this.#seen.add(p);
      const pids = await killTree(this.pid, { extra: [...this.#seen] });
      this.#paused?.resume();
      this.#paused = null;
      if (!(await waitGone(pids, 5000))) {
        const left = pids.filter(isAlive);
        this.#onLog?.(
          "error",
          `processes of the opencode server survived the kill: ${left.join(", ")}`,
        );
      }
    })();
    return this.#closing;
  }

  /** Every pid of the server's tree right now (root first). */
  tree(): number[] {
    return this.#exited ? [] : descendants(this.pid);
  }

  async #pump(): Promise<void> {
    let first = true;
    while (!this.#abort.signal.aborted) {
      try {
        const sub = await this.client.event.subscribe(undefined, {
          signal: this.#abort.signal,
          sseMaxRetryAttempts: 1,
        });
        for await (const event of sub.stream as AsyncIterable<Event>) {
          if (event.type === "server.connected") {
            this.#markConnected();
            if (!first) this.#reconnected();
            first = false;
            continue;
          }
          this.#dispatch(event);
        }
      } catch {
        // ended or failed: reconnect below
      }
      if (this.#abort.signal.aborted) break;
      // a paused tree cannot answer: wait for the resume, then reconnect
      if (this.#paused) await this.#paused.resumed;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  #dispatch(event: Event): void {
    const id = sessionOf(event);
    if (!id) return;
    for (const l of [...(this.#listeners.get(id) ?? [])]) {
      try {
        l.onEvent(event);
      } catch {
        // one listener must not stop the stream for the others
      }
    }
  }

  #reconnected(): void {
    for (const set of this.#listeners.values()) {
      for (const l of [...set]) {
        try {
          l.onReconnect?.();
        } catch {
          // ignore
        }
      }
    }
  }

  #stderr(line: string): void {
    this.#stderrTail = `${this.#stderrTail}${line}\n`.slice(-STDERR_TAIL);
    if (/\blevel=(ERROR|WARN)\b/.test(line)) this.#onLog?.("debug", clip(`opencode: ${line}`));
  }

  #lastError(): string {
    return tail(this.#stderrTail);
  }
}

function clip(s: string, max = 500): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

function tail(stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  const last = lines.slice(-3).join(" | ");
  return last ? `: ${clip(last)}` : "";
}
