import { coerceError } from "./errors.ts";
import type { ExecutionHandle } from "./executors/types.ts";
import type { MainToThread } from "./protocol.ts";

export type RunControlState = "running" | "paused" | "aborted";

/** Thrown by `checkpoint()` once the run was aborted. */
export class RunAbortedError extends Error {
  constructor(readonly reason: string) {
    super(`run aborted: ${reason}`);
    this.name = "RunAbortedError";
  }
}

export interface RunControlHooks {
  /** Sent once the current process tree is stopped (or at once when nothing runs). */
  onPaused?: () => void;
  onResumed?: () => void;
  onError?: (err: Error) => void;
}

/**
 * Pause/resume/abort state of one run. Pause suspends the attached execution and holds the
 * engine at its next checkpoint; it never resumes by itself. Pause and resume are applied in
 * order (a resume waits for a pause still stopping the tree); abort acts at once.
 */
export class RunControl {
  #state: RunControlState = "running";
  #reason: string | null = null;
  #handle: ExecutionHandle | null = null;
  #handlePaused = false;
  #ops: Promise<void> = Promise.resolve();
  readonly #waiters = new Set<() => void>();
  readonly #abort = new AbortController();
  readonly #hooks: RunControlHooks;

  constructor(hooks: RunControlHooks = {}) {
    this.#hooks = hooks;
  }

  get state(): RunControlState {
    return this.#state;
  }
  get aborted(): boolean {
    return this.#state === "aborted";
  }
  get abortReason(): string | null {
    return this.#reason;
  }
  /** Aborts when the run is aborted (for git calls and other awaits). */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Applies a validated message from the main thread. */
  apply(msg: MainToThread): Promise<void> {
    switch (msg.type) {
      case "pause":
        return this.pause();
      case "resume":
        return this.resume();
      case "abort":
        return this.abort(msg.reason);
    }
  }

  pause(): Promise<void> {
    return this.#enqueue(async () => {
      if (this.#state === "aborted") return;
      if (this.#state === "running") {
        this.#state = "paused";
        const handle = this.#handle;
        if (handle && !this.#handlePaused) {
          this.#handlePaused = true;
          await handle.pause();
        }
      }
      if (this.#state === "paused") this.#hooks.onPaused?.();
    });
  }

  resume(): Promise<void> {
    return this.#enqueue(async () => {
      if (this.#state === "aborted") return;
      if (this.#state === "paused") {
        const handle = this.#handle;
        if (handle && this.#handlePaused) await handle.resume();
        this.#handlePaused = false;
        this.#state = "running";
        this.#wake();
      }
      this.#hooks.onResumed?.();
    });
  }

  async abort(reason = "aborted"): Promise<void> {
    if (this.#state !== "aborted") {
      this.#state = "aborted";
      this.#reason = reason;
      this.#abort.abort(new RunAbortedError(reason));
      this.#wake();
    }
    const handle = this.#handle;
    if (handle) await handle.abort(reason).catch((err) => this.#hooks.onError?.(coerceError(err)));
  }

  /** Resolves while running; waits while paused; throws RunAbortedError once aborted. */
  async checkpoint(): Promise<void> {
    while (this.#state === "paused") {
      await new Promise<void>((resolve) => this.#waiters.add(resolve));
    }
    if (this.#state === "aborted") throw new RunAbortedError(this.#reason ?? "aborted");
  }

  /** Makes `handle` the execution that pause/abort act on; applies the current state to it. */
  async attach(handle: ExecutionHandle): Promise<void> {
    this.#handle = handle;
    this.#handlePaused = false;
    if (this.#state === "aborted") {
      await handle.abort(this.#reason ?? "aborted");
      return;
    }
    await this.#enqueue(async () => {
      if (this.#handle === handle && this.#state === "paused" && !this.#handlePaused) {
        this.#handlePaused = true;
        await handle.pause();
      }
    });
  }

  detach(handle: ExecutionHandle): void {
    if (this.#handle === handle) {
      this.#handle = null;
      this.#handlePaused = false;
    }
  }

  #enqueue(op: () => Promise<void>): Promise<void> {
    const next = this.#ops.then(op).catch((err) => this.#hooks.onError?.(coerceError(err)));
    this.#ops = next;
    return next;
  }

  #wake(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const resolve of waiters) resolve();
  }
}
