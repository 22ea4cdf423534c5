import { describe, expect, it } from "vitest";
import { parseInline, parseMarkdown, safeHref } from "../src/lib/markdown.ts";
import { dropIndex, moveItem } from "../src/lib/reorder.ts";

describe("markdown reader", () => {
  it("reads headings, paragraphs, lists, code and quotes", () => {
    const blocks = parseMarkdown(
      [
        "# Title",
        "",
        "Some *soft* and **bold** text",
        "on two lines.",
        "",
        "- one",
        "- two `x`",
        "",
        "3. three",
        "4. four",
        "",
        "```ts",
        "const a = '<b>';",
        "```",
        "> quoted",
        "---",
      ].join("\n"),
    );
    expect(blocks.map((b) => b.type)).toEqual([
      "heading",
      "paragraph",
      "list",
      "list",
      "code",
      "quote",
      "rule",
    ]);
    expect(blocks[0]).toEqual({
      type: "heading",
      level: 1,
      children: [{ type: "text", text: "Title" }],
    });
    expect(blocks[1]).toEqual({
      type: "paragraph",
      children: [
        { type: "text", text: "Some " },
        { type: "em", children: [{ type: "text", text: "soft" }] },
        { type: "text", text: " and " },
        { type: "strong", children: [{ type: "text", text: "bold" }] },
        { type: "text", text: " text on two lines." },
      ],
    });
    expect(blocks[2]).toMatchObject({ type: "list", ordered: false, start: 1 });
    expect(blocks[3]).toMatchObject({ type: "list", ordered: true, start: 3 });
    expect(blocks[4]).toEqual({ type: "code", lang: "ts", text: "const a = '<b>';" });
  });

  it("keeps HTML as text and drops script links", () => {
    expect(parseInline("<img src=x onerror=alert(1)>")).toEqual([
      { type: "text", text: "<img src=x onerror=alert(1)>" },
    ]);
    expect(parseInline("[click](javascript:alert(1))")).toEqual([{ type: "text", text: "click" }]);
    expect(parseInline("[docs](https://example.com/a)")).toEqual([
      { type: "link", href: "https://example.com/a", children: [{ type: "text", text: "docs" }] },
    ]);
    expect(safeHref("JaVaScRiPt:alert(1)")).toBeNull();
    expect(safeHref("data:text/html,x")).toBeNull();
    expect(safeHref("/specs/1")).toBe("/specs/1");
    expect(safeHref("#top")).toBe("#top");
  });

  it("treats an unclosed fence as code to the end", () => {
    expect(parseMarkdown("```\nline 1\nline 2")).toEqual([
      { type: "code", lang: "", text: "line 1\nline 2" },
    ]);
  });
});

describe("reorder helpers", () => {
  it("moves an item and clamps the target", () => {
    expect(moveItem(["a", "b", "c"], 0, 2)).toEqual(["b", "c", "a"]);
    expect(moveItem(["a", "b", "c"], 2, 0)).toEqual(["c", "a", "b"]);
    expect(moveItem(["a", "b", "c"], 1, 99)).toEqual(["a", "c", "b"]);
    expect(moveItem(["a", "b"], 5, 0)).toEqual(["a", "b"]);
  });

  it("maps a drop gap to the final index", () => {
    // Dragging the first of three below the last: gap 3 → index 2.
    expect(dropIndex(0, 3)).toBe(2);
    // Dragging the last above the first: gap 0 → index 0.
    expect(dropIndex(2, 0)).toBe(0);
    // Dropping right around itself is a no-op.
    expect(dropIndex(1, 1)).toBe(1);
    expect(dropIndex(1, 2)).toBe(1);
  });
});
