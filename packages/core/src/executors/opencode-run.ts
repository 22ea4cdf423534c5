import { coerceError } from "../errors.ts";
import type { ExecutorConfig } from "../protocol.ts";
import { type ChildExit, runChild } from "./child.ts";
import { resolveOpencodeBin } from "./opencode-bin.ts";
import { buildOpencodeEnv, DEFAULT_OPENCODE_MODEL, lazyOpencodeHome } from "./opencode-env.ts";
import { createOpencodeParser, type OpencodeStreamParser } from "./opencode-events.ts";
import type {
  ExecuteRequest,
  ExecuteResult,
  ExecutionHandle,
  Executor,
  ExecutorEvent,
  ReviewRequest,
} from "./types.ts";
import { failedHandle } from "./types.ts";

/**
 * The earlier way to drive the real agent: one `opencode run --format json` process per prompt
 * (chunk or review), each a fresh conversation that pays opencode's start-up again. The product
 * uses one `opencode serve` per run (`opencode.ts`); this stays only so the benchmark can
 * measure both in the same run. It is not selectable through the environment or the API.
 *
 * The prompt goes in on stdin (no argv size limit, not visible in `ps`).
 */

export interface OpencodeRunExecutorOptions {
  /** Environment the passthrough variables (PATH, LANG, proxies…) are taken from. */
  inheritedEnv?: NodeJS.ProcessEnv;
}

function stripAnsi(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences
  return s.replace(/\u001b\[[0-9;]*m/g, "");
}

/** The last lines of stderr that are not opencode's own INFO/DEBUG log lines. */
function stderrSummary(tail: string): string {
  const lines = stripAnsi(tail)
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !/\blevel=(INFO|DEBUG)\b/.test(l));
  return lines.slice(-3).join(" | ").slice(0, 500);
}

function settle(
  exit: ChildExit,
  parser: OpencodeStreamParser,
  ctx: { bin: string; timeoutMs: number },
): ExecuteResult {
  const output = parser.output();
  const base = {
    exitCode: exit.exitCode,
    signal: exit.signal,
    timedOut: exit.timedOut,
    aborted: exit.aborted,
    output,
  };
  let error: string | null = null;
  if (exit.spawnError) error = `could not start opencode (${ctx.bin}): ${exit.spawnError.message}`;
  else if (exit.aborted) error = `aborted: ${exit.abortReason ?? "aborted"}`;
  else if (exit.timedOut) error = `opencode timed out after ${ctx.timeoutMs} ms and was stopped`;
  else if (parser.error()) error = `opencode reported an error: ${parser.error()}`;
  else if (exit.exitCode !== 0) {
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.exitCode}`;
    const why = parser.stderrError() ?? stderrSummary(exit.stderrTail);
    error = `opencode ${how}${why ? `: ${why}` : ""}`;
  }
  return { ...base, ok: error === null, error };
}

export function createOpencodeRunExecutor(
  config: ExecutorConfig,
  options: OpencodeRunExecutorOptions = {},
): Executor {
  const model = config.model ?? DEFAULT_OPENCODE_MODEL;
  const inherited = options.inheritedEnv ?? process.env;
  const handles = new Set<ExecutionHandle>();
  let closed = false;
  let closing: Promise<void> | null = null;

  const home = lazyOpencodeHome(config);

  const start = (
    req: { cwd: string; prompt: string; timeoutMs: number; onEvent: (e: ExecutorEvent) => void },
    title: string,
  ): ExecutionHandle => {
    if (closed) return failedHandle("the opencode executor is closed");
    let bin: string;
    let env: NodeJS.ProcessEnv;
    try {
      bin = resolveOpencodeBin(config.opencodeBin);
      env = buildOpencodeEnv(config, home.dirs(), inherited);
    } catch (err) {
      return failedHandle(coerceError(err).message);
    }
    const emit = (e: ExecutorEvent) => {
      try {
        req.onEvent(e);
      } catch {
        // a throwing listener must not break the stream
      }
    };
    const parser = createOpencodeParser(emit);
    emit({ type: "log", level: "info", line: `starting opencode (${model}) in ${req.cwd}` });
    const args = [
      "run",
      "--format",
      "json",
      "--print-logs",
      "--log-level",
      "INFO",
      "--model",
      model,
      "--title",
      title.slice(0, 100) || "glm-workers",
    ];
    const handle = runChild({
      file: bin,
      args,
      cwd: req.cwd,
      env,
      stdin: req.prompt,
      timeoutMs: req.timeoutMs,
      onStdoutLine: (line) => parser.stdout(line),
      onStderrLine: (line) => parser.stderr(line),
      settle: (exit) => settle(exit, parser, { bin, timeoutMs: req.timeoutMs }),
    });
    handles.add(handle);
    void handle.result.finally(() => handles.delete(handle));
    return handle;
  };

  return {
    kind: "opencode",
    label: "opencode run (one process per prompt)",
    execute(req: ExecuteRequest) {
      return start(req, req.chunk.title);
    },
    review(req: ReviewRequest) {
      return start(req, `Review: ${req.chunk.title}`);
    },
    close() {
      closed = true;
      closing ??= (async () => {
        await Promise.all([...handles].map((h) => h.abort("executor closed")));
        home.dispose();
      })();
      return closing;
    },
  };
}
