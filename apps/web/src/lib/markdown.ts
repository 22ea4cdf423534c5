import markdownit, { type MarkdownIt } from "markdown-it";

/**
 * Markdown of specs, agent output and review feedback, rendered by markdown-it (CommonMark with
 * tables, strikethrough and bare-URL links). Raw HTML is off, so a `<script>` or an `<img
 * onerror>` in the text comes out escaped, and every URL goes through `safeHref`: a link the
 * reader could not trust stays plain text. The output is an HTML string meant for `innerHTML`.
 */

/** Only links that cannot run script: http(s), mailto, and same-site paths or anchors. */
export function safeHref(raw: string): string | null {
  const href = raw.trim();
  if (/^(https?:|mailto:)/i.test(href)) return href;
  // No scheme at all: a path, an anchor, a query or a relative link on this site.
  if (/^[/#?.]/.test(href) || !/^[a-z][a-z0-9+.-]*:/i.test(href)) return href;
  return null;
}

/** A link that leaves the app (opened in a new tab): absolute http(s) or protocol-relative. */
export function isExternalHref(href: string): boolean {
  return /^(https?:)?\/\//i.test(href.trim());
}

function createRenderer(): MarkdownIt {
  const md = markdownit("default", {
    html: false,
    linkify: true,
    typographer: false,
    breaks: false,
  });
  // markdown-it hands over the URL after normalising it (percent-encoding), so a scheme
  // hidden with entities or odd case is already plain here.
  md.validateLink = (url) => safeHref(url) !== null;
  // Images would load whatever the text points at; their alt text stays as text.
  md.disable("image");

  md.renderer.rules.link_open = (tokens, idx, options, _env, self) => {
    const token = tokens[idx];
    if (token) {
      token.attrSet("rel", "noopener noreferrer");
      if (isExternalHref(String(token.attrGet("href") ?? ""))) token.attrSet("target", "_blank");
    }
    return self.renderToken(tokens, idx, options);
  };
  return md;
}

let renderer: MarkdownIt | undefined;

/** The HTML of `source` (safe for `innerHTML`: no raw HTML, escaped text, checked links). */
export function renderMarkdown(source: string): string {
  renderer ??= createRenderer();
  return renderer.render(source);
}
