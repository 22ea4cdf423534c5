import { createEffect, createUniqueId, type JSX, Show } from "solid-js";

interface ModalProps {
  open: boolean;
  title: string;
  onClose: () => void;
  children: JSX.Element;
  testId?: string;
}

/**
 * A modal on the native `<dialog>`: focus moves into it and stays there, Escape closes it, and
 * focus returns to where it was. Its content is only mounted while it is open (forms start clean).
 */
export function Modal(props: ModalProps): JSX.Element {
  let ref: HTMLDialogElement | undefined;
  const titleId = createUniqueId();
  createEffect(() => {
    if (!ref) return;
    if (props.open && !ref.open) ref.showModal();
    else if (!props.open && ref.open) ref.close();
  });
  return (
    // biome-ignore lint/a11y/useKeyWithClickEvents: Escape closes a native dialog; a backdrop click is the mouse's equivalent.
    <dialog
      ref={ref}
      aria-labelledby={titleId}
      data-testid={props.testId}
      class="m-auto w-[min(32rem,calc(100vw-1.5rem))] rounded-lg border border-line-strong bg-panel p-0 text-zinc-300 shadow-2xl shadow-black/60 backdrop:bg-black/70"
      onClose={() => props.onClose()}
      onClick={(e) => {
        // A click on the backdrop lands on the dialog element itself.
        if (e.target === e.currentTarget) props.onClose();
      }}
    >
      <Show when={props.open}>
        <div class="p-4 sm:p-5">
          <h2 id={titleId} class="prompt mb-4 font-mono text-sm font-semibold text-zinc-50">
            {props.title}
          </h2>
          {props.children}
        </div>
      </Show>
    </dialog>
  );
}

interface ConfirmProps {
  open: boolean;
  title: string;
  confirmLabel: string;
  onConfirm: () => void;
  onClose: () => void;
  children: JSX.Element;
  testId?: string;
}

/** Asks before a destructive action; the safe choice (Cancel) has the focus. */
export function ConfirmDialog(props: ConfirmProps): JSX.Element {
  return (
    <Modal open={props.open} title={props.title} onClose={props.onClose} testId={props.testId}>
      <div class="text-sm text-zinc-400">{props.children}</div>
      <div class="mt-5 flex flex-wrap justify-end gap-2">
        <button type="button" class="btn" autofocus onClick={() => props.onClose()}>
          Cancel
        </button>
        <button
          type="button"
          class="btn btn-danger border-red-400/60 text-red-300"
          data-testid="confirm-action"
          onClick={() => {
            props.onConfirm();
            props.onClose();
          }}
        >
          {props.confirmLabel}
        </button>
      </div>
    </Modal>
  );
}
