/** Errors the API maps to HTTP status codes / tRPC codes. */
export type OrchestratorErrorCode = "NOT_FOUND" | "CONFLICT" | "BAD_REQUEST" | "UNAVAILABLE";

export interface OrchestratorErrorDetails {
  /**
   * A stable, more specific code than `code` (`MERGE_CONFLICT`, `DIRTY_WORKTREE`, …): the REST
   * body's `error.code` and tRPC's `error.data.reason`.
   */
  reason?: string;
  /** The paths the error is about (conflicting files, uncommitted changes). */
  files?: string[];
}

export class OrchestratorError extends Error {
  readonly code: OrchestratorErrorCode;
  readonly reason: string | undefined;
  readonly files: string[] | undefined;
  constructor(
    code: OrchestratorErrorCode,
    message: string,
    details: OrchestratorErrorDetails = {},
  ) {
    super(message);
    this.name = "OrchestratorError";
    this.code = code;
    this.reason = details.reason;
    this.files = details.files;
  }
}

/** A 409 refusal with a specific reason (and the paths it is about). */
export function conflictError(
  reason: string,
  message: string,
  files?: string[],
): OrchestratorError {
  return new OrchestratorError("CONFLICT", message, { reason, ...(files ? { files } : {}) });
}

export function coerceError(err: unknown): Error {
  if (err instanceof Error) return err;
  return new Error(typeof err === "string" ? err : JSON.stringify(err));
}
