import { fileURLToPath } from "node:url";
import { z } from "zod";
import type { ExecutorConfig } from "../protocol.ts";
import { type ChildExit, runChild } from "./child.ts";
import type {
  ExecuteRequest,
  ExecuteResult,
  ExecutionHandle,
  Executor,
  ExecutorEvent,
  ReviewRequest,
} from "./types.ts";

/** `packages/core/agents/simulated-agent.mjs`, from both `src/executors` and `dist/executors`. */
export const SIMULATED_AGENT_PATH = fileURLToPath(
  new URL("../../agents/simulated-agent.mjs", import.meta.url),
);

export const SIMULATED_LABEL = "Simulated (no real agent)";

/** One JSON line printed by the simulated agent. */
const agentLineSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("log"),
    level: z.enum(["debug", "info", "warn", "error"]),
    line: z.string(),
  }),
  z.object({
    type: z.literal("tool"),
    name: z.string(),
    status: z.enum(["started", "completed", "failed"]),
    detail: z.string().optional(),
  }),
  z.object({ type: z.literal("tokens"), input: z.number(), output: z.number() }),
  z.object({ type: z.literal("result"), text: z.string() }),
  z.object({ type: z.literal("error"), message: z.string() }),
]);

function parseLine(line: string): z.infer<typeof agentLineSchema> | null {
  try {
    const parsed = agentLineSchema.safeParse(JSON.parse(line));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Builds a result from the exit state and what the agent reported. */
export function settleAgent(
  exit: ChildExit,
  text: string | null,
  error: string | null,
): ExecuteResult {
  const ok =
    exit.spawnError === null &&
    !exit.timedOut &&
    !exit.aborted &&
    exit.exitCode === 0 &&
    text !== null;
  let message: string | null = null;
  if (exit.spawnError) message = `could not start the agent: ${exit.spawnError.message}`;
  else if (exit.timedOut) message = "the agent timed out";
  else if (exit.aborted) message = `aborted: ${exit.abortReason ?? "aborted"}`;
  else if (exit.exitCode !== 0) {
    const how = exit.signal ? `signal ${exit.signal}` : `code ${exit.exitCode}`;
    message = `${error ?? (exit.stderrTail.trim() || "the agent failed")} (exit ${how})`;
  } else if (text === null) message = "the agent exited without a result";
  return {
    ok,
    exitCode: exit.exitCode,
    signal: exit.signal,
    timedOut: exit.timedOut,
    aborted: exit.aborted,
    output: text ?? "",
    error: ok ? null : message,
  };
}

/**
 * The embedded executor: runs `agents/simulated-agent.mjs` as a real child process. Honest
 * about what it is (see SIMULATED_LABEL); directives in a chunk's description
 * (`[simulate:fail]`, `[simulate:needs_fix]`, `[simulate:slow]`, …) drive every engine path.
 */
export function createSimulatedExecutor(
  config: ExecutorConfig,
  opts: { agentPath?: string; env?: NodeJS.ProcessEnv } = {},
): Executor {
  const agentPath = opts.agentPath ?? SIMULATED_AGENT_PATH;
  const env = { ...(opts.env ?? process.env), ...config.env };

  const start = (
    mode: "execute" | "review",
    req: ExecuteRequest | ReviewRequest,
  ): ExecutionHandle => {
    let text: string | null = null;
    let error: string | null = null;
    const onEvent = (event: ExecutorEvent) => {
      try {
        req.onEvent(event);
      } catch {
        // a listener error must not break the run
      }
    };
    const job = {
      mode,
      cwd: req.cwd,
      durationMs: config.simulatedChunkMs,
      chunk: { id: req.chunk.id, title: req.chunk.title, description: req.chunk.description },
    };
    return runChild({
      file: process.execPath,
      args: [agentPath],
      cwd: req.cwd,
      env,
      stdin: JSON.stringify(job),
      timeoutMs: req.timeoutMs,
      onStdoutLine: (line) => {
        const msg = parseLine(line);
        if (!msg) return onEvent({ type: "log", level: "info", line });
        if (msg.type === "result") text = msg.text;
        else if (msg.type === "error") error = msg.message;
        else onEvent(msg);
      },
      onStderrLine: (line) => onEvent({ type: "log", level: "warn", line }),
      settle: (exit) => settleAgent(exit, text, error),
    });
  };

  return {
    kind: "simulated",
    label: SIMULATED_LABEL,
    execute: (req) => start("execute", req),
    review: (req) => start("review", req),
    close: async () => {},
  };
}
