import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ExecuteResult, ExecutionHandle, Executor } from "./types.ts";

export const INSTANT_LABEL = "Instant (benchmarks only: no agent, no process)";

/** The file the instant executor rewrites, so the engine sees the working tree change. */
export const INSTANT_MARKER = ".glm-workers-bench";

/**
 * The benchmarks' executor: each step finishes at once in the worker thread without starting a
 * process; execute rewrites one marker file (a run must change the tree) and review passes.
 * Only the bench worker entry (`bench-worker.ts`) uses it: no configuration, environment
 * variable or API can select it.
 */
export function createInstantExecutor(): Executor {
  const done = (output: string): ExecutionHandle => ({
    pid: undefined,
    result: Promise.resolve<ExecuteResult>({
      ok: true,
      exitCode: 0,
      signal: null,
      timedOut: false,
      aborted: false,
      output,
      error: null,
    }),
    pause: async () => {},
    resume: async () => {},
    abort: async () => {},
  });
  return {
    kind: "instant",
    label: INSTANT_LABEL,
    execute(req) {
      const handle = done("done");
      return {
        ...handle,
        result: writeFile(join(req.cwd, INSTANT_MARKER), req.chunk.id).then(() => handle.result),
      };
    },
    review: () => done('{"status":"pass","feedback":"instant review"}'),
    close: async () => {},
  };
}
