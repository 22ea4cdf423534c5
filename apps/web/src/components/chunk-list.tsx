import { createMemo, createSignal, For, type JSX, Show } from "solid-js";
import type { ChunksStore } from "../lib/chunks-store.ts";
import { dropIndex } from "../lib/reorder.ts";
import type { ChunkUsage } from "../lib/types.ts";
import { ChunkItem } from "./chunk-item.tsx";
import { EmptyState, ErrorNote } from "./ui.tsx";

interface DropTarget {
  /** Position in the list before the drag, where the dragged chunk would be inserted. */
  slot: number;
}

export function ChunkList(props: {
  store: ChunksStore;
  locked: boolean;
  /** A chunk's model usage per step, if it has any. */
  usage?: (chunkId: string) => ChunkUsage | undefined;
}): JSX.Element {
  const [dragId, setDragId] = createSignal<string | null>(null);
  const [target, setTarget] = createSignal<DropTarget | null>(null);
  const [newTitle, setNewTitle] = createSignal("");
  const [newDescription, setNewDescription] = createSignal("");
  const [addError, setAddError] = createSignal<string | null>(null);
  let listRef: HTMLOListElement | undefined;
  /** 1-based position of every chunk, for "after #n" dependency labels. */
  const positions = createMemo(() => new Map(props.store.chunks.map((c, i) => [c.id, i + 1])));

  const focusMoved = (id: string, direction: "up" | "down") => {
    queueMicrotask(() => {
      const item = listRef?.querySelector<HTMLElement>(`[data-chunk-id="${CSS.escape(id)}"]`);
      const preferred = item?.querySelector<HTMLButtonElement>(`button[data-move="${direction}"]`);
      const fallback = item?.querySelector<HTMLButtonElement>("button[data-move]:not(:disabled)");
      (preferred && !preferred.disabled ? preferred : fallback)?.focus();
    });
  };

  const move = (id: string, toIndex: number, direction?: "up" | "down") => {
    void props.store.move(id, toIndex);
    if (direction) focusMoved(id, direction);
  };

  const onDragOver = (event: DragEvent, index: number) => {
    if (!dragId()) return;
    event.preventDefault();
    if (event.dataTransfer) event.dataTransfer.dropEffect = "move";
    const box = (event.currentTarget as HTMLElement).getBoundingClientRect();
    const after = event.clientY > box.top + box.height / 2;
    setTarget({ slot: after ? index + 1 : index });
  };

  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    const id = dragId();
    const slot = target()?.slot;
    setDragId(null);
    setTarget(null);
    if (!id || slot === undefined) return;
    const from = props.store.chunks.findIndex((c) => c.id === id);
    if (from >= 0) move(id, dropIndex(from, slot));
  };

  const add = async (event: SubmitEvent) => {
    event.preventDefault();
    const title = newTitle().trim();
    if (!title) {
      setAddError("Title is required");
      return;
    }
    setAddError(null);
    setNewTitle("");
    setNewDescription("");
    const ok = await props.store.add({ title, description: newDescription().trim() });
    if (!ok) {
      setNewTitle(title);
    }
  };

  return (
    <section aria-labelledby="chunks-heading" class="space-y-3">
      <div class="flex items-baseline justify-between">
        <h2 id="chunks-heading" class="font-mono text-sm font-semibold text-zinc-100">
          Chunks <span class="text-zinc-500">({props.store.chunks.length})</span>
        </h2>
        <Show when={!props.locked && props.store.chunks.length > 1}>
          <span class="hidden font-mono text-[11px] text-zinc-600 sm:inline">
            drag ⋮⋮ or use ↑ ↓ to reorder
          </span>
        </Show>
      </div>
      <Show
        when={props.store.chunks.length > 0}
        fallback={
          <EmptyState title="No chunks yet">Add the first step the agent should take.</EmptyState>
        }
      >
        <ol
          ref={listRef}
          class="divide-y divide-line overflow-hidden rounded-lg border border-line bg-panel"
          data-testid="chunk-list"
          onDragLeave={(e) => {
            if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setTarget(null);
          }}
        >
          <For each={props.store.chunks}>
            {(chunk, index) => (
              <li
                data-chunk-id={chunk.id}
                data-testid="chunk-item"
                draggable={!props.locked && !chunk.id.startsWith("tmp-")}
                class="relative transition-colors"
                classList={{
                  "opacity-40": dragId() === chunk.id,
                  "bg-panel-2": dragId() === chunk.id,
                }}
                onDragStart={(e) => {
                  if (props.locked) return;
                  setDragId(chunk.id);
                  if (e.dataTransfer) {
                    e.dataTransfer.effectAllowed = "move";
                    e.dataTransfer.setData("text/plain", chunk.id);
                  }
                }}
                onDragEnd={() => {
                  setDragId(null);
                  setTarget(null);
                }}
                onDragOver={(e) => onDragOver(e, index())}
                onDrop={onDrop}
              >
                <Show when={target()?.slot === index()}>
                  <span aria-hidden="true" class="absolute inset-x-0 top-0 h-0.5 bg-accent" />
                </Show>
                <Show
                  when={target()?.slot === index() + 1 && index() === props.store.chunks.length - 1}
                >
                  <span aria-hidden="true" class="absolute inset-x-0 bottom-0 h-0.5 bg-accent" />
                </Show>
                <ChunkItem
                  chunk={chunk}
                  index={index()}
                  count={props.store.chunks.length}
                  locked={props.locked}
                  usage={props.usage?.(chunk.id)}
                  dependsOn={chunk.dependencies
                    .map((dep) => positions().get(dep))
                    .filter((n): n is number => n !== undefined)}
                  onMove={(to) => move(chunk.id, to, to < index() ? "up" : "down")}
                  onSave={(patch) => props.store.update(chunk.id, patch)}
                  onDelete={() => void props.store.remove(chunk.id)}
                />
              </li>
            )}
          </For>
        </ol>
      </Show>

      <Show when={!props.locked}>
        <form class="panel space-y-2 p-3" onSubmit={add} noValidate aria-label="Add chunk">
          <div class="flex flex-col gap-2 sm:flex-row">
            <div class="flex-1">
              <label class="sr-only" for="new-chunk-title">
                New chunk title
              </label>
              <input
                id="new-chunk-title"
                class="input py-1.5 font-mono"
                placeholder="new chunk title"
                value={newTitle()}
                onInput={(e) => setNewTitle(e.currentTarget.value)}
                aria-invalid={addError() ? true : undefined}
              />
            </div>
            <button type="submit" class="btn btn-primary shrink-0">
              + Add chunk
            </button>
          </div>
          <label class="sr-only" for="new-chunk-description">
            New chunk description
          </label>
          <textarea
            id="new-chunk-description"
            class="input py-1.5 text-xs"
            rows={2}
            placeholder="description (optional)"
            value={newDescription()}
            onInput={(e) => setNewDescription(e.currentTarget.value)}
          />
          <ErrorNote message={addError()} />
        </form>
      </Show>
    </section>
  );
}
