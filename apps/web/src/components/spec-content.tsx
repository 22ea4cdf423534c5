import { updateSpecInput } from "@glm-workers/core/schemas";
import { createSignal, type JSX, Show } from "solid-js";
import { validateWith } from "../lib/forms.ts";
import { pushToast } from "../lib/toast.ts";
import { errorMessage, trpc } from "../lib/trpc.ts";
import type { Spec } from "../lib/types.ts";
import { Markdown } from "./markdown.tsx";
import { EmptyState, ErrorNote } from "./ui.tsx";

/** The spec's markdown, rendered, with an inline editor while the spec is not running. */
export function SpecContent(props: {
  spec: Spec;
  locked: boolean;
  onSaved: (spec: Spec) => void;
}): JSX.Element {
  const [editing, setEditing] = createSignal(false);
  const [draft, setDraft] = createSignal("");
  const [error, setError] = createSignal<string | null>(null);
  const [busy, setBusy] = createSignal(false);
  let editButton: HTMLButtonElement | undefined;

  const start = () => {
    setDraft(props.spec.content);
    setError(null);
    setEditing(true);
    queueMicrotask(() => document.getElementById("spec-content-editor")?.focus());
  };
  const stop = () => {
    setEditing(false);
    queueMicrotask(() => editButton?.focus());
  };
  const save = async (event: SubmitEvent) => {
    event.preventDefault();
    const input = { content: draft() };
    const local = validateWith(updateSpecInput, input);
    if (local.content) {
      setError(`Content ${local.content}`);
      return;
    }
    setBusy(true);
    try {
      const next = await trpc.specs.update.mutate({ id: props.spec.id, ...input });
      props.onSaved(next);
      pushToast("success", "Spec saved");
      stop();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="spec-content-heading" class="min-w-0 space-y-3">
      <div class="flex items-center justify-between gap-2">
        <h2 id="spec-content-heading" class="font-mono text-sm font-semibold text-zinc-100">
          Spec
        </h2>
        <Show when={!editing()}>
          <button
            type="button"
            ref={editButton}
            class="btn"
            onClick={start}
            disabled={props.locked}
            title={props.locked ? "The spec is running" : undefined}
          >
            ✎ Edit
          </button>
        </Show>
      </div>
      <Show
        when={editing()}
        fallback={
          <div class="panel p-4" data-testid="spec-content">
            <Show
              when={props.spec.content.trim()}
              fallback={<EmptyState title="This spec has no content yet" />}
            >
              <Markdown source={props.spec.content} />
            </Show>
          </div>
        }
      >
        <form
          class="panel space-y-3 p-3"
          onSubmit={save}
          onKeyDown={(e) => e.key === "Escape" && stop()}
        >
          <label class="sr-only" for="spec-content-editor">
            Spec markdown
          </label>
          <textarea
            id="spec-content-editor"
            class="input min-h-72 font-mono text-xs leading-relaxed"
            rows={16}
            value={draft()}
            onInput={(e) => setDraft(e.currentTarget.value)}
          />
          <ErrorNote message={error()} />
          <div class="flex gap-2">
            <button type="submit" class="btn btn-primary" disabled={busy()}>
              {busy() ? "saving…" : "Save"}
            </button>
            <button type="button" class="btn" onClick={stop}>
              Cancel
            </button>
          </div>
        </form>
      </Show>
    </section>
  );
}
