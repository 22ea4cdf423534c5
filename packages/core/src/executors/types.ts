import type { ChunkSnapshot, ExecutorConfig, ExecutorKind } from "../protocol.ts";

/** Events an executor streams while it works. */
export type ExecutorEvent =
  | { type: "log"; level: "debug" | "info" | "warn" | "error"; line: string }
  | { type: "tool"; name: string; status: "started" | "completed" | "failed"; detail?: string }
  | { type: "tokens"; input: number; output: number }
  /** What the step is doing right now beyond its name (`retrying in 8 s: …`); null clears it. */
  | { type: "state"; text: string | null }
  /** The root of the agent's process tree became known after the step started. */
  | { type: "process"; pid: number };

export interface ExecuteRequest {
  /** Working directory (worktree or project directory). */
  cwd: string;
  /** Full, self-contained prompt for the agent. */
  prompt: string;
  /**
   * The same task for an agent that keeps the run's conversation (it has seen the spec and the
   * earlier chunks): shorter, refers back. Executors without a conversation use `prompt`.
   */
  continuation?: string;
  /** The chunk being worked on (the simulated executor reads its directives). */
  chunk: ChunkSnapshot;
  /** Hard limit; the executor kills its tree and reports `timedOut` when exceeded. */
  timeoutMs: number;
  onEvent: (event: ExecutorEvent) => void;
}

export interface ExecuteResult {
  ok: boolean;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  aborted: boolean;
  /** Final assistant text (for the review and the chunk's output summary). */
  output: string;
  error: string | null;
}

/** One running agent invocation. */
export interface ExecutionHandle {
  /** Root pid of the agent's process tree, when there is one. */
  readonly pid: number | undefined;
  readonly result: Promise<ExecuteResult>;
  /** Suspend every process of the tree; resolves when all are stopped. */
  pause(): Promise<void>;
  /** Continue every process of the tree. */
  resume(): Promise<void>;
  /** End the whole tree (SIGTERM, then SIGKILL); resolves when no process is left. */
  abort(reason: string): Promise<void>;
}

export interface ReviewRequest {
  cwd: string;
  prompt: string;
  chunk: ChunkSnapshot;
  timeoutMs: number;
  onEvent: (event: ExecutorEvent) => void;
}

export interface Executor {
  /** `instant`: the benchmarks' executor (never configurable, see instant.ts). */
  readonly kind: ExecutorKind | "instant";
  /** Human label, e.g. "Simulated (no real agent)". */
  readonly label: string;
  execute(req: ExecuteRequest): ExecutionHandle;
  /** The review runs through the same executor; its `output` must hold the JSON answer. */
  review(req: ReviewRequest): ExecutionHandle;
  /** Release long-lived resources (e.g. an `opencode serve` process). Idempotent. */
  close(): Promise<void>;
}

export type ExecutorFactory = (config: ExecutorConfig) => Executor;

/** A handle of a step that never started: it has already ended with `message`. */
export function failedHandle(message: string): ExecutionHandle {
  const noop = async () => {};
  return {
    pid: undefined,
    result: Promise.resolve({
      ok: false,
      exitCode: null,
      signal: null,
      timedOut: false,
      aborted: false,
      output: "",
      error: message,
    }),
    pause: noop,
    resume: noop,
    abort: noop,
  };
}
