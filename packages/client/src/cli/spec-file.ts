/**
 * A spec written as markdown: the first `# ` heading is the spec's title, the text before the
 * first `## ` heading is its content, and each `## Section` is a chunk (title = the heading,
 * description = the section's body). Headings inside fenced code blocks (``` or ~~~) are text;
 * `###` and deeper headings stay in the body of their section. Setext headings (`===` / `---`
 * underlines) are not headings here.
 */

export interface SpecFileChunk {
  title: string;
  description: string;
}

export interface SpecFile {
  title: string;
  content: string;
  chunks: SpecFileChunk[];
}

export class SpecFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SpecFileError";
  }
}

/** `#` or `##` ATX heading (up to 3 spaces of indentation, optional closing `#`s). */
const HEADING = /^ {0,3}(#{1,2})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const FENCE = /^ {0,3}(`{3,}|~{3,})(.*)$/;

function headingText(raw: string | undefined): string {
  // an ATX heading may end with a closing sequence of #s; `## #` is an empty heading
  return (raw ?? "").replace(/^#+$/, "").trim();
}

/** Trims blank lines at both ends of a block (keeps indentation inside it). */
function block(lines: readonly string[]): string {
  let start = 0;
  let end = lines.length;
  while (start < end && (lines[start] ?? "").trim() === "") start++;
  while (end > start && (lines[end - 1] ?? "").trim() === "") end--;
  return lines
    .slice(start, end)
    .map((l) => l.trimEnd())
    .join("\n");
}

/** Splits a markdown spec; throws SpecFileError naming what is missing (`name`: the file, for messages). */
export function parseSpecMarkdown(text: string, name = "the spec file"): SpecFile {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  let title: string | null = null;
  const content: string[] = [];
  const chunks: Array<{ title: string; body: string[] }> = [];
  let fence: { char: string; length: number } | null = null;

  for (const [index, line] of lines.entries()) {
    const current = chunks.at(-1);
    const keep = () => (current ? current.body.push(line) : content.push(line));

    const fenceMatch = FENCE.exec(line);
    if (fence) {
      if (
        fenceMatch?.[1] &&
        fenceMatch[1][0] === fence.char &&
        fenceMatch[1].length >= fence.length &&
        (fenceMatch[2] ?? "").trim() === ""
      ) {
        fence = null;
      }
      keep();
      continue;
    }
    if (fenceMatch?.[1] && !(fenceMatch[1][0] === "`" && (fenceMatch[2] ?? "").includes("`"))) {
      fence = { char: fenceMatch[1][0] as string, length: fenceMatch[1].length };
      keep();
      continue;
    }

    const heading = HEADING.exec(line);
    if (heading?.[1] === "#" && title === null) {
      title = headingText(heading[2]);
      if (title === "") throw new SpecFileError(`${name}, line ${index + 1}: the # title is empty`);
      continue;
    }
    if (heading?.[1] === "##") {
      const chunkTitle = headingText(heading[2]);
      if (chunkTitle === "") {
        throw new SpecFileError(`${name}, line ${index + 1}: a ## heading needs a title`);
      }
      chunks.push({ title: chunkTitle, body: [] });
      continue;
    }
    keep();
  }

  if (title === null) throw new SpecFileError(`${name} has no "# Title" line`);
  if (chunks.length === 0) {
    throw new SpecFileError(`${name} has no "## Section" headings: each section is a chunk`);
  }
  return {
    title,
    content: block(content),
    chunks: chunks.map((c) => ({ title: c.title, description: block(c.body) })),
  };
}
