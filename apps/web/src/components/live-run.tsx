import { A } from "@solidjs/router";
import { type JSX, Show } from "solid-js";
import { createNow } from "../lib/clock.ts";
import { type ChunkUpdate, createWorkerLog } from "../lib/worker-log.ts";
import { useWorkers } from "../lib/workers-context.ts";
import { isActive } from "../lib/workers-events.ts";
import { Badge } from "./ui.tsx";
import { LogTail } from "./workers/log-tail.tsx";
import { ProgressBar } from "./workers/progress-bar.tsx";
import { waitText } from "./workers/queue-list.tsx";
import {
  CurrentStep,
  ExecutorLabel,
  RunOutcome,
  runningFor,
  WorkerControls,
  WorkerUsage,
} from "./workers/worker-card.tsx";

interface LiveRunProps {
  specId: string;
  /** A live chunk change of this spec's run. */
  onChunk: (update: ChunkUpdate) => void;
  /** The live feed reconnected: the page reloads its chunks to catch up. */
  onResync: () => void;
}

/**
 * The run of one spec, in place: its queue position while it waits; then status, current
 * chunk and step, progress, controls and the live log (the last run stays shown when it ends).
 */
export function LiveRun(props: LiveRunProps): JSX.Element {
  const store = useWorkers();
  const now = createNow();
  const worker = () => store.workerForSpec(props.specId);
  const queued = () => store.queueItemForSpec(props.specId);
  const log = createWorkerLog(store, () => worker()?.id, {
    onChunk: (update) => props.onChunk(update),
    onReconnect: () => props.onResync(),
  });

  return (
    <>
      <Show when={queued()}>
        {(item) => (
          <section
            class="mb-4 flex flex-wrap items-center gap-2 rounded-md border border-sky-400/40 bg-sky-400/5 px-3 py-2 font-mono text-xs text-sky-200"
            data-testid="live-run-queued"
            aria-label="Queued run"
          >
            <Badge status="queued" />
            <span class="flex-1">
              #{item().position} in the queue · {waitText(item())}
            </span>
            <A href="/workers" class="underline underline-offset-2 hover:text-accent">
              Open workers →
            </A>
          </section>
        )}
      </Show>
      <Show when={worker()}>
        {(w) => (
          <section
            class="panel mb-6 space-y-3 p-3 sm:p-4"
            data-testid="live-run"
            data-status={w().status}
            aria-labelledby="live-run-heading"
          >
            <div class="flex flex-wrap items-center gap-2">
              <h2 id="live-run-heading" class="font-mono text-sm font-semibold text-zinc-100">
                {isActive(w()) ? "Live run" : "Last run"}
              </h2>
              <Badge status={w().status} />
              <span class="ml-auto font-mono text-[11px] text-zinc-400">
                {runningFor(w(), now())}
              </span>
              <A
                href={`/workers/${w().id}`}
                class="btn"
                data-testid="open-run"
                title="The run's page: its log, chunks and changes"
              >
                Open run →
              </A>
            </div>
            <CurrentStep worker={w()} />
            <ProgressBar {...w().progress} label={`Progress of ${w().specTitle}`} />
            <div class="flex flex-wrap items-center justify-between gap-2 font-mono text-[11px]">
              <ExecutorLabel worker={w()} />
              <A
                href="/workers"
                class="text-zinc-500 underline underline-offset-2 hover:text-accent"
              >
                all workers →
              </A>
            </div>
            <WorkerUsage worker={w()} />
            <RunOutcome worker={w()} />
            <Show when={w().error}>
              <p role="alert" class="font-mono text-xs break-words text-red-300">
                error: {w().error}
              </p>
            </Show>
            <Show when={isActive(w())}>
              <WorkerControls worker={w()} store={store} />
            </Show>
            <LogTail log={log} label={`Log of the run of ${w().specTitle}`} />
          </section>
        )}
      </Show>
    </>
  );
}
