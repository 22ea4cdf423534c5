import { parseArgs } from "node:util";
import { UsageError } from "./errors.ts";

/** The command line: the command, its positional arguments and the options given. */

export const DEFAULT_URL = "http://127.0.0.1:4317";

const OPTIONS = {
  json: { type: "boolean" },
  url: { type: "string" },
  token: { type: "string" },
  help: { type: "boolean", short: "h" },
  yes: { type: "boolean", short: "y" },
  priority: { type: "string" },
  project: { type: "string" },
  patch: { type: "boolean" },
  chunk: { type: "string" },
  strategy: { type: "string" },
  message: { type: "string", short: "m" },
  "keep-branch": { type: "boolean" },
} as const;

type OptionName = keyof typeof OPTIONS;
const GLOBAL: readonly OptionName[] = ["json", "url", "token", "help"];

interface CommandSyntax {
  /** Positional argument names (all required). */
  args: readonly string[];
  /** Options besides the global ones. */
  options: readonly OptionName[];
  summary: string;
  /** Option hints after the summary in the help. */
  hint?: string;
}

export const COMMANDS = {
  status: { args: [], options: [], summary: "workers, slots and the queue's length" },
  queue: { args: [], options: [], summary: "the waiting specs: position, priority, why" },
  start: {
    args: ["specId"],
    options: ["priority"],
    summary: "start a spec now, or queue it",
    hint: "[--priority N]",
  },
  pause: { args: ["workerId"], options: [], summary: "pause a run" },
  resume: { args: ["workerId"], options: [], summary: "resume a paused run" },
  stop: { args: ["workerId"], options: [], summary: "stop a run" },
  "pause-all": { args: [], options: [], summary: "pause every running run" },
  "stop-all": {
    args: [],
    options: ["yes"],
    summary: "stop every run and hold the queue (asks first)",
    hint: "[--yes]",
  },
  "resume-queue": {
    args: [],
    options: [],
    summary: "let the queue start runs again (after stop-all or a hold)",
  },
  tail: {
    args: ["workerId"],
    options: [],
    summary: "follow a run's log until it ends (exit 0 completed, 1 failed, 2 stopped)",
  },
  run: {
    args: ["spec.md"],
    options: ["project", "priority"],
    summary: "create or update the spec from markdown, start it and tail it",
    hint: "[--project DIR] [--priority N]",
  },
  diff: {
    args: ["workerId"],
    options: ["patch", "chunk"],
    summary: "the files a run changed (--patch: the patches)",
    hint: "[--patch] [--chunk ID]",
  },
  merge: {
    args: ["workerId"],
    options: ["strategy", "message", "keep-branch"],
    summary: "merge a finished run into the branch it started from",
    hint: "[--strategy squash|merge|rebase] [-m TEXT] [--keep-branch]",
  },
  discard: {
    args: ["workerId"],
    options: ["yes"],
    summary: "throw a finished run's work away (asks first)",
    hint: "[--yes]",
  },
  retry: {
    args: ["workerId"],
    options: ["priority"],
    summary: "run a failed or stopped run again from its first unfinished chunk",
    hint: "[--priority N]",
  },
} as const satisfies Record<string, CommandSyntax>;

export type CommandName = keyof typeof COMMANDS;

export interface ParsedArgs {
  command: CommandName | null;
  args: string[];
  help: boolean;
  json: boolean;
  yes: boolean;
  url: string;
  token: string | undefined;
  priority: number | undefined;
  project: string | undefined;
  patch: boolean;
  chunk: string | undefined;
  strategy: "squash" | "merge" | "rebase" | undefined;
  message: string | undefined;
  keepBranch: boolean;
}

export const USAGE_LINE = "usage: glm-workers <command> [args] [--json] [--url URL] [--token T]";

function isCommand(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}

function usageOf(name: CommandName): string {
  const syntax: CommandSyntax = COMMANDS[name];
  const args = syntax.args.map((a) => `<${a}>`).join(" ");
  return ["glm-workers", name, args, syntax.hint ?? ""].filter(Boolean).join(" ");
}

/** The short line after a usage error: the command's syntax, or the general one. */
export function shortUsage(command: string | null): string {
  if (command && isCommand(command)) return `usage: ${usageOf(command)} [--json]`;
  return `${USAGE_LINE}\n(glm-workers --help lists the commands)`;
}

export function helpText(command: CommandName | null): string {
  if (command) {
    const syntax: CommandSyntax = COMMANDS[command];
    return [
      `usage: ${usageOf(command)} [--json] [--url URL] [--token T]`,
      "",
      `  ${syntax.summary}`,
      "",
      "See glm-workers --help for the options every command takes.",
    ].join("\n");
  }
  const names = Object.keys(COMMANDS) as CommandName[];
  const left = names.map((n) => {
    const syntax: CommandSyntax = COMMANDS[n];
    return [n, ...syntax.args.map((a) => `<${a}>`)].join(" ");
  });
  const width = Math.max(...left.map((l) => l.length));
  const rows = names.map((n, i) => {
    const syntax: CommandSyntax = COMMANDS[n];
    const hint = syntax.hint ? `  ${syntax.hint}` : "";
    return `  ${(left[i] ?? "").padEnd(width)}  ${syntax.summary}${hint}`;
  });
  return [
    "glm-workers: control a glm-workers server from the terminal",
    "",
    "usage: glm-workers <command> [args] [options]",
    "",
    "commands:",
    ...rows,
    "",
    "options:",
    "  --json         machine-readable output: one JSON document (tail and run: one event per line)",
    `  --url URL      the server (env GLM_WORKERS_URL; default ${DEFAULT_URL})`,
    "  --token T      the server's AUTH_TOKEN (env GLM_WORKERS_TOKEN)",
    "  -y, --yes      do not ask before stop-all or discard",
    "  -h, --help     this help (glm-workers <command> --help: that command's)",
    "",
    "Worker ids may be shortened to any unique prefix (status shows the first 8 characters).",
    "exit codes: 0 ok, 1 error (one line on stderr), 2 usage error;",
    "tail and run: 0 when the run completed, 1 when it failed, 2 when it was stopped.",
  ].join("\n");
}

function integer(name: string, value: string | undefined, command: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[+-]?\d+$/.test(value.trim())) {
    throw new UsageError(`--${name} must be an integer, got ${JSON.stringify(value)}`, command);
  }
  return Number(value);
}

/** Parses argv (without node and the script); throws UsageError for anything it does not know. */
export function parseCommandLine(
  argv: readonly string[],
  env: Record<string, string | undefined>,
): ParsedArgs {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  const first = argv.find((a) => !a.startsWith("-")) ?? null;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    const message = ((err as Error).message.split("\n")[0] ?? "bad arguments")
      .replace(/\. To specify a positional argument.*$/, "")
      .replace(/^[A-Z]/, (c) => c.toLowerCase());
    throw new UsageError(message, first && isCommand(first) ? first : null);
  }
  const { values, positionals } = parsed;
  const [name, ...args] = positionals;
  const help = values.help === true;
  if (name === undefined) {
    if (help) return emptyArgs(null, [], values, env);
    throw new UsageError("no command given");
  }
  if (!isCommand(name)) throw new UsageError(`unknown command ${JSON.stringify(name)}`);
  const syntax: CommandSyntax = COMMANDS[name];
  for (const option of Object.keys(values) as OptionName[]) {
    if (!GLOBAL.includes(option) && !syntax.options.includes(option)) {
      throw new UsageError(`${name} does not take --${option}`, name);
    }
  }
  if (!help) {
    if (args.length < syntax.args.length) {
      throw new UsageError(`${name} needs <${syntax.args[args.length]}>`, name);
    }
    if (args.length > syntax.args.length) {
      throw new UsageError(`${name}: unexpected argument ${JSON.stringify(args.at(-1))}`, name);
    }
  }
  return emptyArgs(name, args, values, env);
}

function emptyArgs(
  command: CommandName | null,
  args: string[],
  values: Partial<Record<OptionName, string | boolean>>,
  env: Record<string, string | undefined>,
): ParsedArgs {
  const str = (k: OptionName) =>
    typeof values[k] === "string" ? (values[k] as string) : undefined;
  const where = command ?? "";
  const strategy = str("strategy");
  if (strategy !== undefined && !["squash", "merge", "rebase"].includes(strategy)) {
    throw new UsageError(
      `--strategy must be squash, merge or rebase, got ${JSON.stringify(strategy)}`,
      where,
    );
  }
  const url = str("url") || env.GLM_WORKERS_URL || DEFAULT_URL;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new Error("protocol");
  } catch {
    throw new UsageError(`not an http(s) URL: ${JSON.stringify(url)}`, where);
  }
  return {
    command,
    args,
    help: values.help === true,
    json: values.json === true,
    yes: values.yes === true,
    url,
    token: str("token") || env.GLM_WORKERS_TOKEN || undefined,
    priority: integer("priority", str("priority"), where),
    project: str("project"),
    patch: values.patch === true,
    chunk: str("chunk"),
    strategy: strategy as ParsedArgs["strategy"],
    message: str("message"),
    keepBranch: values["keep-branch"] === true,
  };
}
