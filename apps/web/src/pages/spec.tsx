import { A, useParams } from "@solidjs/router";
import {
  createEffect,
  createResource,
  createSignal,
  type JSX,
  on,
  onCleanup,
  Show,
  Suspense,
} from "solid-js";
import { createStore, reconcile } from "solid-js/store";
import { ChunkList } from "../components/chunk-list.tsx";
import { LiveRun } from "../components/live-run.tsx";
import { ModelSelect } from "../components/model-select.tsx";
import { RunActions } from "../components/run-actions.tsx";
import { SpecContent } from "../components/spec-content.tsx";
import { Badge, EmptyState, ErrorNote, formatTime } from "../components/ui.tsx";
import { UsageLine } from "../components/usage.tsx";
import { createChunksStore } from "../lib/chunks-store.ts";
import { pushToast } from "../lib/toast.ts";
import { errorMessage, trpc } from "../lib/trpc.ts";
import type { ChunkUsage, Spec, SpecDetail, Usage } from "../lib/types.ts";
import type { ChunkUpdate } from "../lib/worker-log.ts";
import { useWorkers } from "../lib/workers-context.ts";

export function SpecPage(): JSX.Element {
  const params = useParams<{ id: string }>();
  const [data] = createResource(
    () => params.id,
    (id) => trpc.specs.get.query({ id }),
  );

  return (
    <Suspense fallback={<p class="font-mono text-xs text-zinc-500">loading spec…</p>}>
      <Show
        when={!data.error && data.latest}
        keyed
        fallback={
          <Show when={data.error}>
            <EmptyState title="Spec not available">
              <ErrorNote message={errorMessage(data.error)} />
              <A href="/" class="mt-2 inline-block text-accent underline underline-offset-2">
                Back to projects
              </A>
            </EmptyState>
          </Show>
        }
      >
        {(initial) => <Workspace initial={initial} />}
      </Show>
    </Suspense>
  );
}

/** The workspace of one loaded spec (re-created when the route moves to another spec). */
function Workspace(props: { initial: SpecDetail }): JSX.Element {
  const { chunks: initialChunks, usage: initialUsage, ...initialSpec } = props.initial;
  const [spec, setSpec] = createSignal<Spec>(initialSpec);
  const specId = () => spec().id;
  // Model usage: the spec's over all its runs, and each chunk's per step (kept live by events).
  const [specUsage, setSpecUsage] = createSignal<Usage>(initialUsage);
  const [chunkUsage, setChunkUsage] = createStore<Record<string, ChunkUsage>>(
    usageByChunk(initialChunks),
  );
  const [project] = createResource(
    () => spec().projectId,
    (id) => trpc.projects.get.query({ id }),
  );

  /** Reloads spec + chunks from the server after it refused a change (e.g. the spec started). */
  const reload = async () => {
    try {
      const fresh = await trpc.specs.get.query({ id: specId() });
      const { chunks, usage, ...row } = fresh;
      setSpec(row);
      store.reset(chunks);
      setSpecUsage(usage);
      setChunkUsage(reconcile(usageByChunk(chunks)));
    } catch (err) {
      pushToast("error", `Could not reload the spec: ${errorMessage(err)}`);
    }
  };
  const store = createChunksStore(specId, initialChunks, () => void reload());

  const workers = useWorkers();
  /** The run of this spec that holds a slot now, if any. */
  const activeRun = () => workers.active().find((w) => w.specId === specId());
  createEffect(
    on(
      () => activeRun()?.id ?? null,
      (runId, previous) => {
        if (runId) setSpec((s) => (s.status === "running" ? s : { ...s, status: "running" }));
        else if (previous) void reload(); // the run ended: fetch final chunk and spec statuses
      },
    ),
  );
  const stopListening = workers.listen((event) => {
    // the run's work was merged or discarded: the spec's branch and status may have moved on
    if (event.type === "worker_landed" && event.worker.specId === specId()) void reload();
    if (event.type !== "usage_updated" || event.specId !== specId()) return;
    setSpecUsage(event.specUsage);
    const { chunkId, step, chunkUsage: usage } = event;
    if (!chunkId || !step || !usage) return;
    if (chunkUsage[chunkId]) setChunkUsage(chunkId, step, usage);
    else setChunkUsage(chunkId, { executing: null, reviewing: null, [step]: usage });
  });
  onCleanup(stopListening);
  const onChunk = (update: ChunkUpdate) => {
    if (update.event === "inserted" || !store.applyLive(update.chunk)) void reload();
  };
  let liveRun: HTMLDivElement | undefined;

  const locked = () => spec().status === "running" || activeRun() !== undefined;

  return (
    <div data-testid="spec-workspace">
      <nav aria-label="Breadcrumb" class="mb-2 font-mono text-xs break-words text-zinc-500">
        <A href="/" class="hover:text-accent">
          projects
        </A>{" "}
        /{" "}
        <A href={`/projects/${spec().projectId}`} class="hover:text-accent">
          {(!project.error && project.latest?.name) || "project"}
        </A>{" "}
        / <span class="text-zinc-400">{spec().title}</span>
      </nav>
      <header class="mb-6 flex flex-col gap-3 sm:flex-row sm:items-start sm:gap-4">
        <div class="min-w-0 flex-1">
          <h1 class="prompt font-mono text-lg font-semibold break-words text-zinc-50 sm:text-xl">
            {spec().title}
          </h1>
          <p class="mt-1 flex flex-wrap items-center gap-2 font-mono text-[11px] text-zinc-500">
            <Badge status={spec().status} />
            <span>updated {formatTime(spec().updatedAt)}</span>
            <Show when={spec().branch}>
              <span>branch {spec().branch}</span>
            </Show>
            <SpecModel spec={spec()} locked={locked()} onSaved={setSpec} />
          </p>
          <Show when={specUsage().requests > 0}>
            <p class="mt-1">
              <UsageLine usage={specUsage()} label="all runs" testId="spec-usage" />
            </p>
          </Show>
        </div>
        <RunActions
          spec={spec()}
          chunkCount={store.chunks.length}
          onWatch={() => queueMicrotask(() => liveRun?.scrollIntoView({ block: "nearest" }))}
        />
      </header>

      <div ref={liveRun}>
        <LiveRun specId={specId()} onChunk={onChunk} onResync={() => void reload()} />
      </div>

      <Show when={locked()}>
        <p
          role="status"
          class="mb-4 rounded-md border border-accent/40 bg-accent/5 px-3 py-2 font-mono text-xs text-accent"
        >
          This spec is running: its content and chunks are read-only until the run ends.
        </p>
      </Show>

      <div class="grid gap-6 lg:grid-cols-[minmax(0,1fr)_minmax(0,1fr)]">
        <SpecContent spec={spec()} locked={locked()} onSaved={setSpec} />
        <ChunkList store={store} locked={locked()} usage={(id) => chunkUsage[id]} />
      </div>
    </div>
  );
}

function usageByChunk(
  chunks: ReadonlyArray<{ id: string; usage: ChunkUsage }>,
): Record<string, ChunkUsage> {
  return Object.fromEntries(chunks.map((c) => [c.id, c.usage]));
}

/** The spec's model (its runs use it unless a run picks another), changed in place. */
function SpecModel(props: { spec: Spec; locked: boolean; onSaved: (spec: Spec) => void }) {
  const [busy, setBusy] = createSignal(false);
  const save = async (model: string | null) => {
    const before = props.spec;
    props.onSaved({ ...before, model }); // optimistic; rolled back when the server says no
    setBusy(true);
    try {
      props.onSaved(await trpc.specs.update.mutate({ id: before.id, model }));
      pushToast(
        "success",
        model ? `Runs of this spec use ${model}` : "Runs use the server default",
      );
    } catch (err) {
      props.onSaved(before);
      pushToast("error", `Could not change the model: ${errorMessage(err)}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <span class="inline-flex items-center gap-1">
      <label for="spec-model-select">model</label>
      <ModelSelect
        id="spec-model-select"
        class="w-auto px-1.5 py-0.5 text-[11px]"
        value={props.spec.model}
        onChange={(model) => void save(model)}
        noneLabel={(d) => `server default (${d})`}
        disabled={props.locked || busy()}
        title={props.locked ? "The spec is running" : "The model this spec's runs use"}
      />
    </span>
  );
}
