// The benchmark report: markdown sections with tables and SVG charts (Vega-Lite, rendered
// headless by Vega), written to docs/BENCHMARKS.md and docs/bench/*.svg.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

export type Cell = string | number;

/** Markers around the section `pnpm load` writes into the report. */
export const LOAD_START = "<!-- load:start -->";
export const LOAD_END = "<!-- load:end -->";

export interface LatencySeries {
  name: string;
  samples: readonly number[];
}

export interface CurvePoint {
  series: string;
  x: number;
  y: number;
}

/** Markdown lines plus the charts they link to; printed as it grows. */
export class Report {
  readonly lines: string[] = [];
  readonly charts = new Map<string, string>();
  readonly #echo: boolean;

  constructor(opts: { echo?: boolean } = {}) {
    this.#echo = opts.echo ?? true;
  }

  line(s = ""): void {
    this.lines.push(s);
    if (this.#echo) process.stdout.write(`${s}\n`);
  }

  heading(level: 2 | 3, title: string): void {
    this.line(`${"#".repeat(level)} ${title}`);
    this.line();
  }

  paragraph(text: string): void {
    this.line(text);
    this.line();
  }

  table(headers: readonly string[], rows: readonly (readonly Cell[])[]): void {
    const cell = (c: Cell) => String(c).replaceAll("|", "\\|");
    this.line(`| ${headers.map(cell).join(" | ")} |`);
    this.line(`| ${headers.map(() => "---").join(" | ")} |`);
    for (const r of rows) this.line(`| ${r.map(cell).join(" | ")} |`);
    this.line();
  }

  json(value: unknown): void {
    this.line("```json");
    this.line(JSON.stringify(value, null, 2));
    this.line("```");
    this.line();
  }

  /** Renders a Vega-Lite spec to `bench/<id>.svg` (relative to the report) and links it. */
  async chart(id: string, title: string, spec: TopLevelSpec): Promise<void> {
    if (!/^[a-z0-9-]+$/.test(id)) throw new Error(`chart id ${id}: lower-case letters, digits, -`);
    const view = new View(parse(compile(spec).spec), { renderer: "none" });
    const svg = await view.toSVG();
    view.finalize();
    this.charts.set(id, svg);
    this.line(`![${title}](bench/${id}.svg)`);
    this.line();
  }

  /** Percentile curves (x: percentile, y: ms), one line per series: a latency distribution. */
  async latencyChart(
    id: string,
    title: string,
    series: readonly LatencySeries[],
    opts: { logY?: boolean; unit?: string } = {},
  ): Promise<void> {
    const values = series.flatMap((s) =>
      percentileCurve(s.samples).map((p) => ({ ...p, series: s.name })),
    );
    await this.chart(id, title, {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      title,
      width: 560,
      height: 280,
      data: { values },
      mark: { type: "line", interpolate: "step-after" },
      encoding: {
        x: {
          field: "percentile",
          type: "quantitative",
          title: "percentile",
          scale: { domain: [0, 100] },
        },
        y: {
          field: "ms",
          type: "quantitative",
          title: opts.unit ?? "ms",
          scale: opts.logY ? { type: "log" } : {},
        },
        color: { field: "series", type: "nominal", title: null },
      },
    });
  }

  /** A scaling curve: y against x, one line (with points) per series. */
  async curveChart(
    id: string,
    title: string,
    points: readonly CurvePoint[],
    opts: { xTitle: string; yTitle: string; logX?: boolean; logY?: boolean },
  ): Promise<void> {
    await this.chart(id, title, {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      title,
      width: 560,
      height: 280,
      data: { values: points.map((p) => ({ ...p })) },
      mark: { type: "line", point: true },
      encoding: {
        x: {
          field: "x",
          type: "quantitative",
          title: opts.xTitle,
          scale: opts.logX ? { type: "log" } : {},
        },
        y: {
          field: "y",
          type: "quantitative",
          title: opts.yTitle,
          scale: opts.logY ? { type: "log" } : {},
        },
        color: { field: "series", type: "nominal", title: null },
      },
    });
  }

  /** Writes the markdown and every chart under `docsDir`. */
  write(docsDir: string, file = "BENCHMARKS.md"): string {
    mkdirSync(join(docsDir, "bench"), { recursive: true });
    for (const [id, svg] of this.charts) writeFileSync(join(docsDir, "bench", `${id}.svg`), svg);
    const path = join(docsDir, file);
    // the block `pnpm load` appends survives a new `pnpm bench`
    let kept = "";
    try {
      const old = readFileSync(path, "utf8");
      const start = old.indexOf(LOAD_START);
      const end = old.indexOf(LOAD_END);
      if (start >= 0 && end > start) kept = `\n${old.slice(start, end + LOAD_END.length)}\n`;
    } catch {
      // no report yet
    }
    writeFileSync(path, `${this.lines.join("\n")}\n${kept}`);
    return path;
  }
}

/** At most ~200 points of the sorted samples: (percentile, value). */
export function percentileCurve(samples: readonly number[]): { percentile: number; ms: number }[] {
  const sorted = [...samples].sort((a, b) => a - b);
  if (sorted.length === 0) return [];
  const steps = Math.min(200, sorted.length);
  const out: { percentile: number; ms: number }[] = [];
  for (let i = 0; i < steps; i++) {
    const q = steps === 1 ? 1 : i / (steps - 1);
    const idx = Math.min(sorted.length - 1, Math.round(q * (sorted.length - 1)));
    out.push({ percentile: q * 100, ms: sorted[idx] ?? 0 });
  }
  return out;
}
