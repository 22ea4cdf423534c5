import { describe, expect, it } from "vitest";
import { isExternalHref, renderMarkdown, safeHref } from "../src/lib/markdown.ts";
import { dropIndex, moveItem } from "../src/lib/reorder.ts";

describe("markdown rendering", () => {
  it("renders headings, emphasis, lists, code, quotes and tables", () => {
    const html = renderMarkdown(
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
        "",
        "| a | b |",
        "|---|---|",
        "| 1 | 2 |",
      ].join("\n"),
    );
    expect(html).toContain("<h1>Title</h1>");
    expect(html).toContain(
      "<p>Some <em>soft</em> and <strong>bold</strong> text\non two lines.</p>",
    );
    expect(html).toContain("<ul>\n<li>one</li>\n<li>two <code>x</code></li>\n</ul>");
    expect(html).toContain('<ol start="3">');
    expect(html).toContain("<pre><code class=\"language-ts\">const a = '&lt;b&gt;';");
    expect(html).toContain("<blockquote>\n<p>quoted</p>\n</blockquote>");
    expect(html).toContain("<th>a</th>");
    expect(html).toContain("<td>2</td>");
  });

  it("escapes raw HTML instead of passing it through", () => {
    const html = renderMarkdown(
      "<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\ninline <b onclick=x>b</b>",
    );
    expect(html).not.toMatch(/<script|<img|<b /);
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(html).toContain("&lt;b onclick=x&gt;b&lt;/b&gt;");
  });

  it("makes links of http(s), mailto and same-site URLs, opened safely", () => {
    const html = renderMarkdown(
      "[docs](https://example.com/a), https://example.org, [spec](/specs/1), [top](#top), <dev@example.com>",
    );
    expect(html).toContain(
      '<a href="https://example.com/a" rel="noopener noreferrer" target="_blank">docs</a>',
    );
    expect(html).toContain(
      '<a href="https://example.org" rel="noopener noreferrer" target="_blank">https://example.org</a>',
    );
    expect(html).toContain('<a href="/specs/1" rel="noopener noreferrer">spec</a>');
    expect(html).toContain('<a href="#top" rel="noopener noreferrer">top</a>');
    expect(html).toContain('<a href="mailto:dev@example.com" rel="noopener noreferrer">');
  });

  it("keeps script and data links as text, however they are written", () => {
    for (const source of [
      "[click](javascript:alert(1))",
      "[click](JaVaScRiPt:alert(1))",
      "[click](&#106;avascript:alert(1))",
      "[click](data:text/html,x)",
      "<javascript:alert(1)>",
      "[click][r]\n\n[r]: javascript:alert(1)",
    ]) {
      const html = renderMarkdown(source);
      expect(html, source).not.toMatch(/<a |<img /);
      expect(html, source).not.toMatch(/href=/);
    }
    expect(renderMarkdown("[click](javascript:alert(1))")).toContain("click");
    // no images: they would load whatever the text points at (the URL stays a plain link)
    expect(renderMarkdown("![pic](https://example.com/tracker.png)")).not.toContain("<img");
  });

  it("treats an unclosed fence as code to the end", () => {
    expect(renderMarkdown("```\nline 1\nline 2")).toBe("<pre><code>line 1\nline 2</code></pre>\n");
  });

  it("checks links the way the old reader did", () => {
    expect(safeHref("JaVaScRiPt:alert(1)")).toBeNull();
    expect(safeHref("data:text/html,x")).toBeNull();
    expect(safeHref("vbscript:x")).toBeNull();
    expect(safeHref(" https://example.com ")).toBe("https://example.com");
    expect(safeHref("mailto:a@example.com")).toBe("mailto:a@example.com");
    expect(safeHref("/specs/1")).toBe("/specs/1");
    expect(safeHref("#top")).toBe("#top");
    expect(safeHref("docs/readme")).toBe("docs/readme");
    expect(isExternalHref("https://example.com")).toBe(true);
    expect(isExternalHref("//example.com/x")).toBe(true);
    expect(isExternalHref("/workers/1")).toBe(false);
    expect(isExternalHref("mailto:a@example.com")).toBe(false);
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
