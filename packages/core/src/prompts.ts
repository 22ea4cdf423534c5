import type { ChunkSnapshot, RunSnapshot } from "./protocol.ts";

/** The prompt for executing one chunk. */
export function executePrompt(run: RunSnapshot, chunk: ChunkSnapshot): string {
  return [
    `You are working on the spec "${run.spec.title}" of the project "${run.project.name}".`,
    "",
    "## Spec",
    run.spec.content.trim(),
    "",
    `## Your task: ${chunk.title}`,
    chunk.description.trim(),
    "",
    "Make the change in the current directory. Do not commit; the run commits each reviewed",
    "chunk itself. Finish with a short summary of what you changed.",
  ].join("\n");
}

/**
 * The next chunk for an agent that keeps the run's conversation: it has the spec and the
 * earlier chunks already, so only the new task is sent.
 */
export function continuationPrompt(chunk: ChunkSnapshot): string {
  return [
    `## Next task: ${chunk.title}`,
    chunk.description.trim(),
    "",
    "Same spec and directory as before. Make the change; do not commit. Finish with a short",
    "summary of what you changed.",
  ].join("\n");
}

/** The prompt for reviewing one executed chunk; the answer must be JSON only. */
export function reviewPrompt(run: RunSnapshot, chunk: ChunkSnapshot, summary: string): string {
  return [
    `Review the change just made in the current directory for the spec "${run.spec.title}".`,
    "",
    `## Task that was done: ${chunk.title}`,
    chunk.description.trim(),
    "",
    "## The agent's summary",
    summary.trim() || "(none)",
    "",
    "Inspect the working tree (e.g. `git diff`, `git status`). Answer with JSON only, no prose:",
    '{"status":"pass"|"needs_fix"|"fail","feedback":"…","fixChunk":{"title":"…","description":"…"}}',
    "Use needs_fix with a fixChunk when a small follow-up task can repair the change; use fail",
    "when the work is unusable. Leave fixChunk out unless the status is needs_fix.",
  ].join("\n");
}
