import { createSignal, type JSX, onCleanup, Show } from "solid-js";
import type { ChunkDraft } from "../lib/chunks-store.ts";
import type { Chunk, ChunkUsage } from "../lib/types.ts";
import { Badge } from "./ui.tsx";
import { UsageLine } from "./usage.tsx";

export interface ChunkItemProps {
  chunk: Chunk;
  index: number;
  count: number;
  locked: boolean;
  /** The chunk's model usage per step (over every run), if it has any. */
  usage?: ChunkUsage | undefined;
  /** Positions (1-based) of the chunks this one waits for. */
  dependsOn: readonly number[];
  onMove: (toIndex: number) => void;
  onSave: (patch: ChunkDraft) => Promise<boolean>;
  onDelete: () => void;
}

/** One chunk: title, description, statuses, and its controls (move, edit inline, delete). */
export function ChunkItem(props: ChunkItemProps): JSX.Element {
  const [editing, setEditing] = createSignal(false);
  const [title, setTitle] = createSignal("");
  const [description, setDescription] = createSignal("");
  const [titleError, setTitleError] = createSignal<string | null>(null);
  const [confirmDelete, setConfirmDelete] = createSignal(false);
  let confirmTimer: ReturnType<typeof setTimeout> | undefined;
  let editButton: HTMLButtonElement | undefined;
  onCleanup(() => clearTimeout(confirmTimer));

  const pending = () => props.chunk.id.startsWith("tmp-");
  const disabled = () => props.locked || pending();

  const startEdit = () => {
    setTitle(props.chunk.title);
    setDescription(props.chunk.description);
    setTitleError(null);
    setEditing(true);
    queueMicrotask(() => document.getElementById(`chunk-title-${props.chunk.id}`)?.focus());
  };
  const cancel = () => {
    setEditing(false);
    queueMicrotask(() => editButton?.focus());
  };
  const save = async (event: SubmitEvent) => {
    event.preventDefault();
    const next = { title: title().trim(), description: description().trim() };
    if (!next.title) {
      setTitleError("Title is required");
      return;
    }
    setEditing(false);
    queueMicrotask(() => editButton?.focus());
    await props.onSave(next);
  };
  const askDelete = () => {
    if (confirmDelete()) {
      clearTimeout(confirmTimer);
      props.onDelete();
      return;
    }
    setConfirmDelete(true);
    confirmTimer = setTimeout(() => setConfirmDelete(false), 4000);
  };

  return (
    <div class="flex gap-2 p-3">
      <span
        aria-hidden="true"
        class={`mt-0.5 select-none font-mono text-xs ${disabled() ? "text-zinc-700" : "cursor-grab text-zinc-500"}`}
        title={disabled() ? undefined : "Drag to reorder"}
      >
        ⋮⋮
      </span>
      <div class="min-w-0 flex-1">
        <Show
          when={editing()}
          fallback={
            <>
              <div class="flex flex-wrap items-center gap-x-2 gap-y-1">
                <span class="font-mono text-xs text-accent/80">#{props.index + 1}</span>
                <h3
                  class="min-w-0 flex-1 font-mono text-sm break-words text-zinc-100"
                  data-testid="chunk-title"
                >
                  {props.chunk.title}
                </h3>
                <Badge status={props.chunk.status} />
                <Show when={props.chunk.reviewStatus}>
                  {(review) => (
                    <Badge
                      status={review()}
                      label={`review: ${review().replace("_", " ")}`}
                      title={props.chunk.reviewFeedback ?? undefined}
                    />
                  )}
                </Show>
              </div>
              <Show when={props.chunk.description}>
                <p class="mt-1 text-sm whitespace-pre-wrap break-words text-zinc-400">
                  {props.chunk.description}
                </p>
              </Show>
              <Show when={props.dependsOn.length > 0}>
                <p class="mt-1 font-mono text-[11px] text-zinc-500">
                  after {props.dependsOn.map((n) => `#${n}`).join(", ")}
                </p>
              </Show>
              <Show when={props.usage?.executing || props.usage?.reviewing}>
                <p class="mt-1 flex flex-col gap-0.5" data-testid="chunk-usage">
                  <Show when={props.usage?.executing}>
                    {(usage) => (
                      <UsageLine usage={usage()} label="exec" testId="chunk-usage-executing" />
                    )}
                  </Show>
                  <Show when={props.usage?.reviewing}>
                    {(usage) => (
                      <UsageLine usage={usage()} label="review" testId="chunk-usage-reviewing" />
                    )}
                  </Show>
                </p>
              </Show>
              <Show when={props.chunk.error}>
                <p class="mt-1 font-mono text-xs break-words text-red-300">
                  error: {props.chunk.error}
                </p>
              </Show>
              <Show when={props.chunk.reviewFeedback && props.chunk.reviewStatus !== "pass"}>
                <p class="mt-1 font-mono text-xs break-words text-amber-300/90">
                  review: {props.chunk.reviewFeedback}
                </p>
              </Show>
            </>
          }
        >
          <form
            class="space-y-2"
            onSubmit={save}
            onKeyDown={(e) => e.key === "Escape" && cancel()}
            noValidate
          >
            <label class="sr-only" for={`chunk-title-${props.chunk.id}`}>
              Chunk title
            </label>
            <input
              id={`chunk-title-${props.chunk.id}`}
              class="input py-1.5 font-mono"
              value={title()}
              onInput={(e) => setTitle(e.currentTarget.value)}
              aria-invalid={titleError() ? true : undefined}
            />
            <Show when={titleError()}>
              <p role="alert" class="font-mono text-xs text-red-300">
                {titleError()}
              </p>
            </Show>
            <label class="sr-only" for={`chunk-desc-${props.chunk.id}`}>
              Chunk description
            </label>
            <textarea
              id={`chunk-desc-${props.chunk.id}`}
              class="input py-1.5 text-xs"
              rows={3}
              value={description()}
              onInput={(e) => setDescription(e.currentTarget.value)}
            />
            <div class="flex gap-2">
              <button type="submit" class="btn btn-primary">
                Save
              </button>
              <button type="button" class="btn" onClick={cancel}>
                Cancel
              </button>
            </div>
          </form>
        </Show>
      </div>
      <Show when={!editing()}>
        <div class="flex shrink-0 flex-wrap items-start justify-end gap-1 self-start max-sm:w-[4.25rem]">
          <button
            type="button"
            class="btn btn-icon"
            data-move="up"
            aria-label={`Move "${props.chunk.title}" up`}
            disabled={disabled() || props.index === 0}
            onClick={() => props.onMove(props.index - 1)}
          >
            ↑
          </button>
          <button
            type="button"
            class="btn btn-icon"
            data-move="down"
            aria-label={`Move "${props.chunk.title}" down`}
            disabled={disabled() || props.index === props.count - 1}
            onClick={() => props.onMove(props.index + 1)}
          >
            ↓
          </button>
          <button
            type="button"
            ref={editButton}
            class="btn btn-icon"
            aria-label={`Edit "${props.chunk.title}"`}
            title="Edit"
            disabled={disabled()}
            onClick={startEdit}
          >
            ✎
          </button>
          <button
            type="button"
            class={`btn btn-danger ${confirmDelete() ? "border-red-400/70 px-2 text-red-300" : "btn-icon"}`}
            aria-label={
              confirmDelete()
                ? `Confirm delete "${props.chunk.title}"`
                : `Delete "${props.chunk.title}"`
            }
            title="Delete"
            disabled={disabled()}
            onClick={askDelete}
            onBlur={() => setConfirmDelete(false)}
          >
            {confirmDelete() ? "sure?" : "✕"}
          </button>
        </div>
      </Show>
    </div>
  );
}
