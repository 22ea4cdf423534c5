import { TRPCClientError } from "../index.ts";

/** Exit codes of every command (`tail` and `run` also answer with the run's outcome). */
export const EXIT = {
  ok: 0,
  error: 1,
  usage: 2,
  /** `tail`/`run`: the run completed, failed, was stopped. */
  completed: 0,
  failed: 1,
  stopped: 2,
  interrupted: 130,
} as const;

/** An error the CLI reports as `glm-workers: <message>` (plus `details`, one per line) on stderr. */
export class CliError extends Error {
  readonly exitCode: number;
  readonly details: readonly string[];
  constructor(message: string, opts: { exitCode?: number; details?: readonly string[] } = {}) {
    super(message);
    this.name = "CliError";
    this.exitCode = opts.exitCode ?? EXIT.error;
    this.details = opts.details ?? [];
  }
}

/** A bad command line: reported with a short usage line, exit 2. */
export class UsageError extends CliError {
  readonly command: string | null;
  constructor(message: string, command: string | null = null) {
    super(message, { exitCode: EXIT.usage });
    this.name = "UsageError";
    this.command = command;
  }
}

interface ErrorData {
  code?: string;
  httpStatus?: number;
  reason?: string | null;
  files?: string[] | null;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, "; ").trim();
}

/**
 * Why a fetch failed, from the innermost `cause`: `connect ECONNREFUSED 127.0.0.1:4317`,
 * `getaddrinfo ENOTFOUND …`; null when the error is not a failed fetch.
 */
function networkCause(err: unknown): string | null {
  let current: unknown = err;
  let failedFetch = false;
  let deepest: string | null = null;
  for (let depth = 0; depth < 8 && current; depth++) {
    if (current instanceof AggregateError && current.errors.length > 0) {
      if (failedFetch && current.message) deepest = current.message;
      current = current.errors[0];
      continue;
    }
    if (!(current instanceof Error)) break;
    const code = (current as { code?: unknown }).code;
    const networkCode = typeof code === "string" && /^(E[A-Z]+|UND_ERR\w*)$/.test(code);
    if (current instanceof TypeError && current.message === "fetch failed") failedFetch = true;
    else if (failedFetch || networkCode) {
      failedFetch = true;
      deepest = current.message || (typeof code === "string" ? code : deepest);
    }
    current = current.cause;
  }
  return failedFetch ? (deepest ?? "fetch failed") : null;
}

/** The HTTP status of a tRPC answer that was not a tRPC error (a proxy, the auth guard…). */
function httpStatusOf(err: TRPCClientError<never>): number | null {
  const meta = err.meta as { response?: { status?: unknown } } | undefined;
  const status = meta?.response?.status;
  return typeof status === "number" ? status : null;
}

/**
 * Turns anything a command threw into the CliError to print: the server's own message for
 * tRPC errors (with the files it names), "cannot reach the glm-workers server at <url>: …"
 * when nothing answered.
 */
export function toCliError(err: unknown, url: string): CliError {
  if (err instanceof CliError) return err;
  if (err instanceof TRPCClientError) {
    const data = (err.data ?? undefined) as ErrorData | undefined;
    if (!data?.code) {
      const cause = networkCause(err);
      if (cause) return new CliError(`cannot reach the glm-workers server at ${url}: ${cause}`);
      const status = httpStatusOf(err);
      if (status === 401) {
        return new CliError(
          `the server at ${url} wants a token: pass --token or set GLM_WORKERS_TOKEN`,
        );
      }
      if (status !== null) {
        return new CliError(
          `unexpected answer from ${url} (HTTP ${status}): is it a glm-workers server?`,
        );
      }
    }
    if (data?.code === "UNAUTHORIZED") {
      return new CliError(`${oneLine(err.message)} (pass --token or set GLM_WORKERS_TOKEN)`);
    }
    const files = data?.files ?? [];
    return new CliError(oneLine(err.message) || data?.code || "request failed", {
      details: files.map((f) => `  ${f}`),
    });
  }
  const cause = networkCause(err);
  if (cause) return new CliError(`cannot reach the glm-workers server at ${url}: ${cause}`);
  if (err instanceof Error) return new CliError(oneLine(err.message) || err.name);
  return new CliError(String(err));
}

/** The tRPC error code (`NOT_FOUND`, `CONFLICT`…) of an error, if it is one. */
export function trpcCode(err: unknown): string | null {
  if (!(err instanceof TRPCClientError)) return null;
  const data = err.data as ErrorData | undefined;
  return data?.code ?? null;
}

export function trpcReason(err: unknown): string | null {
  if (!(err instanceof TRPCClientError)) return null;
  const data = err.data as ErrorData | undefined;
  return data?.reason ?? null;
}
