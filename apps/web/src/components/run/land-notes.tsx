import { For, type JSX, Show } from "solid-js";
import type { RunConflicts } from "../../lib/types.ts";
import type { Refusal } from "./landing.ts";

/** Overlaps with the base branch and other runs, with the files, before a merge. */
export function ConflictWarning(props: {
  lines: string[];
  conflicts: RunConflicts | undefined;
}): JSX.Element {
  const files = () => {
    const c = props.conflicts;
    return c ? [...new Set([...c.base, ...c.runs.flatMap((r) => r.files)])] : [];
  };
  return (
    <Show when={props.lines.length > 0}>
      <div
        role="status"
        data-testid="conflict-warning"
        class="rounded-md border border-amber-400/40 bg-amber-400/5 px-3 py-2 font-mono text-xs text-amber-300"
      >
        <For each={props.lines}>{(line) => <p>⚠ {line}</p>}</For>
        <ul class="mt-1 list-inside list-disc text-[11px] break-all text-amber-200/80">
          <For each={files()}>{(file) => <li>{file}</li>}</For>
        </ul>
      </div>
    </Show>
  );
}

/** Why the server refused to land the run, and the files concerned. */
export function RefusalNote(props: { refusal: Refusal; onDismiss: () => void }): JSX.Element {
  return (
    <div
      role="alert"
      data-testid="merge-refusal"
      data-reason={props.refusal.reason ?? "unknown"}
      class="rounded-md border border-red-400/50 bg-red-400/5 px-3 py-2 font-mono text-xs text-red-300"
    >
      <div class="flex items-start gap-2">
        <p class="min-w-0 flex-1 break-words">{props.refusal.message}</p>
        <button
          type="button"
          class="shrink-0 text-red-300/80 hover:text-red-200"
          aria-label="Dismiss the merge error"
          onClick={() => props.onDismiss()}
        >
          ✕
        </button>
      </div>
      <Show when={props.refusal.files.length > 0}>
        <ul
          class="mt-1 list-inside list-disc text-[11px] break-all text-red-200/90"
          aria-label="Files concerned"
          data-testid="refusal-files"
        >
          <For each={props.refusal.files}>{(file) => <li>{file}</li>}</For>
        </ul>
      </Show>
    </div>
  );
}
