import type { FeedState } from "./event-feed.ts";
import type { QueueItem, StartResult, Worker, WorkerEvent } from "./types.ts";
import type { WorkersData } from "./workers-events.ts";

export interface WorkersState extends WorkersData {
  /** The first snapshot has arrived. */
  loaded: boolean;
  /** Why the last snapshot could not be loaded (the view keeps what it had). */
  loadError: string | null;
  connection: FeedState;
}

export interface WorkersStore {
  readonly state: WorkersState;
  /** Workers holding a slot (running, paused), oldest first. */
  active(): Worker[];
  /** Finished workers, newest first. */
  recent(): Worker[];
  activeCount(): number;
  /** Every slot is taken: new specs will be queued. */
  full(): boolean;
  /** The active worker of a spec, else its most recent finished one. */
  workerForSpec(specId: string): Worker | undefined;
  queueItemForSpec(specId: string): QueueItem | undefined;
  /**
   * Starts the spec now or queues it (the result says which); null when the server refused.
   * `model` overrides the spec's model for this run.
   */
  start(specId: string, priority?: number, model?: string | null): Promise<StartResult | null>;
  pause(workerId: string): Promise<boolean>;
  resume(workerId: string): Promise<boolean>;
  stop(workerId: string): Promise<boolean>;
  pauseAll(): Promise<boolean>;
  /** Stops every run and pauses the queue (resume it with `setQueuePaused(false)`). */
  stopAll(): Promise<boolean>;
  /** Adds the spec to the queue without asking for an immediate start. */
  enqueue(specId: string, priority?: number, model?: string | null): Promise<boolean>;
  remove(queueId: string): Promise<boolean>;
  setPriority(queueId: string, priority: number): Promise<boolean>;
  /** Saves `ids` as the full new queue order. */
  reorder(ids: readonly string[]): Promise<boolean>;
  /** Moves one queue item to `toIndex` (clamped) and saves the order. */
  move(queueId: string, toIndex: number): Promise<boolean>;
  setQueuePaused(paused: boolean): Promise<boolean>;
  setMaxWorkers(maxWorkers: number): Promise<boolean>;
  /** Reloads the snapshot from the server (also done on every (re)connect). */
  refresh(): Promise<void>;
  /**
   * Every event of the app's one live feed (logs, tool calls and chunk changes included), for
   * views that follow one worker. Returns the unsubscribe function.
   */
  listen(listener: (event: WorkerEvent) => void): () => void;
  /** Called after each (re)connect of the feed, when views should reload what they show. */
  onReconnect(listener: () => void): () => void;
}
