/**
 * Typed errors raised by the db package. The server maps them to HTTP/tRPC codes:
 * NotFoundError → 404, ConflictError → 409, ValidationError → 400.
 */

export type DbErrorCode = "NOT_FOUND" | "CONFLICT" | "VALIDATION" | "CLOSED";

export class DbError extends Error {
  readonly code: DbErrorCode;

  constructor(code: DbErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DbError";
    this.code = code;
  }
}

/** The addressed row does not exist. `entity` names the table-level concept ("project", "chunk"). */
export class NotFoundError extends DbError {
  readonly entity: string;
  readonly id: string;

  constructor(entity: string, id: string) {
    super("NOT_FOUND", `${entity} ${id} not found`);
    this.name = "NotFoundError";
    this.entity = entity;
    this.id = id;
  }
}

/** The operation clashes with existing state (a spec already queued, a unique key taken). */
export class ConflictError extends DbError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("CONFLICT", message, options);
    this.name = "ConflictError";
  }
}

/** The input is well-formed but not acceptable (e.g. a reorder that is not a permutation). */
export class ValidationError extends DbError {
  constructor(message: string) {
    super("VALIDATION", message);
    this.name = "ValidationError";
  }
}

/** The database was closed before the write could run. */
export class ClosedError extends DbError {
  constructor() {
    super("CLOSED", "the database is closed");
    this.name = "ClosedError";
  }
}

export function isDbError(err: unknown): err is DbError {
  return err instanceof DbError;
}
