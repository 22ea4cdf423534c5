import { createSpecInput } from "@glm-workers/core/schemas";
import { createSignal, Index, type JSX, Show } from "solid-js";
import { createStore } from "solid-js/store";
import { validateWith } from "../lib/forms.ts";
import { pushToast } from "../lib/toast.ts";
import { errorMessage, fieldErrors, trpc } from "../lib/trpc.ts";
import { Markdown } from "./markdown.tsx";
import { ModelSelect } from "./model-select.tsx";
import { ErrorNote, Field, withLabel } from "./ui.tsx";

interface DraftChunk {
  key: number;
  title: string;
  description: string;
}

const STARTER =
  "## Goal\n\nWhat should exist when this spec is done?\n\n## Notes\n\n- constraints, files, tests\n";

export function SpecForm(props: {
  projectId: string;
  onCreated: (specId: string) => void;
}): JSX.Element {
  const [title, setTitle] = createSignal("");
  const [content, setContent] = createSignal(STARTER);
  const [model, setModel] = createSignal<string | null>(null);
  const [preview, setPreview] = createSignal(false);
  const [drafts, setDrafts] = createStore<DraftChunk[]>([{ key: 1, title: "", description: "" }]);
  const [errors, setErrors] = createSignal<Record<string, string>>({});
  const [formError, setFormError] = createSignal<string | null>(null);
  const [busy, setBusy] = createSignal(false);
  let nextKey = 2;

  const addDraft = () => {
    setDrafts(drafts.length, { key: nextKey++, title: "", description: "" });
    queueMicrotask(() =>
      document.getElementById(`draft-chunk-title-${drafts.length - 1}`)?.focus(),
    );
  };
  const removeDraft = (index: number) => setDrafts((list) => list.filter((_, i) => i !== index));

  const chunkError = (index: number) => {
    const titleIssue = errors()[`chunks.${index}.title`];
    if (titleIssue) return withLabel(`Chunk ${index + 1} title`, titleIssue);
    const description = errors()[`chunks.${index}.description`];
    return description ? withLabel(`Chunk ${index + 1} description`, description) : null;
  };

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    // Fully blank rows are dropped; error paths are mapped back to the rows the user sees.
    const kept = drafts
      .map((draft, row) => ({ draft, row }))
      .filter(({ draft }) => draft.title.trim() || draft.description.trim());
    const chunks = kept.map(({ draft }) => ({
      title: draft.title.trim(),
      description: draft.description.trim(),
    }));
    const toRows = (map: Record<string, string>) =>
      Object.fromEntries(
        Object.entries(map).map(([key, message]) => [
          key.replace(/^chunks\.(\d+)/, (_, n: string) => `chunks.${kept[Number(n)]?.row ?? n}`),
          message,
        ]),
      );
    const chosen = model();
    const input = {
      title: title().trim(),
      content: content(),
      chunks,
      ...(chosen ? { model: chosen } : {}),
    };
    const local = toRows(validateWith(createSpecInput, input));
    setErrors(local);
    setFormError(null);
    if (Object.keys(local).length > 0) return;
    setBusy(true);
    try {
      const created = await trpc.specs.create.mutate({ projectId: props.projectId, ...input });
      pushToast("success", `Spec "${created.title}" created with ${created.chunks.length} chunks`);
      props.onCreated(created.id);
    } catch (err) {
      const byField = toRows(fieldErrors(err));
      setErrors(byField);
      setFormError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="space-y-4" onSubmit={submit} noValidate aria-label="Create spec">
      <Field
        label="Title"
        name="title"
        id="spec-title"
        value={title()}
        onValue={setTitle}
        error={errors().title}
        placeholder="Add rate limiting to the API"
        required
      />
      <div>
        <label class="field-label" for="spec-model">
          Model
        </label>
        <ModelSelect
          id="spec-model"
          value={model()}
          onChange={setModel}
          noneLabel={(d) => `server default (${d})`}
        />
        <ErrorNote message={errors().model ? withLabel("Model", errors().model ?? "") : null} />
      </div>
      <div>
        <div class="mb-1 flex items-center justify-between">
          <label class="field-label mb-0" for="spec-content">
            Spec (markdown)
          </label>
          <button
            type="button"
            class="rounded px-1.5 font-mono text-[11px] text-zinc-500 hover:text-accent"
            aria-pressed={preview()}
            onClick={() => setPreview((v) => !v)}
          >
            {preview() ? "edit" : "preview"}
          </button>
        </div>
        <Show
          when={preview()}
          fallback={
            <textarea
              id="spec-content"
              name="content"
              class="input font-mono text-xs leading-relaxed"
              rows={8}
              value={content()}
              onInput={(e) => setContent(e.currentTarget.value)}
              aria-invalid={errors().content ? true : undefined}
            />
          }
        >
          <div class="max-h-72 overflow-y-auto rounded-md border border-line bg-ink p-3">
            <Markdown source={content()} />
          </div>
        </Show>
        <ErrorNote
          message={errors().content ? withLabel("Content", errors().content ?? "") : null}
        />
      </div>

      <fieldset class="space-y-3">
        <legend class="field-label">Chunks ({drafts.length})</legend>
        <Index each={drafts}>
          {(draft, index) => (
            <div class="rounded-md border border-line bg-ink/60 p-2.5">
              <div class="flex items-center gap-2">
                <span class="font-mono text-[11px] text-accent/80">#{index + 1}</span>
                <label class="sr-only" for={`draft-chunk-title-${index}`}>
                  Chunk {index + 1} title
                </label>
                <input
                  id={`draft-chunk-title-${index}`}
                  class="input py-1.5"
                  placeholder="chunk title"
                  value={draft().title}
                  onInput={(e) => setDrafts(index, "title", e.currentTarget.value)}
                  aria-invalid={errors()[`chunks.${index}.title`] ? true : undefined}
                />
                <button
                  type="button"
                  class="btn btn-danger btn-icon shrink-0"
                  aria-label={`Remove chunk ${index + 1}`}
                  onClick={() => removeDraft(index)}
                >
                  ×
                </button>
              </div>
              <label class="sr-only" for={`draft-chunk-desc-${index}`}>
                Chunk {index + 1} description
              </label>
              <textarea
                id={`draft-chunk-desc-${index}`}
                class="input mt-2 py-1.5 text-xs"
                rows={2}
                placeholder="what the agent should do"
                value={draft().description}
                onInput={(e) => setDrafts(index, "description", e.currentTarget.value)}
              />
              <ErrorNote message={chunkError(index)} />
            </div>
          )}
        </Index>
        <button type="button" class="btn w-full" onClick={addDraft}>
          + Add chunk
        </button>
      </fieldset>
      <ErrorNote message={formError()} />
      <button type="submit" class="btn btn-primary w-full" disabled={busy()}>
        {busy() ? "creating…" : "Create spec"}
      </button>
    </form>
  );
}
