import "diff2html/bundles/css/diff2html.min.css";
import "highlight.js/styles/github-dark.css";
import "./diff.css";
import { ColorSchemeType } from "diff2html/lib-esm/types.js";
import { Diff2HtmlUI, type Diff2HtmlUIConfig } from "diff2html/lib-esm/ui/js/diff2html-ui-base.js";
import { createEffect, type JSX, onCleanup } from "solid-js";
import { hljs } from "./highlighter.ts";

/** How diff2html draws a patch: our dark palette, no file list or sticky headers of its own. */
function configFor(sideBySide: boolean): Diff2HtmlUIConfig {
  return {
    outputFormat: sideBySide ? "side-by-side" : "line-by-line",
    colorScheme: ColorSchemeType.DARK,
    drawFileList: false,
    fileListToggle: false,
    fileContentToggle: true,
    stickyFileHeaders: false,
    synchronisedScroll: true,
    smartSelection: true,
    highlight: true,
    matching: "lines",
  };
}

/**
 * One file's unified diff, rendered by diff2html with syntax colouring (highlight.js). Drawn
 * again when the patch or the layout changes; the rendered HTML is diff2html's, escaped by it.
 */
export function DiffFilePatch(props: { patch: string; sideBySide: boolean }): JSX.Element {
  let box: HTMLDivElement | undefined;
  createEffect(() => {
    const patch = props.patch;
    const config = configFor(props.sideBySide);
    if (!box) return;
    new Diff2HtmlUI(box, patch, config, hljs).draw();
  });
  onCleanup(() => {
    if (box) box.replaceChildren();
  });
  return <div ref={box} class="run-diff min-w-0" data-testid="diff-patch" />;
}
