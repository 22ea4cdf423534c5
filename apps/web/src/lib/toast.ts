import { createSignal } from "solid-js";

export type ToastKind = "error" | "info" | "success";

/** An in-app link shown after the text (e.g. "Open workers"). */
export interface ToastLink {
  href: string;
  label: string;
}

export interface Toast {
  id: number;
  kind: ToastKind;
  text: string;
  link?: ToastLink;
}

const [toasts, setToasts] = createSignal<readonly Toast[]>([]);
const timers = new Map<number, ReturnType<typeof setTimeout>>();
let nextId = 1;

export { toasts };

export function dismissToast(id: number): void {
  const timer = timers.get(id);
  if (timer !== undefined) clearTimeout(timer);
  timers.delete(id);
  setToasts((list) => list.filter((t) => t.id !== id));
}

/** Shows a message in the corner; errors stay longer. Returns its id. */
export function pushToast(
  kind: ToastKind,
  text: string,
  ms = kind === "error" ? 8000 : 4000,
  link?: ToastLink,
): number {
  const id = nextId++;
  setToasts((list) => [...list.slice(-4), { id, kind, text, ...(link ? { link } : {}) }]);
  timers.set(
    id,
    setTimeout(() => dismissToast(id), ms),
  );
  return id;
}
