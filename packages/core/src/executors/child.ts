import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { coerceError } from "../errors.ts";
import { descendants, killTree, resumeTree, suspendTreeSettled } from "../process-tree.ts";
import type { ExecuteResult, ExecutionHandle } from "./types.ts";

/** How a child process ended, handed to the executor to build its result. */
export interface ChildExit {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  aborted: boolean;
  abortReason: string | null;
  /** The process could not be started at all (e.g. ENOENT). */
  spawnError: Error | null;
  /** Last lines of stderr (at most ~4 KB). */
  stderrTail: string;
}

export interface ChildRunOptions {
  file: string;
  args: readonly string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Written to stdin, which is then closed. */
  stdin?: string;
  /** Active (unpaused) time allowed before the tree is killed and `timedOut` reported. */
  timeoutMs: number;
  onStdoutLine: (line: string) => void;
  onStderrLine?: (line: string) => void;
  /** Builds the result once the process has exited and its output is read. */
  settle: (exit: ChildExit) => ExecuteResult;
  /** Runs after the result is built (temp files etc.). */
  cleanup?: () => void;
}

const STDERR_TAIL = 4096;
/** How long to wait for stdout/stderr to close after the process exited (a detached
 * grandchild may hold the pipe open). */
const CLOSE_GRACE_MS = 300;
/** After the tree is stopped, let already-written output reach us before acknowledging. */
const DRAIN_MS = 15;

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Runs one agent process and exposes it as an ExecutionHandle: line-split output, an active
 * time budget that stops counting while paused, and pause/resume/abort over the whole
 * process tree (found through /proc, so tools started in new sessions are included).
 */
export function runChild(opts: ChildRunOptions): ExecutionHandle {
  let child: ChildProcess;
  let spawnError: Error | null = null;
  try {
    child = spawn(opts.file, [...opts.args], {
      cwd: opts.cwd,
      env: opts.env,
      stdio: ["pipe", "pipe", "pipe"],
    });
  } catch (err) {
    spawnError = coerceError(err);
    const result = Promise.resolve(
      opts.settle({
        exitCode: null,
        signal: null,
        timedOut: false,
        aborted: false,
        abortReason: null,
        spawnError,
        stderrTail: "",
      }),
    );
    opts.cleanup?.();
    const noop = async () => {};
    return { pid: undefined, result, pause: noop, resume: noop, abort: noop };
  }

  const pid = child.pid;
  let exited = false;
  let paused = false;
  let timedOut = false;
  let aborted = false;
  let abortReason: string | null = null;
  let stderrTail = "";
  let stopped: number[] = [];
  /** Every pid seen in the tree, so re-parented processes can still be ended. */
  const seen = new Set<number>();
  let remaining = opts.timeoutMs;
  let activeSince = Date.now();
  let timer: NodeJS.Timeout | null = null;

  const remember = () => {
    if (pid === undefined || exited) return;
    for (const p of descendants(pid)) seen.add(p);
  };

  const killAll = async () => {
    if (pid === undefined) return;
    const extra = [...seen, ...stopped];
    await killTree(pid, { extra });
  };

  const armTimer = () => {
    if (exited || timer) return;
    activeSince = Date.now();
    timer = setTimeout(
      () => {
        timer = null;
        timedOut = true;
        remember();
        void killAll();
      },
      Math.max(0, remaining),
    );
  };
  const disarmTimer = () => {
    if (!timer) return;
    clearTimeout(timer);
    timer = null;
    remaining -= Date.now() - activeSince;
  };

  const result = new Promise<ExecuteResult>((resolve) => {
    let settled = false;
    let exitCode: number | null = null;
    let exitSignal: string | null = null;
    let closeTimer: NodeJS.Timeout | null = null;
    const finish = () => {
      if (settled) return;
      settled = true;
      if (closeTimer) clearTimeout(closeTimer);
      disarmTimer();
      child.stdout?.destroy();
      child.stderr?.destroy();
      let res: ExecuteResult;
      try {
        res = opts.settle({
          exitCode,
          signal: exitSignal,
          timedOut,
          aborted,
          abortReason,
          spawnError,
          stderrTail,
        });
      } catch (err) {
        const message = coerceError(err).message;
        res = {
          ok: false,
          exitCode,
          signal: exitSignal,
          timedOut,
          aborted,
          output: "",
          error: message,
        };
      }
      try {
        opts.cleanup?.();
      } catch {
        // best effort
      }
      resolve(res);
    };
    child.on("error", (err) => {
      spawnError = coerceError(err);
      exited = true;
      finish();
    });
    child.on("exit", (code, signal) => {
      exited = true;
      exitCode = code;
      exitSignal = signal;
      disarmTimer();
      closeTimer = setTimeout(finish, CLOSE_GRACE_MS);
    });
    child.on("close", () => {
      exited = true;
      finish();
    });
  });

  if (child.stdout) {
    createInterface({ input: child.stdout, crlfDelay: Number.POSITIVE_INFINITY }).on(
      "line",
      (line) => {
        if (line.length > 0) opts.onStdoutLine(line);
      },
    );
  }
  if (child.stderr) {
    createInterface({ input: child.stderr, crlfDelay: Number.POSITIVE_INFINITY }).on(
      "line",
      (line) => {
        stderrTail = `${stderrTail}${line}\n`.slice(-STDERR_TAIL);
        if (line.length > 0) opts.onStderrLine?.(line);
      },
    );
  }
  child.stdin?.on("error", () => {}); // the agent may exit before reading its input
  child.stdin?.end(opts.stdin ?? "");
  armTimer();

  return {
    pid,
    result,
    async pause() {
      if (paused || exited || aborted || pid === undefined) return;
      paused = true;
      disarmTimer();
      stopped = await suspendTreeSettled(pid);
      for (const p of stopped) seen.add(p);
      await delay(DRAIN_MS);
    },
    async resume() {
      if (!paused) return;
      paused = false;
      if (pid !== undefined && !exited) resumeTree(pid, stopped);
      stopped = [];
      if (!aborted) armTimer();
    },
    async abort(reason: string) {
      if (!aborted) {
        aborted = true;
        abortReason = reason;
        disarmTimer();
        if (!exited) {
          remember();
          await killAll();
        }
      }
      await result;
    },
  };
}
