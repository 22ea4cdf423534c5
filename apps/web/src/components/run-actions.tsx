import { createSignal, type JSX } from "solid-js";
import { announceStart } from "../lib/announce.ts";
import type { Spec } from "../lib/types.ts";
import { useWorkers } from "../lib/workers-context.ts";

interface RunActionsProps {
  spec: Spec;
  chunkCount: number;
  /** After "Run All" was accepted (the page shows the run in place). */
  onWatch?: () => void;
}

/**
 * "Run All" (start and watch the run here) and "Run in Background" (start it or queue it, and
 * say which, with a link to the dashboard). Both hand the spec to the orchestrator.
 */
export function RunActions(props: RunActionsProps): JSX.Element {
  const workers = useWorkers();
  const [busy, setBusy] = createSignal(false);
  const running = () => workers.active().some((w) => w.specId === props.spec.id);
  const queued = () => workers.queueItemForSpec(props.spec.id) !== undefined;
  const why = () =>
    props.chunkCount === 0
      ? "Add a chunk first"
      : running()
        ? "This spec is running"
        : queued()
          ? "This spec is waiting in the queue"
          : undefined;

  const start = async (background: boolean) => {
    setBusy(true);
    try {
      const result = await workers.start(props.spec.id);
      if (!result) return;
      announceStart(props.spec.title, result, background);
      if (!background) props.onWatch?.();
    } finally {
      setBusy(false);
    }
  };

  return (
    <div
      class="flex flex-wrap gap-2"
      data-testid="run-actions"
      data-spec-status={props.spec.status}
    >
      <button
        type="button"
        class="btn btn-primary"
        data-testid="run-all"
        disabled={busy() || why() !== undefined}
        title={why() ?? "Run every pending chunk and watch it here"}
        onClick={() => void start(false)}
      >
        ▶ Run All
      </button>
      <button
        type="button"
        class="btn"
        data-testid="run-background"
        disabled={busy() || why() !== undefined}
        title={why() ?? "Hand the run to a worker (or the queue) and keep working"}
        onClick={() => void start(true)}
      >
        ⇢ Run in Background
      </button>
    </div>
  );
}
