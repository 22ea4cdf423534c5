import { A } from "@solidjs/router";
import { createSignal, type JSX, Show } from "solid-js";
import { formatDuration } from "../../lib/clock.ts";
import { changesText } from "../../lib/notify.ts";
import type { Worker } from "../../lib/types.ts";
import { createWorkerLog } from "../../lib/worker-log.ts";
import { isActive } from "../../lib/workers-events.ts";
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

/** What became of a run's work, e.g. `squashed into main`, `discarded`. */
export function landedText(worker: Pick<Worker, "landed" | "baseBranch">): string | null {
  const landed = worker.landed;
  if (!landed) return null;
  const base = worker.baseBranch ?? "the base branch";
  switch (landed.how) {
    case "squashed":
      return `squashed into ${base}`;
    case "merged":
      return `merged into ${base}`;
    case "rebased":
      return `rebased onto ${base}`;
    case "discarded":
      return "discarded";
  }
}

/** `+A −D in N files` of a run's branch, additions green and deletions red. */
export function ChangesLine(props: { changes: NonNullable<Worker["changes"]> }): JSX.Element {
  return (
    <span
      class="font-mono text-[11px] whitespace-nowrap text-zinc-400"
      data-testid="worker-changes"
      title={changesText(props.changes) ?? undefined}
    >
      <span class="text-emerald-400">+{props.changes.additions}</span>{" "}
      <span class="text-red-400">−{props.changes.deletions}</span> in {props.changes.files}{" "}
      {props.changes.files === 1 ? "file" : "files"}
    </span>
  );
}

/**
 * The end of a finished run: what it changed, whether its work was landed (merged or thrown
 * away), and "Review & merge" while a completed run's branch waits for that decision.
 */
export function RunOutcome(props: { worker: Worker }): JSX.Element {
  const finished = () => !isActive(props.worker);
  const landed = () => landedText(props.worker);
  const reviewable = () =>
    props.worker.status === "completed" &&
    props.worker.landed === null &&
    props.worker.branch !== null;
  return (
    <Show when={finished() && (props.worker.changes || landed() || reviewable())}>
      <div class="flex flex-wrap items-center gap-2" data-testid="worker-outcome">
        <Show when={props.worker.changes}>{(changes) => <ChangesLine changes={changes()} />}</Show>
        <Show when={landed()}>
          {(text) => (
            <span
              class={`rounded border px-1.5 py-px font-mono text-[10px] tracking-wide whitespace-nowrap uppercase ${props.worker.landed?.how === "discarded" ? "border-zinc-500/60 text-zinc-400" : "border-emerald-600/60 text-emerald-300"}`}
              data-testid="worker-landed"
              data-how={props.worker.landed?.how}
            >
              {text()}
            </span>
          )}
        </Show>
        <Show when={reviewable()}>
          <A
            href={`/workers/${props.worker.id}`}
            class="btn btn-primary ml-auto"
            data-testid="worker-review"
            aria-label={`Review & merge "${props.worker.specTitle}"`}
          >
            Review &amp; merge
          </A>
        </Show>
      </div>
    </Show>
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
  const active = () => isActive(props.worker);
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
          <p class="flex min-w-0 gap-1.5 font-mono text-[11px] text-zinc-500">
            <span class="truncate">{props.worker.projectName}</span>
            <span aria-hidden="true">·</span>
            <A
              href={`/specs/${props.worker.specId}`}
              class="shrink-0 underline-offset-2 hover:text-accent hover:underline"
              data-testid="worker-spec-link"
              aria-label={`Spec "${props.worker.specTitle}"`}
            >
              spec
            </A>
          </p>
          <h3 class="font-mono text-sm font-semibold break-words text-zinc-100">
            <A
              href={`/workers/${props.worker.id}`}
              class="hover:text-accent"
              data-testid="worker-open"
              title="Open the run"
            >
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
      <RunOutcome worker={props.worker} />

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
