import { MessageChannel, type MessagePort } from "node:worker_threads";
import { Piscina } from "piscina";
import { coerceError } from "./errors.ts";
import { killTree } from "./process-tree.ts";
import {
  type MainToThreadInput,
  type Progress,
  type RunResult,
  type RunSnapshot,
  type RunSnapshotInput,
  runResultSchema,
  type ThreadToMain,
  threadToMainSchema,
} from "./protocol.ts";
import type { RunTask } from "./worker.ts";
import { defaultWorkerFile, isSourceModule, sourceExecArgv } from "./worker-file.ts";

export interface RunPoolOptions {
  /** Threads, i.e. runs at once (MAX_WORKERS). Change later with `setMaxThreads`. */
  maxThreads: number;
  /** Worker execArgv; default: none for built code, tsx + the source condition for `.ts`. */
  execArgv?: string[];
  /** Worker module (tests use a fixture); default `./worker.js` or `./worker.ts` beside this. */
  workerFile?: string | URL;
  /** How long an `abort` may go unanswered before the thread is terminated (default 2 s). */
  abortGraceMs?: number;
  /** Idle threads are ended after this long (default 30 s). */
  idleTimeoutMs?: number;
  onError?: (err: Error) => void;
}

export interface RunHandlers {
  /** Every validated message of the run's thread, in order. */
  onMessage: (msg: ThreadToMain) => void;
}

export interface RunHandle {
  readonly workerId: string;
  /** Asks the thread to pause; the `paused` message acknowledges it. */
  pause(): Promise<void>;
  /** Asks the thread to resume; the `resumed` message acknowledges it. */
  resume(): Promise<void>;
  /** Asks the thread to abort; resolves once the run has ended (hard-terminated after the grace). */
  abort(reason?: string): Promise<void>;
  /** Never rejects: a crashed thread is a `failed` result carrying the error. */
  readonly result: Promise<RunResult>;
}

const PORT_CLOSE_WAIT_MS = 300;

interface PoolSlot {
  piscina: Piscina;
  runs: number;
  retired: boolean;
}

/**
 * Main-thread side of the run threads: one Piscina pool, one task per spec run, each with its
 * own MessageChannel whose messages are validated on arrival. Piscina cannot change
 * `maxThreads` after construction, so `setMaxThreads` retires the current pool (its runs go
 * on; it closes when the last one ends) and the next run starts in a new pool of the new size.
 */
export class RunPool {
  readonly #opts: Required<Omit<RunPoolOptions, "execArgv" | "workerFile" | "onError">> & {
    execArgv: string[];
    filename: string;
    onError: (err: Error) => void;
  };
  #maxThreads: number;
  #slot: PoolSlot | null = null;
  readonly #slots = new Set<PoolSlot>();
  readonly #handles = new Set<RunHandle>();
  #closing: Promise<void> | null = null;

  constructor(options: RunPoolOptions) {
    assertThreads(options.maxThreads);
    const source = isSourceModule();
    const file = options.workerFile ?? defaultWorkerFile();
    this.#opts = {
      maxThreads: options.maxThreads,
      abortGraceMs: options.abortGraceMs ?? 2000,
      idleTimeoutMs: options.idleTimeoutMs ?? 30_000,
      execArgv: options.execArgv ?? (source ? sourceExecArgv() : []),
      filename: typeof file === "string" ? file : file.href,
      onError: options.onError ?? (() => {}),
    };
    this.#maxThreads = options.maxThreads;
  }

  get maxThreads(): number {
    return this.#maxThreads;
  }

  /** Runs in flight (started and not yet settled). */
  get running(): number {
    return this.#handles.size;
  }

  setMaxThreads(n: number): void {
    assertThreads(n);
    if (n === this.#maxThreads) return;
    this.#maxThreads = n;
    const slot = this.#slot;
    if (slot) {
      slot.retired = true;
      this.#slot = null;
      this.#release(slot);
    }
  }

  start(snapshot: RunSnapshot | RunSnapshotInput, handlers: RunHandlers): RunHandle {
    if (this.#closing) throw new Error("the run pool is closed");
    const slot = this.#currentSlot();
    const { port1, port2 } = new MessageChannel();
    const hardAbort = new AbortController();
    let lastProgress: Progress = {
      current: 0,
      total: snapshot.chunks.length,
      passed: 0,
      failed: 0,
    };
    let lastPid: number | undefined;
    let settled = false;
    let abortReason: string | null = null;
    let abortTimer: NodeJS.Timeout | null = null;
    let hardAborted = false;

    const deliver = (msg: ThreadToMain) => {
      try {
        handlers.onMessage(msg);
      } catch (err) {
        this.#opts.onError(coerceError(err));
      }
    };
    port1.on("message", (raw: unknown) => {
      const parsed = threadToMainSchema.safeParse(raw);
      if (!parsed.success) {
        deliver({
          type: "error",
          message: `invalid message from the run thread: ${parsed.error.message}`,
          at: Date.now(),
        });
        return;
      }
      const msg = parsed.data;
      if (msg.type === "progress") lastProgress = msg.progress;
      if ((msg.type === "step" || msg.type === "process") && msg.pid !== undefined) {
        lastPid = msg.pid;
      }
      deliver(msg);
      if (msg.type === "done") lastMessage();
    });
    // the thread's last message is `done`; a crashed thread closes the port instead
    let lastMessage: () => void = () => {};
    const ended = new Promise<void>((resolve) => {
      lastMessage = resolve;
      port1.once("close", () => resolve());
    });

    const task: RunTask = { port: port2 as MessagePort, snapshot };
    slot.runs++;
    const result = slot.piscina
      .run(task, { transferList: [port2], signal: hardAbort.signal })
      .then(
        (value: unknown): RunResult => {
          const checked = runResultSchema.safeParse(value);
          if (checked.success) return checked.data;
          return {
            outcome: "failed",
            error: `the run thread returned an invalid result: ${checked.error.message}`,
            progress: lastProgress,
          };
        },
        (err: unknown): RunResult => {
          if (hardAborted) {
            return {
              outcome: "aborted",
              error: `${abortReason ?? "aborted"} (the run thread did not answer within ${this.#opts.abortGraceMs} ms and was terminated)`,
              progress: lastProgress,
            };
          }
          return {
            outcome: "failed",
            error: `the run thread crashed: ${coerceError(err).message}`,
            progress: lastProgress,
          };
        },
      )
      .then(async (res) => {
        // let the last messages (posted before the task returned) arrive before settling
        let wait: NodeJS.Timeout | undefined;
        await Promise.race([
          ended,
          new Promise<void>((resolve) => {
            wait = setTimeout(resolve, PORT_CLOSE_WAIT_MS);
          }),
        ]);
        clearTimeout(wait);
        return res;
      })
      .finally(() => {
        settled = true;
        if (abortTimer) clearTimeout(abortTimer);
        port1.removeAllListeners("message");
        port1.close();
        slot.runs--;
        this.#handles.delete(handle);
        this.#release(slot);
      });

    const post = (msg: MainToThreadInput) => {
      if (!settled) port1.postMessage(msg);
    };
    const handle: RunHandle = {
      workerId: snapshot.workerId,
      result,
      pause: async () => post({ type: "pause" }),
      resume: async () => post({ type: "resume" }),
      abort: async (reason = "aborted") => {
        if (settled) return;
        abortReason ??= reason;
        post({ type: "abort", reason });
        abortTimer ??= setTimeout(() => {
          if (settled) return;
          hardAborted = true;
          const pid = lastPid;
          const kill = pid === undefined ? Promise.resolve([]) : killTree(pid);
          void kill.finally(() => hardAbort.abort());
        }, this.#opts.abortGraceMs);
        await result;
      },
    };
    this.#handles.add(handle);
    return handle;
  }

  /**
   * Graceful: waits for every run to end, then closes the threads. Forceful: aborts every run
   * first. Idempotent; later calls return the first call's promise.
   */
  close(opts: { force?: boolean } = {}): Promise<void> {
    this.#closing ??= (async () => {
      const handles = [...this.#handles];
      if (opts.force) await Promise.all(handles.map((h) => h.abort("the run pool is closing")));
      await Promise.all(handles.map((h) => h.result));
      this.#slot = null;
      await Promise.all(
        [...this.#slots].map((s) =>
          s.piscina.close({ force: opts.force ?? false }).catch(() => {}),
        ),
      );
      this.#slots.clear();
    })();
    return this.#closing;
  }

  #currentSlot(): PoolSlot {
    if (this.#slot) return this.#slot;
    const piscina = new Piscina({
      filename: this.#opts.filename,
      minThreads: 0,
      maxThreads: this.#maxThreads,
      idleTimeout: this.#opts.idleTimeoutMs,
      execArgv: this.#opts.execArgv,
    });
    piscina.on("error", (err: unknown) => this.#opts.onError(coerceError(err)));
    const slot: PoolSlot = { piscina, runs: 0, retired: false };
    this.#slots.add(slot);
    this.#slot = slot;
    return slot;
  }

  #release(slot: PoolSlot): void {
    if (!slot.retired || slot.runs > 0 || this.#closing) return;
    this.#slots.delete(slot);
    void slot.piscina.close().catch((err) => this.#opts.onError(coerceError(err)));
  }
}

function assertThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError("maxThreads must be a positive integer");
}
