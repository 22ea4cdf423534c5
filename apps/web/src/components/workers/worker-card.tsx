import { A } from "@solidjs/router";
import { createSignal, type JSX, Show } from "solid-js";
import { formatDuration } from "../../lib/clock.ts";
import type { Worker } from "../../lib/types.ts";
import { createWorkerLog } from "../../lib/worker-log.ts";
import type { WorkersStore } from "../../lib/workers-store.ts";
import { Badge } from "../ui.tsx";
import { UsageLine } from "../usage.tsx";
import { LogTail } from "./log-tail.tsx";
import { ProgressBar } from "./progress-bar.tsx";

/** How long a worker has been (or was) running: `running 3m 05s`, `ran 42s`. */
export function runningFor(worker: Worker, now: number): string {
  if (worker.startedAt === null) return "not started";
  const end = worker.finishedAt ?? now;
  return `${worker.finishedAt === null ? "running" : "ran"} ${formatDuration(end - worker.startedAt)}`;
}

/** The executor, with the simulated one clearly marked as not a real agent. */
export function ExecutorLabel(props: { worker: Worker }): JSX.Element {
  return (
    <span class="inline-flex min-w-0 flex-wrap items-center gap-1.5" data-testid="worker-executor">
      <Show when={props.worker.executor === "simulated"}>
        <span class="rounded border border-fuchsia-400/50 px-1 py-px font-mono text-[10px] tracking-wide text-fuchsia-300 uppercase">
          simulated
        </span>
      </Show>
      <span class="min-w-0 break-words text-zinc-500">{props.worker.executorLabel}</span>
    </span>
  );
}

/** A run's tokens and API-equivalent cost, once it made a model request. */
export function WorkerUsage(props: { worker: Worker }): JSX.Element {
  return (
    <Show when={props.worker.usage.requests > 0}>
      <UsageLine usage={props.worker.usage} testId="worker-usage" />
    </Show>
  );
}

/** The current chunk and step of a run, e.g. `Beta: middleware · executing`. */
export function CurrentStep(props: { worker: Worker }): JSX.Element {
  return (
    <p class="font-mono text-xs break-words text-zinc-400" data-testid="worker-step">
      <Show
        when={props.worker.currentChunkTitle || props.worker.currentStep}
        fallback={<span class="text-zinc-600">no chunk running</span>}
      >
        <span class="text-zinc-500">chunk </span>
        <span class="text-zinc-200">{props.worker.currentChunkTitle ?? "…"}</span>
        <Show when={props.worker.currentStep}>
          {(step) => (
            <>
              <span class="text-zinc-600"> · </span>
              <span class={step() === "reviewing" ? "text-sky-300" : "text-accent"}>{step()}</span>
            </>
          )}
        </Show>
        <Show when={props.worker.stepDetail}>
          {(detail) => (
            <>
              <span class="text-zinc-600"> · </span>
              <span class="text-amber-300" data-testid="worker-step-detail">
                {detail()}
              </span>
            </>
          )}
        </Show>
      </Show>
    </p>
  );
}

interface WorkerControlsProps {
  worker: Worker;
  store: WorkersStore;
}

/** Pause / Resume / Stop of one worker; each disabled while its request is in flight. */
export function WorkerControls(props: WorkerControlsProps): JSX.Element {
  const [busy, setBusy] = createSignal(false);
  const run = async (action: () => Promise<boolean>) => {
    setBusy(true);
    try {
      await action();
    } finally {
      setBusy(false);
    }
  };
  const name = () => props.worker.specTitle;
  return (
    <div class="flex flex-wrap gap-2">
      <Show when={props.worker.status === "running" || props.worker.status === "idle"}>
        <button
          type="button"
          class="btn"
          data-testid="worker-pause"
          aria-label={`Pause "${name()}"`}
          disabled={busy()}
          onClick={() => run(() => props.store.pause(props.worker.id))}
        >
          ❚❚ Pause
        </button>
      </Show>
      <Show when={props.worker.status === "paused"}>
        <button
          type="button"
          class="btn btn-primary"
          data-testid="worker-resume"
          aria-label={`Resume "${name()}"`}
          disabled={busy()}
          onClick={() => run(() => props.store.resume(props.worker.id))}
        >
          ▶ Resume
        </button>
      </Show>
      <button
        type="button"
        class="btn btn-danger"
        data-testid="worker-stop"
        aria-label={`Stop "${name()}"`}
        disabled={busy()}
        onClick={() => run(() => props.store.stop(props.worker.id))}
      >
        ■ Stop
      </button>
    </div>
  );
}

interface WorkerCardProps {
  worker: Worker;
  store: WorkersStore;
  now: number;
}

/** One worker: what it runs, where it is, how far it got, its controls and its live log. */
export function WorkerCard(props: WorkerCardProps): JSX.Element {
  const [showLog, setShowLog] = createSignal(false);
  const active = () => ["running", "paused", "idle"].includes(props.worker.status);
  const logId = () => `worker-log-${props.worker.id}`;
  return (
    <article
      class="panel flex min-w-0 flex-col gap-3 p-3 sm:p-4"
      classList={{ "border-amber-400/30": props.worker.status === "paused" }}
      data-testid="worker-card"
      data-worker-id={props.worker.id}
      data-spec-id={props.worker.specId}
      data-status={props.worker.status}
      aria-label={`Worker for ${props.worker.specTitle}`}
    >
      <header class="flex items-start gap-2">
        <div class="min-w-0 flex-1">
          <p class="truncate font-mono text-[11px] text-zinc-500">{props.worker.projectName}</p>
          <h3 class="font-mono text-sm font-semibold break-words text-zinc-100">
            <A href={`/specs/${props.worker.specId}`} class="hover:text-accent">
              {props.worker.specTitle}
            </A>
          </h3>
        </div>
        <span data-testid="worker-status">
          <Badge status={props.worker.status} />
        </span>
      </header>

      <CurrentStep worker={props.worker} />
      <ProgressBar {...props.worker.progress} label={`Progress of ${props.worker.specTitle}`} />

      <div class="flex flex-wrap items-center justify-between gap-x-3 gap-y-1 font-mono text-[11px]">
        <span class="inline-flex min-w-0 flex-wrap items-center gap-x-2 gap-y-1">
          <ExecutorLabel worker={props.worker} />
          <Show when={props.worker.model}>
            {(model) => (
              <span
                class="min-w-0 break-all text-zinc-500"
                data-testid="worker-model"
                title="model"
              >
                {model()}
              </span>
            )}
          </Show>
        </span>
        <span class="text-zinc-400" data-testid="worker-time" title="time running">
          {runningFor(props.worker, props.now)}
        </span>
      </div>
      <WorkerUsage worker={props.worker} />

      <Show when={props.worker.error}>
        <p
          role="alert"
          class="font-mono text-xs break-words text-red-300"
          data-testid="worker-error"
        >
          error: {props.worker.error}
        </p>
      </Show>

      <div class="flex flex-wrap items-center justify-between gap-2">
        <Show when={active()} fallback={<span />}>
          <WorkerControls worker={props.worker} store={props.store} />
        </Show>
        <button
          type="button"
          class="btn"
          data-testid="worker-log-toggle"
          aria-expanded={showLog()}
          aria-controls={logId()}
          onClick={() => setShowLog(!showLog())}
        >
          {showLog() ? "▾ Hide log" : "▸ Show log"}
        </button>
      </div>
      <Show when={showLog()}>
        <div id={logId()}>
          <WorkerLogTail
            store={props.store}
            workerId={props.worker.id}
            title={props.worker.specTitle}
          />
        </div>
      </Show>
    </article>
  );
}

function WorkerLogTail(props: {
  store: WorkersStore;
  workerId: string;
  title: string;
}): JSX.Element {
  const log = createWorkerLog(props.store, () => props.workerId);
  return <LogTail log={log} label={`Log of ${props.title}`} />;
}
