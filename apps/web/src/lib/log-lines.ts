import type { WorkerEvent } from "./types.ts";

export interface LogLine {
  /** The event id (ordering and de-duplication). */
  id: number;
  at: number;
  kind: "log" | "tool";
  level: string;
  text: string;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A log or tool event as one display line; other events give null. */
export function toLogLine(event: WorkerEvent): LogLine | null {
  const p = isRecord(event.payload) ? event.payload : {};
  if (event.type === "log") {
    return {
      id: event.id,
      at: event.at,
      kind: "log",
      level: typeof p.level === "string" ? p.level : "info",
      text: typeof p.line === "string" ? p.line : "",
    };
  }
  if (event.type === "tool") {
    const name = typeof p.name === "string" ? p.name : "tool";
    const status = typeof p.status === "string" ? p.status : "";
    const detail = typeof p.detail === "string" && p.detail ? ` ${p.detail}` : "";
    return {
      id: event.id,
      at: event.at,
      kind: "tool",
      level: status === "failed" ? "error" : "tool",
      text: `⚙ ${name} ${status}${detail}`,
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
