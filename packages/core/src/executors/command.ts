import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ExecutorConfig } from "../protocol.ts";
import { runChild } from "./child.ts";
import type {
  ExecuteRequest,
  ExecuteResult,
  ExecutionHandle,
  Executor,
  ReviewRequest,
} from "./types.ts";

export const COMMAND_LABEL = "Agent command";

/** Output kept for the review / summary (the tail wins when it is longer). */
const MAX_OUTPUT = 1024 * 1024;

/**
 * Substitutes `{prompt}`, `{promptFile}` and `{cwd}` in each argv element. Arguments go to the
 * program directly (no shell), so a prompt cannot inject anything unless the server's own
 * template hands it to a shell.
 */
export function expandCommand(
  template: readonly string[],
  values: { prompt: string; promptFile: string; cwd: string },
): string[] {
  return template.map((part) =>
    part.replace(
      /\{(prompt|promptFile|cwd)\}/g,
      (_m, key: "prompt" | "promptFile" | "cwd") => values[key],
    ),
  );
}

/**
 * Runs any agent CLI configured on the server (`config.command`, never from an API caller).
 * Every stdout line becomes a log event, stderr lines become warnings, the exit code decides
 * success, and the whole stdout is the output (for a review: the JSON answer).
 */
export function createCommandExecutor(
  config: ExecutorConfig,
  opts: { env?: NodeJS.ProcessEnv; tempRoot?: string } = {},
): Executor {
  const template = config.command;
  if (!template || template.length === 0 || !template[0]) {
    throw new Error("the command executor needs a non-empty `command` argv template");
  }
  const env = { ...(opts.env ?? process.env), ...config.env };
  const tempRoot = opts.tempRoot ?? tmpdir();

  const start = (req: ExecuteRequest | ReviewRequest): ExecutionHandle => {
    const dir = mkdtempSync(join(tempRoot, "glm-cmd-"));
    const promptFile = join(dir, "prompt.md");
    writeFileSync(promptFile, req.prompt);
    const [file = "", ...args] = expandCommand(template, {
      prompt: req.prompt,
      promptFile,
      cwd: req.cwd,
    });
    let output = "";
    return runChild({
      file,
      args,
      cwd: req.cwd,
      env,
      timeoutMs: req.timeoutMs,
      onStdoutLine: (line) => {
        output = `${output}${line}\n`;
        if (output.length > MAX_OUTPUT) output = output.slice(-MAX_OUTPUT);
        req.onEvent({ type: "log", level: "info", line });
      },
      onStderrLine: (line) => req.onEvent({ type: "log", level: "warn", line }),
      settle: (exit): ExecuteResult => {
        const ok =
          exit.spawnError === null && !exit.timedOut && !exit.aborted && exit.exitCode === 0;
        let error: string | null = null;
        if (exit.spawnError) error = `could not start ${file}: ${exit.spawnError.message}`;
        else if (exit.timedOut) error = "the command timed out";
        else if (exit.aborted) error = `aborted: ${exit.abortReason ?? "aborted"}`;
        else if (!ok) {
          const how = exit.signal ? `signal ${exit.signal}` : `code ${exit.exitCode}`;
          const tail = exit.stderrTail.trim();
          error = `the command exited with ${how}${tail ? `: ${tail}` : ""}`;
        }
        return {
          ok,
          exitCode: exit.exitCode,
          signal: exit.signal,
          timedOut: exit.timedOut,
          aborted: exit.aborted,
          output,
          error,
        };
      },
      cleanup: () => rmSync(dir, { recursive: true, force: true }),
    });
  };

  return {
    kind: "command",
    label: COMMAND_LABEL,
    execute: (req) => start(req),
    review: (req) => start(req),
    close: async () => {},
  };
}
