import { A } from "@solidjs/router";
import { createSignal, For, type JSX, Show } from "solid-js";
import { ConfirmDialog } from "../components/dialog.tsx";
import { EmptyState, ErrorNote } from "../components/ui.tsx";
import { UsagePanel } from "../components/usage.tsx";
import { AddWorkerDialog } from "../components/workers/add-worker-dialog.tsx";
import { QueueList } from "../components/workers/queue-list.tsx";
import { WorkerCard } from "../components/workers/worker-card.tsx";
import { createNow } from "../lib/clock.ts";
import { createUsageSummary } from "../lib/usage.ts";
import { useWorkers } from "../lib/workers-context.ts";

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The live dashboard: slots, worker cards, the queue and the global controls. */
export function WorkersPage(): JSX.Element {
  const store = useWorkers();
  const now = createNow();
  const [adding, setAdding] = createSignal(false);
  const [confirmStop, setConfirmStop] = createSignal(false);
  const [showRecent, setShowRecent] = createSignal(false);
  const max = () => store.state.maxWorkers;
  const running = () => store.active().filter((w) => w.status === "running").length;
  const usage = createUsageSummary(store);

  return (
    <div class="space-y-6" data-testid="workers-page">
      <header class="flex flex-col gap-3 sm:flex-row sm:items-center">
        <div class="min-w-0 flex-1">
          <h1 class="prompt font-mono text-lg font-semibold text-zinc-50 sm:text-xl">
            <span data-testid="active-workers">
              Active Workers: {store.activeCount()}/{max()}
            </span>
          </h1>
          <p class="mt-1 flex flex-wrap items-center gap-x-3 font-mono text-xs text-zinc-500">
            <span data-testid="queue-count">
              Queue:{" "}
              {plural(
                Math.max(store.state.queueTotal ?? 0, store.state.queue.length),
                "spec",
                "specs",
              )}{" "}
              waiting
            </span>
            <ConnectionState state={store.state.connection} />
          </p>
        </div>
        <div class="flex flex-wrap gap-2">
          <button
            type="button"
            class="btn btn-primary"
            data-testid="add-worker"
            onClick={() => setAdding(true)}
          >
            + Add Worker
          </button>
          <button
            type="button"
            class="btn"
            data-testid="pause-all"
            disabled={running() === 0}
            onClick={() => void store.pauseAll()}
          >
            ❚❚ Pause all
          </button>
          <button
            type="button"
            class="btn btn-danger"
            data-testid="stop-all"
            disabled={store.activeCount() === 0 && store.state.queue.length === 0}
            onClick={() => setConfirmStop(true)}
          >
            ■ Stop all
          </button>
        </div>
      </header>

      <Show when={store.full()}>
        <p
          role="status"
          data-testid="workers-warning"
          class="rounded-md border border-amber-400/40 bg-amber-400/5 px-3 py-2 font-mono text-xs text-amber-300"
        >
          ⚠ All worker slots in use ({store.activeCount()}/{max()}). New specs will be queued.
        </p>
      </Show>
      <ErrorNote message={store.state.loadError} />
      <UsagePanel summary={usage.summary()} error={usage.error()} />

      <section aria-labelledby="active-heading" class="space-y-3">
        <h2 id="active-heading" class="font-mono text-sm font-semibold text-zinc-100">
          Workers <span class="text-zinc-500">({store.activeCount()})</span>
        </h2>
        <Show
          when={store.active().length > 0}
          fallback={
            <EmptyState title={store.state.loaded ? "No workers running" : "loading workers…"}>
              <Show when={store.state.loaded}>
                Press <span class="font-mono text-zinc-300">+ Add Worker</span>, or open a spec from
                a{" "}
                <A href="/" class="text-accent underline underline-offset-2">
                  project
                </A>{" "}
                and run it.
              </Show>
            </EmptyState>
          }
        >
          <div class="grid gap-3 md:grid-cols-2" data-testid="worker-cards">
            <For each={store.active()}>
              {(worker) => <WorkerCard worker={worker} store={store} now={now()} />}
            </For>
          </div>
        </Show>
      </section>

      <section aria-labelledby="queue-heading" class="space-y-3">
        <div class="flex flex-wrap items-center gap-2">
          <h2 id="queue-heading" class="mr-auto font-mono text-sm font-semibold text-zinc-100">
            Queue <span class="text-zinc-500">({store.state.queue.length})</span>
          </h2>
          <Show when={store.state.queue.length > 1}>
            <span class="hidden font-mono text-[11px] text-zinc-600 sm:inline">
              drag ⋮⋮ or use ↑ ↓ to reorder
            </span>
          </Show>
        </div>
        <Show when={store.state.queuePaused}>
          <div
            role="status"
            data-testid="queue-paused"
            class="flex flex-wrap items-center gap-3 rounded-md border border-amber-400/40 bg-amber-400/5 px-3 py-2 font-mono text-xs text-amber-300"
          >
            <span class="flex-1">
              <Show
                when={store.state.queueHoldReason}
                fallback="The queue is paused: nothing new starts until you resume it."
              >
                {(reason) => (
                  <span data-testid="queue-hold-reason">
                    The queue is held: {reason()}. Nothing new starts until you resume it.
                  </span>
                )}
              </Show>
            </span>
            <button
              type="button"
              class="btn btn-primary"
              data-testid="resume-queue"
              onClick={() => void store.setQueuePaused(false)}
            >
              ▶ Resume queue
            </button>
          </div>
        </Show>
        <QueueList store={store} now={now()} />
      </section>

      <Show when={store.recent().length > 0}>
        <section aria-labelledby="recent-heading" class="space-y-3">
          <h2 id="recent-heading">
            <button
              type="button"
              class="cursor-pointer font-mono text-sm font-semibold text-zinc-100 hover:text-accent"
              aria-expanded={showRecent()}
              aria-controls="recent-workers"
              data-testid="recent-toggle"
              onClick={() => setShowRecent(!showRecent())}
            >
              {showRecent() ? "▾" : "▸"} Recent{" "}
              <span class="text-zinc-500">({store.recent().length})</span>
            </button>
          </h2>
          <Show when={showRecent()}>
            <div id="recent-workers" class="grid gap-3 md:grid-cols-2" data-testid="recent-workers">
              <For each={store.recent()}>
                {(worker) => <WorkerCard worker={worker} store={store} now={now()} />}
              </For>
            </div>
          </Show>
        </section>
      </Show>

      <AddWorkerDialog open={adding()} onClose={() => setAdding(false)} store={store} />
      <ConfirmDialog
        open={confirmStop()}
        title="Stop all workers?"
        confirmLabel="■ Stop all"
        testId="stop-all-dialog"
        onClose={() => setConfirmStop(false)}
        onConfirm={() => void store.stopAll()}
      >
        Every running and paused worker stops now (
        {plural(store.activeCount(), "worker", "workers")}
        ), and the queue is paused so nothing new starts. Finished chunks stay done.
      </ConfirmDialog>
    </div>
  );
}

function ConnectionState(props: { state: string }): JSX.Element {
  return (
    <span class="inline-flex items-center gap-1" data-testid="connection" data-state={props.state}>
      <span
        aria-hidden="true"
        class={`h-1.5 w-1.5 rounded-full ${props.state === "live" ? "bg-accent" : "animate-pulse bg-amber-400"}`}
      />
      {props.state === "live"
        ? "live"
        : props.state === "connecting"
          ? "connecting…"
          : "reconnecting…"}
    </span>
  );
}
