import { A } from "@solidjs/router";
import { createSignal, For, type JSX, Show } from "solid-js";
import { formatDuration } from "../../lib/clock.ts";
import { dropIndex } from "../../lib/reorder.ts";
import type { QueueItem, WaitReason } from "../../lib/types.ts";
import type { WorkersStore } from "../../lib/workers-store.ts";
import { EmptyState } from "../ui.tsx";

const REASON_LABEL: Record<Exclude<WaitReason, null>, string> = {
  no_slot: "no free slot",
  project_busy: "project busy",
  memory: "not enough memory",
  paused_queue: "queue paused",
  quota: "waiting for quota",
};

/** Why an item waits, in words (`no free slot: all worker slots in use (2/2)`). */
export function waitText(item: Pick<QueueItem, "waitReason" | "waitDetail">): string {
  if (!item.waitReason) return "about to start";
  const label = REASON_LABEL[item.waitReason];
  return item.waitDetail ? `${label}: ${item.waitDetail}` : label;
}

interface QueueListProps {
  store: WorkersStore;
  now: number;
}

/** The waiting specs in start order: drag (or ↑ ↓) to reorder, edit priority, remove. */
export function QueueList(props: QueueListProps): JSX.Element {
  const [dragId, setDragId] = createSignal<string | null>(null);
  const [slot, setSlot] = createSignal<number | null>(null);
  let listRef: HTMLOListElement | undefined;
  const queue = () => props.store.state.queue;

  const move = (id: string, to: number, direction: "up" | "down") => {
    void props.store.move(id, to);
    queueMicrotask(() => {
      const item = listRef?.querySelector<HTMLElement>(`[data-queue-id="${CSS.escape(id)}"]`);
      const preferred = item?.querySelector<HTMLButtonElement>(`button[data-move="${direction}"]`);
      const fallback = item?.querySelector<HTMLButtonElement>("button[data-move]:not(:disabled)");
      (preferred && !preferred.disabled ? preferred : fallback)?.focus();
    });
  };

  const onDragOver = (event: DragEvent, index: number) => {
    if (!dragId()) return;
    event.preventDefault();
    if (event.dataTransfer) event.dataTransfer.dropEffect = "move";
    const box = (event.currentTarget as HTMLElement).getBoundingClientRect();
    setSlot(event.clientY > box.top + box.height / 2 ? index + 1 : index);
  };

  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    const id = dragId();
    const target = slot();
    setDragId(null);
    setSlot(null);
    if (!id || target === null) return;
    const from = queue().findIndex((q) => q.id === id);
    if (from >= 0) void props.store.move(id, dropIndex(from, target));
  };

  return (
    <Show
      when={queue().length > 0}
      fallback={
        <EmptyState title="The queue is empty">
          Specs started while every slot is busy wait here, in priority order.
        </EmptyState>
      }
    >
      <ol
        ref={listRef}
        class="divide-y divide-line overflow-hidden rounded-lg border border-line bg-panel"
        data-testid="queue-list"
        onDragLeave={(e) => {
          if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setSlot(null);
        }}
      >
        <For each={queue()}>
          {(item, index) => (
            <li
              class="relative flex flex-wrap items-center gap-x-3 gap-y-2 p-3 transition-colors"
              classList={{ "opacity-40 bg-panel-2": dragId() === item.id }}
              data-testid="queue-item"
              data-queue-id={item.id}
              data-spec-id={item.specId}
              draggable={true}
              onDragStart={(e) => {
                setDragId(item.id);
                if (e.dataTransfer) {
                  e.dataTransfer.effectAllowed = "move";
                  e.dataTransfer.setData("text/plain", item.id);
                }
              }}
              onDragEnd={() => {
                setDragId(null);
                setSlot(null);
              }}
              onDragOver={(e) => onDragOver(e, index())}
              onDrop={onDrop}
            >
              <Show when={slot() === index()}>
                <span aria-hidden="true" class="absolute inset-x-0 top-0 h-0.5 bg-accent" />
              </Show>
              <Show when={slot() === index() + 1 && index() === queue().length - 1}>
                <span aria-hidden="true" class="absolute inset-x-0 bottom-0 h-0.5 bg-accent" />
              </Show>
              <span
                aria-hidden="true"
                class="cursor-grab font-mono text-xs text-zinc-500 select-none"
                title="Drag to reorder"
              >
                ⋮⋮
              </span>
              <span class="w-7 font-mono text-xs text-accent/80" data-testid="queue-position">
                #{index() + 1}
              </span>
              <div class="min-w-0 flex-1 basis-48">
                <p class="font-mono text-sm break-words text-zinc-100" data-testid="queue-title">
                  <A href={`/specs/${item.specId}`} class="hover:text-accent">
                    {item.specTitle}
                  </A>
                </p>
                <p class="font-mono text-[11px] break-words text-zinc-500">
                  {item.projectName} · waiting {formatDuration(props.now - item.addedAt)} ·{" "}
                  <span class="text-amber-300/90" data-testid="queue-reason">
                    {waitText(item)}
                  </span>
                  <Show when={item.model}>
                    {(model) => (
                      <span data-testid="queue-model" title="model for this run">
                        {" "}
                        · {model()}
                      </span>
                    )}
                  </Show>
                </p>
              </div>
              <div class="flex items-center gap-1">
                <label class="font-mono text-[11px] text-zinc-500" for={`priority-${item.id}`}>
                  prio
                </label>
                <input
                  id={`priority-${item.id}`}
                  type="number"
                  step="1"
                  min="-1000"
                  max="1000"
                  class="input w-20 px-2 py-1 font-mono text-xs"
                  data-testid="queue-priority"
                  aria-label={`Priority of "${item.specTitle}"`}
                  value={item.priority}
                  onChange={(e) => {
                    const value = Number(e.currentTarget.value);
                    if (!Number.isInteger(value) || value < -1000 || value > 1000) {
                      e.currentTarget.value = String(item.priority);
                      return;
                    }
                    if (value !== item.priority) void props.store.setPriority(item.id, value);
                  }}
                />
              </div>
              <div class="flex gap-1">
                <button
                  type="button"
                  class="btn btn-icon"
                  data-move="up"
                  aria-label={`Move "${item.specTitle}" up`}
                  disabled={index() === 0}
                  onClick={() => move(item.id, index() - 1, "up")}
                >
                  ↑
                </button>
                <button
                  type="button"
                  class="btn btn-icon"
                  data-move="down"
                  aria-label={`Move "${item.specTitle}" down`}
                  disabled={index() === queue().length - 1}
                  onClick={() => move(item.id, index() + 1, "down")}
                >
                  ↓
                </button>
                <button
                  type="button"
                  class="btn btn-icon btn-danger"
                  data-testid="queue-remove"
                  aria-label={`Remove "${item.specTitle}" from the queue`}
                  onClick={() => void props.store.remove(item.id)}
                >
                  ✕
                </button>
              </div>
            </li>
          )}
        </For>
      </ol>
      <Show when={(props.store.state.queueTotal ?? 0) > queue().length}>
        <p class="mt-2 font-mono text-xs text-zinc-500" data-testid="queue-more">
          + {(props.store.state.queueTotal ?? 0) - queue().length} more queued (showing the first{" "}
          {queue().length}; moves and priorities apply to the whole queue)
        </p>
      </Show>
    </Show>
  );
}
