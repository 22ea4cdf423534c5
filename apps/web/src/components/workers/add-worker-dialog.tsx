import { createResource, createSignal, For, type JSX, Show } from "solid-js";
import { announceStart } from "../../lib/announce.ts";
import { errorMessage, trpc } from "../../lib/trpc.ts";
import type { WorkersStore } from "../../lib/workers-store.ts";
import { Modal } from "../dialog.tsx";
import { ModelSelect } from "../model-select.tsx";
import { ErrorNote } from "../ui.tsx";

interface AddWorkerDialogProps {
  open: boolean;
  onClose: () => void;
  store: WorkersStore;
}

/**
 * "Add to queue": pick a project, then one of its specs, a priority and optionally a model for
 * this run; starts or queues it.
 */
export function AddWorkerDialog(props: AddWorkerDialogProps): JSX.Element {
  return (
    <Modal
      open={props.open}
      title="Add to queue"
      onClose={props.onClose}
      testId="add-worker-dialog"
    >
      <AddWorkerForm store={props.store} onDone={props.onClose} />
    </Modal>
  );
}

function AddWorkerForm(props: { store: WorkersStore; onDone: () => void }): JSX.Element {
  const [projectId, setProjectId] = createSignal("");
  const [specId, setSpecId] = createSignal("");
  const [priority, setPriority] = createSignal("0");
  const [model, setModel] = createSignal<string | null>(null);
  const [error, setError] = createSignal<string | null>(null);
  const [submitting, setSubmitting] = createSignal(false);
  const [projects] = createResource(() => trpc.projects.list.query());
  const [specs] = createResource(
    () => projectId() || null,
    (id) => trpc.specs.list.query({ projectId: id }),
  );
  /** Running or queued specs cannot be added again. */
  const taken = (id: string) =>
    props.store.queueItemForSpec(id) !== undefined ||
    props.store.active().some((w) => w.specId === id);

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const value = Number(priority());
    if (!specId()) {
      setError("Pick a spec to run");
      return;
    }
    if (!Number.isInteger(value) || value < -1000 || value > 1000) {
      setError("Priority must be a whole number from -1000 to 1000");
      return;
    }
    setError(null);
    setSubmitting(true);
    const title = specs()?.find((s) => s.id === specId())?.title ?? "spec";
    const result = await props.store.start(specId(), value, model());
    setSubmitting(false);
    if (result) {
      announceStart(title, result, false);
      props.onDone();
    }
  };

  return (
    <form class="space-y-4" onSubmit={submit} noValidate>
      <div>
        <label class="field-label" for="add-project">
          Project
        </label>
        <select
          id="add-project"
          class="input font-mono"
          value={projectId()}
          onChange={(e) => {
            setProjectId(e.currentTarget.value);
            setSpecId("");
          }}
        >
          <option value="">
            {projects.loading ? "loading…" : `choose a project (${projects()?.length ?? 0})`}
          </option>
          <For each={projects() ?? []}>{(p) => <option value={p.id}>{p.name}</option>}</For>
        </select>
        <ErrorNote message={projects.error ? errorMessage(projects.error) : null} />
      </div>
      <div>
        <label class="field-label" for="add-spec">
          Spec
        </label>
        <select
          id="add-spec"
          class="input font-mono"
          value={specId()}
          disabled={!projectId() || specs.loading}
          onChange={(e) => setSpecId(e.currentTarget.value)}
        >
          <option value="">
            {!projectId() ? "choose a project first" : specs.loading ? "loading…" : "choose a spec"}
          </option>
          <For each={specs() ?? []}>
            {(s) => (
              <option value={s.id} disabled={taken(s.id)}>
                {s.title}
                {taken(s.id) ? " (running or queued)" : ""}
              </option>
            )}
          </For>
        </select>
        <Show when={projectId() && specs() && specs()?.length === 0}>
          <p class="mt-1 text-xs text-zinc-500">This project has no specs yet.</p>
        </Show>
      </div>
      <div>
        <label class="field-label" for="add-priority">
          Priority
        </label>
        <input
          id="add-priority"
          type="number"
          step="1"
          min="-1000"
          max="1000"
          class="input w-32 font-mono"
          value={priority()}
          onInput={(e) => setPriority(e.currentTarget.value)}
          aria-describedby="add-priority-hint"
        />
        <p id="add-priority-hint" class="mt-1 text-xs text-zinc-500">
          Higher starts first; equal priorities start in the order they were added.
        </p>
      </div>
      <div>
        <label class="field-label" for="add-model">
          Model
        </label>
        <ModelSelect
          id="add-model"
          value={model()}
          onChange={setModel}
          noneLabel={(d) => {
            const own = specs()?.find((s) => s.id === specId())?.model;
            return own ? `the spec's model (${own})` : `server default (${d})`;
          }}
        />
        <p class="mt-1 text-xs text-zinc-500">For this run only; the spec keeps its own.</p>
      </div>
      <ErrorNote message={error()} />
      <div class="flex flex-wrap justify-end gap-2">
        <button type="button" class="btn" onClick={() => props.onDone()}>
          Cancel
        </button>
        <button
          type="submit"
          class="btn btn-primary"
          data-testid="add-worker-submit"
          disabled={submitting()}
        >
          {props.store.full() ? "Add to queue" : "Start"}
        </button>
      </div>
    </form>
  );
}
