import { z } from "zod";

/** The answer a review must give, parsed strictly (unknown keys are rejected). */
export const reviewAnswerSchema = z.strictObject({
  status: z.enum(["pass", "needs_fix", "fail"]),
  feedback: z.string(),
  fixChunk: z.strictObject({ title: z.string().trim().min(1), description: z.string() }).nullish(),
});
export type ReviewAnswer = z.infer<typeof reviewAnswerSchema>;

export type ReviewParse = { ok: true; answer: ReviewAnswer } | { ok: false; error: string };

/** Candidate JSON texts: the whole answer, else the last fenced block, else the last line. */
function candidates(text: string): string[] {
  const trimmed = text.trim();
  const out = [trimmed];
  const fences = [...trimmed.matchAll(/```(?:json)?\s*\n([\s\S]*?)\n?```/g)];
  const lastFence = fences.at(-1)?.[1];
  if (lastFence) out.push(lastFence.trim());
  const lastLine = trimmed.split("\n").at(-1)?.trim();
  if (lastLine?.startsWith("{")) out.push(lastLine);
  return out;
}

/**
 * Parses a review answer. The JSON must be the whole answer, a fenced ```json block, or the
 * last line (agents often print a preamble); its shape is checked strictly. A malformed answer
 * is reported with the raw text so it can be kept on the chunk.
 */
export function parseReview(text: string): ReviewParse {
  let lastError = "the review answer is empty";
  for (const candidate of candidates(text)) {
    if (!candidate) continue;
    let value: unknown;
    try {
      value = JSON.parse(candidate);
    } catch (err) {
      lastError = `the review answer is not JSON (${err instanceof Error ? err.message : String(err)})`;
      continue;
    }
    const parsed = reviewAnswerSchema.safeParse(value);
    if (parsed.success) return { ok: true, answer: parsed.data };
    lastError = `the review answer has the wrong shape: ${parsed.error.issues
      .map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`)
      .join("; ")}`;
  }
  const raw = text.length > 4000 ? `${text.slice(0, 4000)}…` : text;
  return { ok: false, error: `${lastError}. Raw answer: ${raw}` };
}
