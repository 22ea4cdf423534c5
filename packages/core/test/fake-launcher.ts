import type { RunHandleLike, RunLauncher } from "../src/orchestrator/orchestrator.ts";
import type { RunResult, RunSnapshot, ThreadToMain } from "../src/protocol.ts";

/** One run the fake launcher started: the test plays its thread. */
export interface FakeRun {
  snapshot: RunSnapshot;
  /** Sends a message as the thread would. */
  say(msg: ThreadToMain): void;
  /** Ends the run with this result (as the thread's task resolving). */
  end(result: Partial<RunResult> & Pick<RunResult, "outcome">): void;
  readonly paused: boolean;
  readonly aborted: string | null;
}

/**
 * A RunLauncher without threads or agents, for fast tests of scheduling, admission and the
 * queue: every start is recorded; pause/resume acknowledge at once (like a thread would);
 * abort ends the run as `aborted` unless `abortThrows` is set.
 */
export class FakeLauncher implements RunLauncher {
  readonly runs: FakeRun[] = [];
  closed = false;
  abortThrows = false;
  closeThrows = false;

  start(
    snapshot: RunSnapshot,
    handlers: { onMessage: (msg: ThreadToMain) => void },
  ): RunHandleLike {
    let resolve: (r: RunResult) => void = () => {};
    const result = new Promise<RunResult>((r) => {
      resolve = r;
    });
    const total = snapshot.chunks.length;
    const state = { paused: false, aborted: null as string | null, done: false };
    const end = (r: Partial<RunResult> & Pick<RunResult, "outcome">) => {
      if (state.done) return;
      state.done = true;
      resolve({
        error: null,
        progress: {
          current: total,
          total,
          passed: r.outcome === "completed" ? total : 0,
          failed: 0,
        },
        ...r,
      });
    };
    const run: FakeRun = {
      snapshot,
      say: (msg) => handlers.onMessage(msg),
      end,
      get paused() {
        return state.paused;
      },
      get aborted() {
        return state.aborted;
      },
    };
    this.runs.push(run);
    handlers.onMessage({ type: "ready", at: Date.now() });
    if (snapshot.options.startPaused) state.paused = true;
    return {
      result,
      pause: () => {
        state.paused = true;
        handlers.onMessage({ type: "paused", at: Date.now() });
      },
      resume: () => {
        state.paused = false;
        handlers.onMessage({ type: "resumed", at: Date.now() });
      },
      abort: (reason) => {
        if (this.abortThrows) throw new Error("the thread did not take the abort");
        state.aborted = reason;
        end({ outcome: "aborted", error: reason });
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.closeThrows) throw new Error("pool close failed");
  }

  /** The run of a spec (the latest start of it). */
  runOf(specId: string): FakeRun | undefined {
    return this.runs.filter((r) => r.snapshot.spec.id === specId).at(-1);
  }
}
