import { OrchestratorError } from "@glm-workers/core/errors";
import { ClosedError, DbError } from "@glm-workers/db/errors";
import type { TRPC_ERROR_CODE_KEY } from "@trpc/server";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";

/**
 * One mapping of every error the API can raise to an HTTP status, a stable code and the
 * body `{"error":{"code","message","issues"}}`. REST (`onError`) and tRPC both use it.
 */

/** One input problem: where (`path`, dotted) and what. */
export interface ApiIssue {
  path: string;
  message: string;
  code?: string;
}

export interface ApiErrorBody {
  /** `files`: the paths the error is about (conflicting files…), when it names any. */
  error: { code: string; message: string; issues: ApiIssue[]; files?: string[] };
}

/** An HTTP error with a code and optional issues; thrown by routes and middleware. */
export class ApiError extends HTTPException {
  readonly code: string;
  readonly issues: ApiIssue[] | undefined;

  constructor(
    status: ContentfulStatusCode,
    code: string,
    message: string,
    options: { issues?: ApiIssue[]; cause?: unknown } = {},
  ) {
    super(status, { message, cause: options.cause });
    this.name = "ApiError";
    this.code = code;
    this.issues = options.issues;
  }
}

export interface DescribedError {
  status: ContentfulStatusCode;
  code: string;
  message: string;
  issues?: ApiIssue[];
  files?: string[];
  /** True when the error is a server fault worth logging with its stack. */
  internal: boolean;
}

function isZodError(err: unknown): err is z.ZodError {
  if (err instanceof z.ZodError) return true;
  return (
    err instanceof Error &&
    err.name === "ZodError" &&
    Array.isArray((err as { issues?: unknown }).issues)
  );
}

/** The issues of a zod error, with dotted paths. */
export function zodIssues(err: z.ZodError): ApiIssue[] {
  return err.issues.map((issue) => ({
    path: issue.path.map((p) => (typeof p === "symbol" ? p.toString() : String(p))).join("."),
    message: issue.message,
    code: issue.code,
  }));
}

/** One-line summary of zod issues, e.g. `name: is required; directory: is required`. */
export function summarizeIssues(issues: readonly ApiIssue[]): string {
  if (issues.length === 0) return "invalid input";
  return issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; ");
}

const STATUS_CODES: Partial<Record<number, string>> = {
  400: "BAD_REQUEST",
  401: "UNAUTHORIZED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  405: "METHOD_NOT_ALLOWED",
  409: "CONFLICT",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
  503: "SERVICE_UNAVAILABLE",
};

/** The tRPC code of an HTTP status (what a tRPC client reads as `error.data.code`). */
const TRPC_CODES: Partial<Record<number, TRPC_ERROR_CODE_KEY>> = {
  400: "BAD_REQUEST",
  401: "UNAUTHORIZED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  405: "METHOD_NOT_SUPPORTED",
  409: "CONFLICT",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
  503: "SERVICE_UNAVAILABLE",
};

export function trpcCodeOf(status: number): TRPC_ERROR_CODE_KEY {
  return TRPC_CODES[status] ?? "INTERNAL_SERVER_ERROR";
}

export function describeError(err: unknown): DescribedError {
  if (err instanceof ApiError) {
    return {
      status: err.status,
      code: err.code,
      message: err.message,
      ...(err.issues ? { issues: err.issues } : {}),
      internal: false,
    };
  }
  if (err instanceof HTTPException) {
    const status = err.status;
    return {
      status,
      code: STATUS_CODES[status] ?? (status >= 500 ? "INTERNAL_SERVER_ERROR" : "BAD_REQUEST"),
      message: err.message || (STATUS_CODES[status] ?? "error"),
      internal: status >= 500,
    };
  }
  if (isZodError(err)) {
    const issues = zodIssues(err);
    return {
      status: 400,
      code: "BAD_REQUEST",
      message: summarizeIssues(issues),
      issues,
      internal: false,
    };
  }
  if (err instanceof ClosedError) {
    return { status: 503, code: "SERVICE_UNAVAILABLE", message: err.message, internal: false };
  }
  if (err instanceof DbError) {
    switch (err.code) {
      case "NOT_FOUND":
        return { status: 404, code: "NOT_FOUND", message: err.message, internal: false };
      case "CONFLICT":
        return { status: 409, code: "CONFLICT", message: err.message, internal: false };
      case "VALIDATION":
        return { status: 400, code: "BAD_REQUEST", message: err.message, internal: false };
      default:
        break;
    }
  }
  if (err instanceof OrchestratorError) {
    const status =
      err.code === "NOT_FOUND"
        ? 404
        : err.code === "CONFLICT"
          ? 409
          : err.code === "BAD_REQUEST"
            ? 400
            : 503;
    return {
      status,
      code: err.reason ?? STATUS_CODES[status] ?? "ERROR",
      message: err.message,
      ...(err.files ? { files: err.files } : {}),
      internal: false,
    };
  }
  return {
    status: 500,
    code: "INTERNAL_SERVER_ERROR",
    message: "internal server error",
    internal: true,
  };
}

export function errorBody(described: DescribedError): ApiErrorBody {
  return {
    error: {
      code: described.code,
      message: described.message,
      issues: described.issues ?? [],
      ...(described.files ? { files: described.files } : {}),
    },
  };
}
