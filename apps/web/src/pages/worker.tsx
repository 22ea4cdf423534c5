import { A, useParams } from "@solidjs/router";
import { createEffect, createSignal, type JSX, on, onCleanup, Show } from "solid-js";
import { ChunkTimeline } from "../components/run/chunk-timeline.tsx";
import { DiffView } from "../components/run/diff-view.tsx";
import { LandActions } from "../components/run/land-actions.tsx";
import { newerRunOf } from "../components/run/landing.ts";
import { createLiveWorker, createRunChunks, workerOf } from "../components/run/run-data.ts";
import { RunHeader } from "../components/run/run-header.tsx";
import { RunLog } from "../components/run/run-log.tsx";
import { EmptyState, ErrorNote } from "../components/ui.tsx";
import { createNow } from "../lib/clock.ts";
import type { Worker } from "../lib/types.ts";
import { createWorkerLog } from "../lib/worker-log.ts";
import { useWorkers } from "../lib/workers-context.ts";

/** Log lines the page keeps (the most `workers.logs` answers at once). */
const LOG_LIMIT = 5000;

/** `/workers/:id`: one run, what it did and changed, and what to do with its work. */
export function WorkerPage(): JSX.Element {
  const params = useParams<{ id: string }>();
  return (
    <Show when={params.id} keyed>
      {(id) => <RunPage id={id} />}
    </Show>
  );
}

function RunPage(props: { id: string }): JSX.Element {
  const store = useWorkers();
  const live = createLiveWorker(store, props.id);
  return (
    <Show
      when={live.worker()}
      fallback={
        <Show
          when={live.error()}
          fallback={<p class="font-mono text-xs text-zinc-500">loading run…</p>}
        >
          <EmptyState title="Run not available">
            <ErrorNote message={live.error()} />
            <A href="/workers" class="mt-2 inline-block text-accent underline underline-offset-2">
              Back to workers
            </A>
          </EmptyState>
        </Show>
      }
    >
      {(worker) => (
        <RunView
          worker={worker()}
          onChanged={(next) => (next ? live.set(next) : void live.reload())}
        />
      )}
    </Show>
  );
}

function RunView(props: { worker: Worker; onChanged: (next: Worker | null) => void }): JSX.Element {
  const store = useWorkers();
  const now = createNow();
  const id = props.worker.id;
  const chunks = createRunChunks(store, props.worker.specId);
  const log = createWorkerLog(store, () => id, {
    limit: LOG_LIMIT,
    onChunk: (update) => chunks.apply(update),
    onReconnect: () => void chunks.reload(),
  });
  // the run ended, paused or landed: fetch the chunks' final statuses, verdicts and commits
  createEffect(
    on(
      () => props.worker.status,
      (status, previous) => {
        if (previous !== undefined && status !== previous) void chunks.reload();
      },
    ),
  );

  // Other runs of the project that end or land change what this one overlaps with.
  const [conflictsVersion, setConflictsVersion] = createSignal(0);
  const stop = store.listen((event) => {
    if (event.workerId === id) return;
    if (event.type !== "worker_landed" && event.type !== "worker_completed") return;
    if (workerOf(event)?.projectId === props.worker.projectId) setConflictsVersion((v) => v + 1);
  });
  onCleanup(stop);

  const [scope, setScope] = createSignal<string | null>(null);
  const diffVersion = () => {
    const w = props.worker;
    const commits = chunks.store.chunks.filter((c) => c.commitHash).length;
    return `${w.status}|${w.landed?.how ?? ""}|${commits}`;
  };
  let diffSection: HTMLDivElement | undefined;
  const showChunkDiff = (chunkId: string) => {
    setScope(chunkId);
    diffSection?.scrollIntoView({ block: "start", behavior: "smooth" });
  };

  return (
    <div data-testid="run-page" data-worker-id={id} data-status={props.worker.status}>
      <RunHeader worker={props.worker} now={now()} />
      <div class="space-y-6">
        <LandActions
          worker={props.worker}
          conflictsVersion={conflictsVersion()}
          newerRun={newerRunOf(props.worker, store.workerForSpec(props.worker.specId))}
          onChanged={(next) => props.onChanged(next)}
        />
        <div class="grid gap-6 lg:grid-cols-[minmax(0,2fr)_minmax(0,3fr)]">
          <ChunkTimeline
            chunks={chunks.store.chunks}
            worker={props.worker}
            now={now()}
            usage={(chunkId) => chunks.usage(chunkId)}
            onShowDiff={showChunkDiff}
            error={chunks.error()}
          />
          <RunLog log={log} title={props.worker.specTitle} limit={LOG_LIMIT} />
        </div>
        <div ref={diffSection} class="scroll-mt-16">
          <DiffView
            workerId={id}
            chunks={chunks.store.chunks}
            scope={scope()}
            onScope={setScope}
            version={diffVersion()}
          />
        </div>
      </div>
    </div>
  );
}
