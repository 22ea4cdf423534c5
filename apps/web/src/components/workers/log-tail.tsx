import { createEffect, createSignal, For, type JSX, on, Show } from "solid-js";
import type { WorkerLog } from "../../lib/worker-log.ts";

const levelTone: Record<string, string> = {
  error: "text-red-300",
  warn: "text-amber-300",
  debug: "text-zinc-600",
  tool: "text-sky-300/90",
};

function clock(at: number): string {
  return new Date(at).toLocaleTimeString(undefined, { hour12: false });
}

/**
 * A worker's log, newest at the bottom. It follows new lines until the user scrolls up, and
 * offers a button to follow again.
 */
export function LogTail(props: { log: WorkerLog; label: string; class?: string }): JSX.Element {
  let box: HTMLDivElement | undefined;
  const [following, setFollowing] = createSignal(true);
  const atBottom = () => !box || box.scrollHeight - box.scrollTop - box.clientHeight < 24;
  const toBottom = () => {
    if (box) box.scrollTop = box.scrollHeight;
  };

  createEffect(
    on(
      () => props.log.lines().length && props.log.lines().at(-1)?.id,
      () => {
        if (following()) queueMicrotask(toBottom);
      },
    ),
  );

  return (
    <div class={`relative ${props.class ?? ""}`}>
      <div
        ref={box}
        role="log"
        aria-label={props.label}
        aria-live="off"
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard to scroll it.
        tabIndex={0}
        data-testid="worker-log"
        data-following={following() ? "true" : "false"}
        class="h-48 overflow-y-auto rounded-md border border-line bg-ink p-2 font-mono text-[11px] leading-relaxed text-zinc-400"
        onScroll={() => setFollowing(atBottom())}
      >
        <Show
          when={props.log.lines().length > 0}
          fallback={
            <p class="text-zinc-600">
              {props.log.loading() ? "loading log…" : (props.log.error() ?? "no log lines yet")}
            </p>
          }
        >
          <For each={props.log.lines()}>
            {(line) => (
              <div class="flex gap-2" data-testid="log-line">
                <span class="shrink-0 text-zinc-600">{clock(line.at)}</span>
                <span class={`min-w-0 break-words ${levelTone[line.level] ?? ""}`}>
                  {line.text}
                </span>
              </div>
            )}
          </For>
        </Show>
      </div>
      <Show when={!following()}>
        <button
          type="button"
          class="btn absolute right-3 bottom-2 py-0.5 text-[11px]"
          onClick={() => {
            setFollowing(true);
            toBottom();
          }}
        >
          ↓ follow
        </button>
      </Show>
    </div>
  );
}
