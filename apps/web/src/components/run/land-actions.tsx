import { A, useNavigate } from "@solidjs/router";
import { createResource, createSignal, type JSX, Show } from "solid-js";
import { announceStart } from "../../lib/announce.ts";
import { pushToast } from "../../lib/toast.ts";
import { errorMessage, trpc } from "../../lib/trpc.ts";
import type { Worker } from "../../lib/types.ts";
import { ConfirmDialog } from "../dialog.tsx";
import { ConflictWarning, RefusalNote } from "./land-notes.tsx";
import {
  canRetry,
  conflictLines,
  discardBlocked,
  mergeBlocked,
  type Refusal,
  refusalOf,
} from "./landing.ts";
import { type MergeChoice, MergeDialog } from "./merge-dialog.tsx";

interface LandActionsProps {
  worker: Worker;
  /** Changes when other runs of the project land (their overlap with this one may change). */
  conflictsVersion: number;
  /** A newer run of the same spec, if there is one (then this one cannot be retried). */
  newerRun: Worker | undefined;
  /** A newer view of the worker (after discard), or null: reload it (after a merge). */
  onChanged: (worker: Worker | null) => void;
}

/**
 * What to do with a finished run: merge it into its base branch (strategy, message, a
 * confirmation that repeats the overlap warning), discard it, or retry it. A refused merge
 * leaves everything as it was and says why here, with the files concerned.
 */
export function LandActions(props: LandActionsProps): JSX.Element {
  const navigate = useNavigate();
  const [merging, setMerging] = createSignal(false);
  const [confirmDiscard, setConfirmDiscard] = createSignal(false);
  const [busy, setBusy] = createSignal<"merge" | "discard" | "retry" | null>(null);
  const [refusal, setRefusal] = createSignal<Refusal | null>(null);

  const base = () => props.worker.baseBranch ?? "the base branch";
  /** A newer run of the spec that works on the same branch: landing this one would pull it away. */
  const superseded = () =>
    props.newerRun && props.newerRun.branch === props.worker.branch
      ? "A newer run of this spec continues on this branch: land that one"
      : undefined;
  const blocked = () => mergeBlocked(props.worker) ?? superseded();
  const discardWhy = () => discardBlocked(props.worker) ?? superseded();
  const [conflicts, { refetch }] = createResource(
    () => (blocked() ? false : { id: props.worker.id, version: props.conflictsVersion }),
    ({ id }) => trpc.workers.conflicts.query({ id }),
  );
  /** The last overlap report, while it still matters (not after the run landed). */
  const overlap = () => (props.worker.landed || conflicts.error ? undefined : conflicts.latest);
  const warnings = () => {
    const c = overlap();
    return c ? conflictLines(c, base()) : [];
  };

  const merge = async (choice: MergeChoice) => {
    setBusy("merge");
    setRefusal(null);
    try {
      const result = await trpc.workers.merge.mutate({
        id: props.worker.id,
        strategy: choice.strategy,
        keepBranch: choice.keepBranch,
        ...(choice.message ? { message: choice.message } : {}),
      });
      pushToast("success", `"${props.worker.specTitle}" landed on ${result.into}.`);
      props.onChanged(null);
    } catch (err) {
      const refused = refusalOf(err);
      if (refused) setRefusal(refused);
      else pushToast("error", `Could not merge: ${errorMessage(err)}`);
      void refetch();
    } finally {
      setBusy(null);
    }
  };

  const discard = async () => {
    setBusy("discard");
    setRefusal(null);
    try {
      const result = await trpc.workers.discard.mutate({ id: props.worker.id });
      pushToast("info", `The work of "${props.worker.specTitle}" was discarded.`);
      props.onChanged(result.worker);
    } catch (err) {
      const refused = refusalOf(err);
      if (refused) setRefusal(refused);
      else pushToast("error", `Could not discard: ${errorMessage(err)}`);
    } finally {
      setBusy(null);
    }
  };

  const retry = async () => {
    setBusy("retry");
    try {
      const result = await trpc.workers.retry.mutate({ id: props.worker.id });
      announceStart(props.worker.specTitle, result, result.status === "queued");
      if (result.status === "started") navigate(`/workers/${result.worker.id}`);
    } catch (err) {
      pushToast("error", `Could not retry: ${errorMessage(err)}`);
    } finally {
      setBusy(null);
    }
  };

  return (
    <section aria-labelledby="land-heading" class="panel space-y-3 p-3 sm:p-4">
      <div class="flex flex-wrap items-center gap-x-3 gap-y-1">
        <h2 id="land-heading" class="font-mono text-sm font-semibold text-zinc-100">
          Land the work
        </h2>
        <Show when={props.worker.branch}>
          <span class="font-mono text-[11px] wrap-anywhere text-zinc-500">
            {props.worker.branch} → {base()}
          </span>
        </Show>
      </div>

      <ConflictWarning lines={warnings()} conflicts={overlap()} />

      <Show when={refusal()}>
        {(r) => <RefusalNote refusal={r()} onDismiss={() => setRefusal(null)} />}
      </Show>

      <div class="flex flex-wrap gap-2">
        <button
          type="button"
          class="btn btn-primary"
          data-testid="merge-open"
          disabled={busy() !== null || blocked() !== undefined}
          title={blocked() ?? `Merge the run's branch into ${base()}`}
          onClick={() => {
            setMerging(true);
            void refetch();
          }}
        >
          <span aria-hidden="true">⤵</span>
          {busy() === "merge" ? "Merging…" : "Merge…"}
        </button>
        <button
          type="button"
          class="btn btn-danger"
          data-testid="discard-open"
          disabled={busy() !== null || discardWhy() !== undefined}
          title={discardWhy() ?? "Throw the run's branch and worktree away"}
          onClick={() => setConfirmDiscard(true)}
        >
          <span aria-hidden="true">✕</span>
          {busy() === "discard" ? "Discarding…" : "Discard"}
        </button>
        <Show when={canRetry(props.worker)}>
          <button
            type="button"
            class="btn"
            data-testid="retry"
            disabled={busy() !== null || props.newerRun !== undefined}
            title={
              props.newerRun
                ? "A newer run of this spec exists: retry that one"
                : "Run the spec again from its first chunk that is not completed"
            }
            onClick={() => void retry()}
          >
            <span aria-hidden="true">↻</span>
            {busy() === "retry" ? "Starting…" : "Retry"}
          </button>
        </Show>
        <Show when={props.newerRun}>
          {(newer) => (
            <A
              href={`/workers/${newer().id}`}
              class="self-center font-mono text-[11px] text-zinc-400 underline underline-offset-2 hover:text-accent"
              data-testid="newer-run"
            >
              a newer run of this spec ({newer().status}) →
            </A>
          )}
        </Show>
      </div>

      <MergeDialog
        open={merging()}
        worker={props.worker}
        warnings={warnings()}
        conflicts={overlap()}
        onClose={() => setMerging(false)}
        onMerge={(choice) => void merge(choice)}
      />

      <ConfirmDialog
        open={confirmDiscard()}
        title="Discard this run's work?"
        confirmLabel="Discard"
        onConfirm={() => void discard()}
        onClose={() => setConfirmDiscard(false)}
        testId="discard-dialog"
      >
        The branch {props.worker.branch ?? ""} and its worktree are deleted; {base()} stays as it
        is. This cannot be undone.
      </ConfirmDialog>
    </section>
  );
}
