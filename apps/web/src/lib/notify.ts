import { createSignal } from "solid-js";
import { pushToast } from "./toast.ts";
import type { Worker, WorkerEvent } from "./types.ts";

/**
 * Telling the user that a run ended while they looked elsewhere: an opt-in browser notification
 * (asked for only when the header toggle is pressed, remembered in localStorage) and a count in
 * the tab title while the tab is hidden, e.g. `(2) glm-workers`. `RunWatcher`, `countedTitle`
 * and `createTitleCounter` are plain logic; `startRunNotifications` wires them to the feed.
 */

export type RunOutcomeKind = "completed" | "fixed" | "failed";

/** A run that ended in a way worth telling: what the notification says and where it leads. */
export interface RunOutcome {
  workerId: string;
  kind: RunOutcomeKind;
  /** The spec's title. */
  title: string;
  body: string;
  /** The run's page. */
  href: string;
}

const ERROR_MAX = 160;

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** `+12 −3 in 4 files`, or null when the run's changes were not counted. */
export function changesText(changes: Worker["changes"]): string | null {
  if (!changes) return null;
  return `+${changes.additions} −${changes.deletions} in ${plural(changes.files, "file", "files")}`;
}

function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** What a finished run's notification says. */
export function outcomeOf(worker: Worker, fixes: number): RunOutcome | null {
  const base = { workerId: worker.id, title: worker.specTitle, href: `/workers/${worker.id}` };
  const changes = changesText(worker.changes);
  const suffix = changes ? ` · ${changes}` : "";
  if (worker.status === "failed") {
    const why = worker.error ? `: ${clip(worker.error, ERROR_MAX)}` : "";
    return { ...base, kind: "failed", body: `Failed${why}` };
  }
  if (worker.status !== "completed") return null;
  if (fixes > 0) {
    return {
      ...base,
      kind: "fixed",
      body: `Completed after ${plural(fixes, "review fix", "review fixes")} — ready to review${suffix}`,
    };
  }
  return { ...base, kind: "completed", body: `Completed — ready to review${suffix}` };
}

/**
 * Follows the live feed and says which events end a run worth telling: `worker_completed` (with
 * how many chunks the review sent back with `needs_fix` during the run) and `worker_failed`.
 * A stop is the user's own doing and a landing comes after the run was told; neither is told.
 * Each run's end is told once, even when the feed delivers it again.
 */
export class RunWatcher {
  /** Per run: the chunks whose last review said `needs_fix`. */
  private readonly fixes = new Map<string, Set<string>>();
  private readonly told = new Set<string>();

  handle(event: WorkerEvent): RunOutcome | null {
    switch (event.type) {
      case "chunk_updated": {
        const review = event.chunk.reviewStatus;
        if (review === undefined) return null;
        const chunks = this.fixes.get(event.workerId) ?? new Set<string>();
        if (review === "needs_fix") chunks.add(event.chunk.id);
        else chunks.delete(event.chunk.id);
        if (chunks.size > 0) this.fixes.set(event.workerId, chunks);
        else this.fixes.delete(event.workerId);
        return null;
      }
      case "worker_completed":
      case "worker_failed": {
        const worker = event.worker;
        const key = `${worker.id}:${worker.status}:${worker.finishedAt ?? event.at}`;
        const fixes = this.fixes.get(worker.id)?.size ?? 0;
        this.fixes.delete(worker.id);
        if (this.told.has(key)) return null;
        const outcome = outcomeOf(worker, fixes);
        if (outcome) this.told.add(key);
        return outcome;
      }
      default:
        return null;
    }
  }
}

const COUNT_PREFIX = /^\(\d+\)\s+/;

/** `title` with `(count) ` in front (replacing an earlier count); without it when count is 0. */
export function countedTitle(title: string, count: number): string {
  const base = title.replace(COUNT_PREFIX, "");
  return count > 0 ? `(${count}) ${base}` : base;
}

/** What the title counter needs of `document`. */
export interface TitleTarget {
  title: string;
  readonly visibilityState: DocumentVisibilityState;
  addEventListener(type: "visibilitychange", listener: () => void): void;
  removeEventListener(type: "visibilitychange", listener: () => void): void;
}

export interface TitleCounter {
  /** Counts one ended run in the title if the tab is hidden; says whether it did. */
  bump(): boolean;
  count(): number;
  dispose(): void;
}

/** Counts ended runs in the tab title while the tab is hidden; clears when it is shown again. */
export function createTitleCounter(doc: TitleTarget): TitleCounter {
  let count = 0;
  const onVisibility = () => {
    if (doc.visibilityState !== "visible" || count === 0) return;
    count = 0;
    doc.title = countedTitle(doc.title, 0);
  };
  doc.addEventListener("visibilitychange", onVisibility);
  return {
    bump() {
      if (doc.visibilityState !== "hidden") return false;
      count++;
      doc.title = countedTitle(doc.title, count);
      return true;
    },
    count: () => count,
    dispose() {
      doc.removeEventListener("visibilitychange", onVisibility);
      if (count > 0) doc.title = countedTitle(doc.title, 0);
      count = 0;
    },
  };
}

/** The localStorage key of the user's choice (`on` / `off`). */
export const NOTIFY_STORAGE_KEY = "glm-workers.notify";

function readChoice(): boolean {
  try {
    return globalThis.localStorage?.getItem(NOTIFY_STORAGE_KEY) === "on";
  } catch {
    return false; // storage blocked: notifications stay off
  }
}

function saveChoice(on: boolean): void {
  try {
    globalThis.localStorage?.setItem(NOTIFY_STORAGE_KEY, on ? "on" : "off");
  } catch {
    // storage blocked: the choice lasts for this tab only
  }
}

const [notifyChoice, setNotifyChoice] = createSignal(readChoice());

/** This browser can show notifications at all. */
export function notificationsSupported(): boolean {
  return typeof Notification !== "undefined";
}

/** The user asked for notifications and the browser still allows them. */
export function notifyOn(): boolean {
  return notifyChoice() && notificationsSupported() && Notification.permission === "granted";
}

/** The header toggle: asks the browser's permission (only now), then remembers the choice. */
export async function toggleNotifications(): Promise<void> {
  if (notifyOn()) {
    setNotifyChoice(false);
    saveChoice(false);
    return;
  }
  if (!notificationsSupported()) {
    pushToast("error", "This browser cannot show notifications.");
    return;
  }
  let permission = Notification.permission;
  if (permission === "default") {
    try {
      permission = await Notification.requestPermission();
    } catch {
      permission = "denied";
    }
  }
  const granted = permission === "granted";
  setNotifyChoice(granted);
  saveChoice(granted);
  if (granted) pushToast("info", "You will get a notification when a run ends.");
  else
    pushToast(
      "error",
      "Notifications are blocked for this site: allow them in the browser's site settings.",
    );
}

/** Notifications only matter when the user is not looking at this tab. */
function lookingAway(): boolean {
  return document.visibilityState === "hidden" || !document.hasFocus();
}

function show(outcome: RunOutcome, navigate: (href: string) => void): void {
  try {
    const notification = new Notification(outcome.title, {
      body: outcome.body,
      tag: `run-${outcome.workerId}`,
      icon: "/favicon.svg",
    });
    notification.onclick = () => {
      window.focus();
      navigate(outcome.href);
      notification.close();
    };
  } catch {
    // some browsers only notify from a service worker: the title count still tells
  }
}

export interface RunNotificationOptions {
  /** Every event of the app's live feed. Returns the unsubscribe function. */
  listen(listener: (event: WorkerEvent) => void): () => void;
  /** In-app navigation (a notification's click opens the run's page). */
  navigate(href: string): void;
}

/** Tells each ended run: the title count while hidden, a notification when opted in. */
export function startRunNotifications(options: RunNotificationOptions): () => void {
  if (typeof document === "undefined") return () => {};
  const watcher = new RunWatcher();
  const counter = createTitleCounter(document);
  const stop = options.listen((event) => {
    const outcome = watcher.handle(event);
    if (!outcome) return;
    counter.bump();
    if (notifyOn() && lookingAway()) show(outcome, options.navigate);
  });
  return () => {
    stop();
    counter.dispose();
  };
}
