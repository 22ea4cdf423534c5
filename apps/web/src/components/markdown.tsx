import { createMemo, type JSX } from "solid-js";
import { renderMarkdown } from "../lib/markdown.ts";

/**
 * Renders markdown (specs, agent output, review feedback). The HTML comes from markdown-it with
 * raw HTML off and only safe links (see `renderMarkdown`), so setting it as `innerHTML` cannot
 * run anything the text contains. Styled by the `.markdown` block of app.css.
 */
export function Markdown(props: { source: string; class?: string }): JSX.Element {
  const html = createMemo(() => renderMarkdown(props.source));
  return (
    <div
      class={`markdown text-sm leading-relaxed text-zinc-300 ${props.class ?? ""}`}
      innerHTML={html()}
    />
  );
}
