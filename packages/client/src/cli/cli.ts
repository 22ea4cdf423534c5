import { createGlmWorkersClient } from "../index.ts";
import { helpText, type ParsedArgs, parseCommandLine, shortUsage } from "./args.ts";
import { COMMAND_HANDLERS } from "./commands.ts";
import { EXIT, toCliError, UsageError } from "./errors.ts";
import { type Io, painter } from "./output.ts";

/**
 * The `glm-workers` command line: parses argv, runs the command against the server and
 * answers the exit code. Every failure is one `glm-workers: <message>` line on stderr (a merge
 * conflict adds the files, one per line); usage errors add a short usage line and exit 2.
 */
export async function runCli(argv: readonly string[], io: Io): Promise<number> {
  const paintErr = painter(io.stderrIsTTY, io.env);
  const fail = (message: string, details: readonly string[] = []) => {
    io.err(`${paintErr("red", "glm-workers:")} ${message}\n`);
    for (const line of details) io.err(`${line}\n`);
  };

  let args: ParsedArgs;
  try {
    args = parseCommandLine(argv, io.env);
  } catch (err) {
    if (err instanceof UsageError) {
      fail(err.message);
      io.err(`${shortUsage(err.command)}\n`);
      return EXIT.usage;
    }
    throw err;
  }
  if (args.help || args.command === null) {
    io.out(`${helpText(args.command)}\n`);
    return EXIT.ok;
  }

  const client = createGlmWorkersClient({
    url: args.url,
    ...(args.token ? { token: args.token } : {}),
  });
  const ctx = { io, args, client, paint: painter(io.stdoutIsTTY, io.env), paintErr };
  try {
    return await COMMAND_HANDLERS[args.command](ctx);
  } catch (err) {
    const failure = toCliError(err, args.url);
    fail(failure.message, failure.details);
    return failure.exitCode;
  }
}
