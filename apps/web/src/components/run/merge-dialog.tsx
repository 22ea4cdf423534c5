import { createSignal, For, type JSX, Show } from "solid-js";
import type { MergeStrategy, RunConflicts, Worker } from "../../lib/types.ts";
import { Modal } from "../dialog.tsx";
import { Field } from "../ui.tsx";
import { ConflictWarning } from "./land-notes.tsx";
import { MERGE_STRATEGIES } from "./landing.ts";

/** What the user chose in the merge dialog (`message` null: the server's default message). */
export interface MergeChoice {
  strategy: MergeStrategy;
  message: string | null;
  keepBranch: boolean;
}

interface MergeDialogProps {
  open: boolean;
  worker: Worker;
  /** The overlap warning, repeated where the decision is taken. */
  warnings: string[];
  conflicts: RunConflicts | undefined;
  onClose: () => void;
  onMerge: (choice: MergeChoice) => void;
}

/**
 * The confirmation of a merge: strategy, optional commit message, whether to keep the branch,
 * and the overlap warning. The choices stay as they were when the dialog opens again.
 */
export function MergeDialog(props: MergeDialogProps): JSX.Element {
  const [strategy, setStrategy] = createSignal<MergeStrategy>("squash");
  const [message, setMessage] = createSignal("");
  const [keepBranch, setKeepBranch] = createSignal(false);
  const base = () => props.worker.baseBranch ?? "the base branch";
  return (
    <Modal
      open={props.open}
      title={`Merge into ${base()}`}
      onClose={() => props.onClose()}
      testId="merge-dialog"
    >
      <form
        class="space-y-4"
        onSubmit={(e) => {
          e.preventDefault();
          props.onClose();
          props.onMerge({
            strategy: strategy(),
            keepBranch: keepBranch(),
            message: strategy() === "rebase" ? null : message().trim() || null,
          });
        }}
      >
        <fieldset class="space-y-1.5">
          <legend class="field-label">Strategy</legend>
          <For each={MERGE_STRATEGIES}>
            {(option) => (
              <label class="flex cursor-pointer items-baseline gap-2 font-mono text-xs">
                <input
                  type="radio"
                  name="merge-strategy"
                  value={option.value}
                  checked={strategy() === option.value}
                  onChange={() => setStrategy(option.value)}
                />
                <span class="text-zinc-100">{option.label}</span>
                <span class="text-zinc-500">{option.hint}</span>
              </label>
            )}
          </For>
        </fieldset>
        <Show
          when={strategy() !== "rebase"}
          fallback={
            <p class="font-mono text-[11px] text-zinc-500">
              A rebase keeps the run's own commit messages.
            </p>
          }
        >
          <Field
            label="Commit message (optional)"
            name="merge-message"
            rows={3}
            value={message()}
            onValue={setMessage}
            placeholder="default: the spec's title and its chunks' titles"
          />
        </Show>
        <label class="flex cursor-pointer items-center gap-2 font-mono text-xs text-zinc-400">
          <input
            type="checkbox"
            checked={keepBranch()}
            onChange={(e) => setKeepBranch(e.currentTarget.checked)}
          />
          keep the branch {props.worker.branch} after the merge
        </label>
        <ConflictWarning lines={props.warnings} conflicts={props.conflicts} />
        <div class="flex flex-wrap justify-end gap-2">
          <button type="button" class="btn" onClick={() => props.onClose()}>
            Cancel
          </button>
          <button type="submit" class="btn btn-primary" data-testid="merge-confirm">
            Merge into {base()}
          </button>
        </div>
      </form>
    </Modal>
  );
}
