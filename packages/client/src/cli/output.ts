import { styleText } from "node:util";

/** What the CLI writes to and reads from; `main.ts` binds it to the process, tests may fake it. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  env: Record<string, string | undefined>;
  cwd: string;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  stdinIsTTY: boolean;
  /** Asks a yes/no question on the terminal (only called when stdin is a TTY). */
  ask(question: string): Promise<string>;
}

export type Style =
  | "bold"
  | "dim"
  | "red"
  | "green"
  | "yellow"
  | "blue"
  | "magenta"
  | "cyan"
  | "gray";

/** Colours for one stream: plain text unless it is a TTY and `NO_COLOR` is unset (or empty). */
export function painter(isTTY: boolean, env: Record<string, string | undefined>) {
  const enabled = isTTY && !env.NO_COLOR;
  return (style: Style | null | undefined, text: string): string =>
    enabled && style && text !== "" ? styleText(style, text, { validateStream: false }) : text;
}
export type Paint = ReturnType<typeof painter>;

export interface Cell {
  text: string;
  style?: Style | null;
}

/** A compact table: columns two spaces apart, padded on plain text, coloured after padding. */
export function table(
  paint: Paint,
  header: readonly string[],
  rows: ReadonlyArray<ReadonlyArray<string | Cell>>,
): string {
  const cells = rows.map((row) => row.map((c) => (typeof c === "string" ? { text: c } : c)));
  const widths = header.map((h, i) =>
    Math.max(h.length, ...cells.map((row) => row[i]?.text.length ?? 0)),
  );
  const line = (row: readonly Cell[]) =>
    row
      .map((cell, i) => {
        const last = i === row.length - 1;
        const padded = last ? cell.text : cell.text.padEnd(widths[i] ?? 0);
        return paint(cell.style, padded);
      })
      .join("  ")
      .trimEnd();
  const head = paint(
    "dim",
    header
      .map((h, i) => (i === header.length - 1 ? h : h.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd(),
  );
  return [head, ...cells.map(line)].join("\n");
}

/** The first 8 characters of an id, as the tables show it (commands take any unique prefix). */
export function shortId(id: string): string {
  return id.slice(0, 8);
}

export function truncate(text: string, max: number): string {
  const one = text.replace(/\s+/g, " ").trim();
  return one.length <= max ? one : `${one.slice(0, max - 1)}…`;
}

const STATUS_STYLES: Record<string, Style> = {
  idle: "gray",
  running: "cyan",
  paused: "yellow",
  completed: "green",
  failed: "red",
  stopped: "magenta",
};

export function statusCell(status: string): Cell {
  return { text: status, style: STATUS_STYLES[status] ?? null };
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** `HH:MM:SS` of a timestamp in local time. */
export function clock(at: number): string {
  const d = new Date(at);
  return [d.getHours(), d.getMinutes(), d.getSeconds()]
    .map((n) => String(n).padStart(2, "0"))
    .join(":");
}
