import { isTRPCClientError } from "@trpc/client";

/** One problem with one input field, as zod reports it (`path` is the field path). */
export interface FieldIssue {
  path: string;
  message: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/** Reads zod-style issues out of whatever the server put in the error `data`/`cause`. */
function issuesOf(value: unknown): FieldIssue[] {
  if (!isRecord(value)) return [];
  const out: FieldIssue[] = [];
  const pushIssue = (raw: unknown) => {
    if (!isRecord(raw) || typeof raw.message !== "string") return;
    const path = Array.isArray(raw.path) ? raw.path.map(String).join(".") : String(raw.path ?? "");
    out.push({ path, message: raw.message });
  };
  if (Array.isArray(value.issues)) value.issues.forEach(pushIssue);
  if (out.length > 0) return out;
  const zodError = value.zodError;
  if (isRecord(zodError)) {
    if (Array.isArray(zodError.issues)) zodError.issues.forEach(pushIssue);
    const fields = zodError.fieldErrors;
    if (isRecord(fields)) {
      for (const [path, messages] of Object.entries(fields)) {
        if (!Array.isArray(messages)) continue;
        for (const message of messages)
          if (typeof message === "string") out.push({ path, message });
      }
    }
    const formErrors = zodError.formErrors;
    if (Array.isArray(formErrors)) {
      for (const message of formErrors)
        if (typeof message === "string") out.push({ path: "", message });
    }
  }
  return out;
}

/** Issues carried by a tRPC error: `data.issues`, `data.zodError`, or a zod-shaped message. */
export function errorIssues(err: unknown): FieldIssue[] {
  if (isTRPCClientError(err)) {
    const fromData = issuesOf(err.data);
    if (fromData.length > 0) return fromData;
    const fromCause = issuesOf(err.cause);
    if (fromCause.length > 0) return fromCause;
    // tRPC's default formatter puts a zod error's issue list, as JSON, into the message.
    try {
      const parsed: unknown = JSON.parse(err.message);
      if (Array.isArray(parsed)) return issuesOf({ issues: parsed });
    } catch {
      // Not JSON: a plain message.
    }
  }
  if (isRecord(err)) return issuesOf(err);
  return [];
}

/**
 * Issues keyed by their full path (`chunks.0.title`) and by their first segment (`chunks`), so
 * a form can show each next to its input.
 */
export function fieldErrors(err: unknown): Record<string, string> {
  const map: Record<string, string> = {};
  for (const issue of errorIssues(err)) {
    if (!issue.path) continue;
    const first = issue.path.split(".")[0] ?? issue.path;
    for (const key of [issue.path, first]) if (map[key] === undefined) map[key] = issue.message;
  }
  return map;
}

/** A short, readable sentence for any error the client can throw. */
export function errorMessage(err: unknown): string {
  const issues = errorIssues(err);
  if (issues.length > 0) {
    return issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; ");
  }
  if (isTRPCClientError(err)) {
    if (err.message === "Failed to fetch" || err.message.includes("NetworkError")) {
      return "Cannot reach the server. Is it running?";
    }
    return err.message;
  }
  if (err instanceof Error) return err.message;
  return typeof err === "string" ? err : "Something went wrong";
}
