import { createMemo, For, type JSX, Match, Switch } from "solid-js";
import { Dynamic } from "solid-js/web";
import { type Block, type Inline, parseMarkdown } from "../lib/markdown.ts";

function InlineNodes(props: { nodes: Inline[] }): JSX.Element {
  return (
    <For each={props.nodes}>
      {(node) => (
        <Switch>
          <Match when={node.type === "text" && node}>{(n) => n().text}</Match>
          <Match when={node.type === "code" && node}>
            {(n) => <code class="md-code">{n().text}</code>}
          </Match>
          <Match when={node.type === "strong" && node}>
            {(n) => (
              <strong class="font-semibold text-zinc-100">
                <InlineNodes nodes={n().children} />
              </strong>
            )}
          </Match>
          <Match when={node.type === "em" && node}>
            {(n) => (
              <em>
                <InlineNodes nodes={n().children} />
              </em>
            )}
          </Match>
          <Match when={node.type === "link" && node}>
            {(n) => (
              <a
                class="text-accent underline decoration-dotted underline-offset-2 hover:decoration-solid"
                href={n().href}
                target="_blank"
                rel="noopener noreferrer"
              >
                <InlineNodes nodes={n().children} />
              </a>
            )}
          </Match>
        </Switch>
      )}
    </For>
  );
}

const headingClass: Record<number, string> = {
  1: "text-xl font-semibold text-zinc-50",
  2: "text-lg font-semibold text-zinc-100",
  3: "text-base font-semibold text-zinc-100",
};

function BlockNode(props: { block: Block }): JSX.Element {
  return (
    <Switch>
      <Match when={props.block.type === "heading" && props.block}>
        {(b) => (
          <Dynamic
            component={`h${b().level}`}
            class={`${headingClass[b().level] ?? "text-sm font-semibold text-zinc-200"} mt-4 first:mt-0`}
          >
            <InlineNodes nodes={b().children} />
          </Dynamic>
        )}
      </Match>
      <Match when={props.block.type === "paragraph" && props.block}>
        {(b) => (
          <p>
            <InlineNodes nodes={b().children} />
          </p>
        )}
      </Match>
      <Match when={props.block.type === "code" && props.block}>
        {(b) => (
          <pre class="md-pre" data-lang={b().lang || undefined}>
            <code>{b().text}</code>
          </pre>
        )}
      </Match>
      <Match when={props.block.type === "list" && props.block}>
        {(b) => (
          <Dynamic
            component={b().ordered ? "ol" : "ul"}
            start={b().ordered && b().start !== 1 ? b().start : undefined}
            class={`${b().ordered ? "list-decimal" : "list-disc"} space-y-1 pl-6 marker:text-accent/70`}
          >
            <For each={b().items}>
              {(item) => (
                <li>
                  <InlineNodes nodes={item} />
                </li>
              )}
            </For>
          </Dynamic>
        )}
      </Match>
      <Match when={props.block.type === "quote" && props.block}>
        {(b) => (
          <blockquote class="border-l-2 border-accent/50 pl-3 text-zinc-400">
            <For each={b().blocks}>{(inner) => <BlockNode block={inner} />}</For>
          </blockquote>
        )}
      </Match>
      <Match when={props.block.type === "rule"}>
        <hr class="border-line" />
      </Match>
    </Switch>
  );
}

/** Renders markdown as DOM nodes (text is always escaped; no raw HTML). */
export function Markdown(props: { source: string; class?: string }): JSX.Element {
  const blocks = createMemo(() => parseMarkdown(props.source));
  return (
    <div class={`markdown space-y-3 text-sm leading-relaxed text-zinc-300 ${props.class ?? ""}`}>
      <For each={blocks()}>{(block) => <BlockNode block={block} />}</For>
    </div>
  );
}
