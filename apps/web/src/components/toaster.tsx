import { A } from "@solidjs/router";
import { For, type JSX, Show } from "solid-js";
import { dismissToast, toasts } from "../lib/toast.ts";

const tone = {
  error: "border-red-400/50 text-red-200",
  info: "border-line-strong text-zinc-200",
  success: "border-accent/60 text-accent",
} as const;

/** Toast messages, announced politely to screen readers; each can be dismissed. */
export function Toaster(): JSX.Element {
  return (
    <div
      class="pointer-events-none fixed right-3 bottom-3 left-3 z-50 flex flex-col items-end gap-2 sm:left-auto sm:w-96"
      aria-live="polite"
      aria-relevant="additions"
    >
      <For each={toasts()}>
        {(toast) => (
          <div
            role={toast.kind === "error" ? "alert" : "status"}
            data-testid={`toast-${toast.kind}`}
            class={`pointer-events-auto flex w-full items-start gap-3 rounded-md border bg-panel px-3 py-2 font-mono text-xs shadow-lg shadow-black/40 ${tone[toast.kind]}`}
          >
            <span class="flex-1 break-words">
              {toast.text}
              <Show when={toast.link}>
                {(link) => (
                  <>
                    {" "}
                    <A
                      href={link().href}
                      class="underline underline-offset-2 hover:text-accent-strong"
                      onClick={() => dismissToast(toast.id)}
                    >
                      {link().label}
                    </A>
                  </>
                )}
              </Show>
            </span>
            <button
              type="button"
              class="cursor-pointer rounded px-1 text-zinc-500 hover:text-zinc-200"
              aria-label="Dismiss message"
              onClick={() => dismissToast(toast.id)}
            >
              ×
            </button>
          </div>
        )}
      </For>
    </div>
  );
}
