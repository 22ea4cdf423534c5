/** Errors the API maps to HTTP status codes / tRPC codes. */
export type OrchestratorErrorCode = "NOT_FOUND" | "CONFLICT" | "BAD_REQUEST" | "UNAVAILABLE";

export class OrchestratorError extends Error {
  readonly code: OrchestratorErrorCode;
  constructor(code: OrchestratorErrorCode, message: string) {
    super(message);
    this.name = "OrchestratorError";
    this.code = code;
  }
}

export function coerceError(err: unknown): Error {
  if (err instanceof Error) return err;
  return new Error(typeof err === "string" ? err : JSON.stringify(err));
}
