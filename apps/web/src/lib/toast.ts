import { createSignal } from "solid-js";

export type ToastKind = "error" | "info" | "success";

export interface Toast {
  id: number;
  kind: ToastKind;
  text: string;
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
): number {
  const id = nextId++;
  setToasts((list) => [...list.slice(-4), { id, kind, text }]);
  timers.set(
    id,
    setTimeout(() => dismissToast(id), ms),
  );
  return id;
}
