import { pushToast } from "./toast.ts";
import type { StartResult } from "./types.ts";

/** The toast after a start: started now, or queued at its place (with a link to the dashboard). */
export function announceStart(title: string, result: StartResult, linkToWorkers: boolean): void {
  const link = linkToWorkers ? { href: "/workers", label: "Open workers →" } : undefined;
  if (result.status === "started") {
    pushToast("success", `"${title}" started on a worker.`, undefined, link);
  } else {
    pushToast(
      "info",
      `All slots busy: "${title}" is queued at #${result.queueItem.position}.`,
      undefined,
      link,
    );
  }
}
