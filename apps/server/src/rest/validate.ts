import type { Context } from "hono";
import type { z } from "zod";
import { ApiError, summarizeIssues, zodIssues } from "../errors.ts";

/**
 * Request validation for REST routes with the shared zod schemas. Every failure is an
 * `ApiError(400)` carrying the issues, so a bad request never reaches the database.
 */

function invalid(error: z.ZodError, where: string): ApiError {
  const issues = zodIssues(error);
  return new ApiError(400, "BAD_REQUEST", `invalid ${where}: ${summarizeIssues(issues)}`, {
    issues,
  });
}

/** Reads the body as JSON (whatever the Content-Type says) and validates it with `schema`. */
export async function parseJsonBody<T extends z.ZodType>(
  c: Context,
  schema: T,
): Promise<z.output<T>> {
  const text = await c.req.text();
  let raw: unknown;
  if (text.trim() === "") {
    raw = {};
  } else {
    try {
      raw = JSON.parse(text);
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      throw new ApiError(400, "INVALID_JSON", `request body is not valid JSON: ${detail}`, {
        issues: [{ path: "", message: "malformed JSON", code: "invalid_json" }],
      });
    }
  }
  const result = await schema.safeParseAsync(raw);
  if (!result.success) throw invalid(result.error, "request body");
  return result.data;
}

/** Validates the query string (single values; repeated keys keep the first). */
export function parseQuery<T extends z.ZodType>(c: Context, schema: T): z.output<T> {
  const result = schema.safeParse(c.req.query());
  if (!result.success) throw invalid(result.error, "query");
  return result.data;
}

/** Validates one path parameter. */
export function parseParam<T extends z.ZodType>(c: Context, name: string, schema: T): z.output<T> {
  const result = schema.safeParse(c.req.param(name));
  if (!result.success) throw invalid(result.error, `path parameter "${name}"`);
  return result.data;
}
