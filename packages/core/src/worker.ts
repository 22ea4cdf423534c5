import type { MessagePort } from "node:worker_threads";
import { runSpec } from "./engine.ts";
import { coerceError } from "./errors.ts";
import type { ExecutorFactory } from "./executors/types.ts";
import {
  mainToThreadSchema,
  type RunResult,
  type RunSnapshotInput,
  type ThreadToMain,
  threadToMainSchema,
} from "./protocol.ts";
import { RunControl } from "./run-control.ts";

/** The Piscina task: one spec run, controlled over `port`. */
export interface RunTask {
  port: MessagePort;
  snapshot: RunSnapshotInput;
}

/**
 * Piscina worker entry. Every message in either direction is validated with the protocol's
 * zod schemas; the thread never touches the database. The port is closed when the run ends,
 * after the `done` message.
 */
export default createRunTask();

/** The task function of a worker entry; `createExecutor` defaults to the executor registry. */
export function createRunTask(createExecutor?: ExecutorFactory) {
  return (task: RunTask) => runTask(task, createExecutor);
}

async function runTask(
  { port, snapshot }: RunTask,
  createExecutor: ExecutorFactory | undefined,
): Promise<RunResult> {
  let open = true;
  const send = (msg: ThreadToMain) => {
    if (!open) return;
    const checked = threadToMainSchema.safeParse(msg);
    if (checked.success) port.postMessage(checked.data);
    else {
      port.postMessage({
        type: "error",
        message: `dropped an invalid ${msg.type} message: ${checked.error.message}`,
        at: Date.now(),
      } satisfies ThreadToMain);
    }
  };
  const reportError = (err: Error) =>
    send({
      type: "error",
      message: err.message,
      ...(err.stack ? { stack: err.stack } : {}),
      at: Date.now(),
    });
  const control = new RunControl({
    onPaused: () => send({ type: "paused", at: Date.now() }),
    onResumed: () => send({ type: "resumed", at: Date.now() }),
    onError: reportError,
  });
  const onMessage = (raw: unknown) => {
    const parsed = mainToThreadSchema.safeParse(raw);
    if (!parsed.success) {
      reportError(new Error(`invalid message from the main thread: ${parsed.error.message}`));
      return;
    }
    void control.apply(parsed.data);
  };
  port.on("message", onMessage);
  try {
    return await runSpec(snapshot, {
      control,
      send,
      ...(createExecutor ? { createExecutor } : {}),
    });
  } catch (err) {
    const error = coerceError(err);
    reportError(error);
    const result: RunResult = {
      outcome: "failed",
      error: error.message,
      progress: { current: 0, total: 0, passed: 0, failed: 0 },
    };
    send({ type: "done", ...result, at: Date.now() });
    return result;
  } finally {
    open = false;
    port.off("message", onMessage);
    port.close();
  }
}
