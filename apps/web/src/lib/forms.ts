/** The part of a zod schema a form needs (kept structural so any zod 4 schema fits). */
export interface SafeParser {
  safeParse(input: unknown):
    | { success: true }
    | {
        success: false;
        error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> };
      };
}

/** Validates `input` in the browser with the same schema the server uses; errors by field. */
export function validateWith(schema: SafeParser, input: unknown): Record<string, string> {
  const result = schema.safeParse(input);
  if (result.success) return {};
  const errors: Record<string, string> = {};
  for (const issue of result.error.issues) {
    const key = issue.path.map(String).join(".") || "form";
    if (errors[key] === undefined) errors[key] = issue.message;
  }
  return errors;
}
