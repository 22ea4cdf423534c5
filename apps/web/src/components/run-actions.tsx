import type { JSX } from "solid-js";
import type { Spec } from "../lib/types.ts";

const PENDING_API = "coming with the workers API";

/**
 * "Run All" (watch the run here) and "Run in Background" (hand it to a worker or the queue).
 * Placeholders until the orchestrator's API is wired in by the dashboard work.
 */
export function RunActions(props: { spec: Spec; chunkCount: number }): JSX.Element {
  return (
    <div
      class="flex flex-wrap gap-2"
      data-testid="run-actions"
      data-spec-status={props.spec.status}
    >
      <button type="button" class="btn btn-primary" disabled title={PENDING_API}>
        ▶ Run All
      </button>
      <button type="button" class="btn" disabled title={PENDING_API}>
        ⇢ Run in Background
      </button>
    </div>
  );
}
