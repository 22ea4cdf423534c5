import { A, type RouteSectionProps } from "@solidjs/router";
import { createSignal, ErrorBoundary, type JSX } from "solid-js";
import { activeWorkerCount } from "../lib/live.ts";
import { notificationsSupported, notifyOn, toggleNotifications } from "../lib/notify.ts";
import { errorMessage } from "../lib/trpc.ts";
import { WorkersProvider } from "../lib/workers-context.ts";
import { Toaster } from "./toaster.tsx";

const linkClass =
  "rounded-md px-2.5 py-1.5 font-mono text-xs text-zinc-400 transition-colors hover:bg-panel-2 hover:text-zinc-100";
const activeClass = "bg-panel-2 text-accent! ring-1 ring-line-strong";

export function Layout(props: RouteSectionProps): JSX.Element {
  return (
    <WorkersProvider>
      <Shell>{props.children}</Shell>
    </WorkersProvider>
  );
}

/** "Notify me": opt in to a browser notification when a run ends (asks permission on click). */
function NotifyToggle(): JSX.Element {
  const [busy, setBusy] = createSignal(false);
  const toggle = async () => {
    setBusy(true);
    try {
      await toggleNotifications();
    } finally {
      setBusy(false);
    }
  };
  const title = () =>
    !notificationsSupported()
      ? "This browser cannot show notifications"
      : notifyOn()
        ? "You get a notification when a run ends (click to stop)"
        : "Get a browser notification when a run ends";
  return (
    <button
      type="button"
      class={`${linkClass} inline-flex cursor-pointer items-center gap-1.5 disabled:cursor-wait`}
      classList={{ "text-accent!": notifyOn() }}
      data-testid="notify-toggle"
      aria-pressed={notifyOn()}
      aria-label="Notify me"
      title={title()}
      disabled={busy()}
      onClick={() => void toggle()}
    >
      <svg
        aria-hidden="true"
        viewBox="0 0 16 16"
        class="h-3.5 w-3.5"
        fill={notifyOn() ? "currentColor" : "none"}
        stroke="currentColor"
        stroke-width="1.4"
        stroke-linejoin="round"
      >
        <path d="M8 2a4 4 0 0 0-4 4v2.5L2.5 11h11L12 8.5V6a4 4 0 0 0-4-4Z" />
        <path d="M6.5 13a1.5 1.5 0 0 0 3 0" fill="none" />
      </svg>
      <span class="hidden sm:inline">Notify me</span>
    </button>
  );
}

function Shell(props: { children?: JSX.Element }): JSX.Element {
  return (
    <div class="flex min-h-dvh flex-col">
      <a
        href="#main"
        class="sr-only rounded bg-accent px-3 py-2 font-mono text-xs text-ink focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:z-50"
      >
        Skip to content
      </a>
      <header class="sticky top-0 z-30 border-b border-line bg-ink/90 backdrop-blur">
        <nav
          aria-label="Main"
          class="mx-auto flex h-12 max-w-6xl items-center gap-1 px-3 sm:gap-2 sm:px-6"
        >
          <A
            href="/"
            class="mr-auto flex items-center gap-2 rounded-md px-1 font-mono text-sm font-semibold text-zinc-100"
          >
            <span aria-hidden="true" class="text-accent">
              ❯_
            </span>
            glm-workers
          </A>
          <A href="/" end class={linkClass} activeClass={activeClass}>
            Projects
          </A>
          <A href="/workers" class={linkClass} activeClass={activeClass} data-testid="nav-workers">
            Workers (
            <span class={activeWorkerCount() > 0 ? "text-accent" : ""}>{activeWorkerCount()}</span>)
          </A>
          <NotifyToggle />
        </nav>
      </header>
      <main id="main" class="mx-auto w-full max-w-6xl flex-1 px-3 py-6 sm:px-6 sm:py-8">
        <ErrorBoundary
          fallback={(err, reset) => (
            <div role="alert" class="panel p-4">
              <p class="font-mono text-sm text-red-300">
                Something broke on this page: {errorMessage(err)}
              </p>
              <button type="button" class="btn mt-3" onClick={reset}>
                Try again
              </button>
            </div>
          )}
        >
          {props.children}
        </ErrorBoundary>
      </main>
      <footer class="border-t border-line py-3 text-center font-mono text-[11px] text-zinc-600">
        local-first · 127.0.0.1
      </footer>
      <Toaster />
    </div>
  );
}
