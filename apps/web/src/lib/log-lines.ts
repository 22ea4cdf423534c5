import type { WorkerEvent } from "./types.ts";

export interface LogLine {
  /** The event id (ordering and de-duplication). */
  id: number;
  at: number;
  kind: "log" | "tool";
  level: string;
  text: string;
}

/** A log or tool event as one display line; other events give null. */
export function toLogLine(event: WorkerEvent): LogLine | null {
  if (event.type === "log") {
    return { id: event.id, at: event.at, kind: "log", level: event.level, text: event.line };
  }
  if (event.type === "tool") {
    const detail = event.detail ? ` ${event.detail}` : "";
    return {
      id: event.id,
      at: event.at,
      kind: "tool",
      level: event.status === "failed" ? "error" : "tool",
      text: `⚙ ${event.name} ${event.status}${detail}`,
    };
  }
  return null;
}

/** `lines` plus `more`, in id order, without duplicates, keeping the newest `limit`. */
export function mergeLines(
  lines: readonly LogLine[],
  more: readonly LogLine[],
  limit: number,
): LogLine[] {
  if (more.length === 0) return [...lines];
  const last = lines.at(-1)?.id ?? 0;
  const merged =
    more.every((l) => l.id > last) && isSorted(more)
      ? [...lines, ...more]
      : [...new Map([...lines, ...more].map((l) => [l.id, l])).values()].sort(
          (a, b) => a.id - b.id,
        );
  return merged.length > limit ? merged.slice(merged.length - limit) : merged;
}

function isSorted(lines: readonly LogLine[]): boolean {
  return lines.every((l, i) => i === 0 || (lines[i - 1]?.id ?? 0) < l.id);
}
