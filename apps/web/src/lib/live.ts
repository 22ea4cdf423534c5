import { createSignal } from "solid-js";

/**
 * Live counters shown on every page. The nav reads them; the workers store (dashboard issue)
 * is the one writer. Module-level signals: one reactive source for the whole app.
 */
const [activeWorkerCount, setActiveWorkerCountSignal] = createSignal(0);

export { activeWorkerCount };

export function setActiveWorkerCount(count: number): void {
  setActiveWorkerCountSignal(Number.isFinite(count) && count > 0 ? Math.floor(count) : 0);
}
