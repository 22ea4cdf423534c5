/** Helpers to classify errors coming out of libsql (possibly wrapped by drizzle's DrizzleQueryError). */

/** Turns anything thrown into an `Error`, keeping the original as `cause` when it was not one. */
export function coerceError(err: unknown): Error {
  if (err instanceof Error) return err;
  return new Error(typeof err === "string" ? err : safeString(err), { cause: err });
}

function safeString(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** The error and its `cause` chain (bounded, cycle-safe). */
function* causeChain(err: unknown): Generator<unknown> {
  const seen = new Set<unknown>();
  let current: unknown = err;
  for (let depth = 0; depth < 8 && current !== undefined && current !== null; depth++) {
    if (seen.has(current)) return;
    seen.add(current);
    yield current;
    current = typeof current === "object" ? (current as { cause?: unknown }).cause : undefined;
  }
}

function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

function sqliteCodes(err: unknown): string[] {
  const codes: string[] = [];
  for (const e of causeChain(err)) {
    for (const key of ["code", "extendedCode"]) {
      const v = field(e, key);
      if (typeof v === "string") codes.push(v);
    }
  }
  return codes;
}

function messages(err: unknown): string[] {
  const out: string[] = [];
  for (const e of causeChain(err)) {
    const m = field(e, "message");
    if (typeof m === "string") out.push(m);
  }
  return out;
}

/** SQLITE_BUSY / SQLITE_LOCKED (another connection holds the write lock). */
export function isBusyError(err: unknown): boolean {
  if (sqliteCodes(err).some((c) => c.startsWith("SQLITE_BUSY") || c.startsWith("SQLITE_LOCKED")))
    return true;
  return messages(err).some((m) =>
    /database is locked|database table is locked|SQLITE_BUSY/i.test(m),
  );
}

/** A UNIQUE or PRIMARY KEY constraint failed. */
export function isUniqueViolation(err: unknown): boolean {
  const codes = sqliteCodes(err);
  if (codes.includes("SQLITE_CONSTRAINT_UNIQUE") || codes.includes("SQLITE_CONSTRAINT_PRIMARYKEY"))
    return true;
  return messages(err).some((m) => /UNIQUE constraint failed/i.test(m));
}

/** A FOREIGN KEY constraint failed. */
export function isForeignKeyViolation(err: unknown): boolean {
  if (sqliteCodes(err).includes("SQLITE_CONSTRAINT_FOREIGNKEY")) return true;
  return messages(err).some((m) => /FOREIGN KEY constraint failed/i.test(m));
}
