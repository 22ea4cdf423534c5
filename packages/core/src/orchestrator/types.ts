import type { ExecutorKind, Progress } from "../protocol.ts";

/** Statuses of a worker (one spec run). `running` and `paused` hold a slot. */
export type WorkerStatus = "idle" | "running" | "paused" | "completed" | "failed" | "stopped";
export type WorkerStepName = "executing" | "reviewing";

/** The public shape of a worker, as the REST API, tRPC and the dashboard see it. */
export interface WorkerView {
  id: string;
  specId: string;
  projectId: string;
  projectName: string;
  specTitle: string;
  status: WorkerStatus;
  currentChunkId: string | null;
  currentChunkTitle: string | null;
  currentStep: WorkerStepName | null;
  progress: Progress;
  startedAt: number | null;
  finishedAt: number | null;
  error: string | null;
  executor: ExecutorKind;
  executorLabel: string;
  branch: string | null;
  workdir: string | null;
}

/** Why a queued item has not started yet. */
export type WaitReason = "no_slot" | "project_busy" | "memory" | "paused_queue" | null;

export interface QueueItemView {
  id: string;
  specId: string;
  projectId: string;
  projectName: string;
  specTitle: string;
  priority: number;
  addedAt: number;
  /** 1-based place in the queue. */
  position: number;
  waitReason: WaitReason;
  waitDetail: string | null;
}

/** Event names published on the bus, the SSE feed and tRPC subscriptions. */
export const WORKER_EVENT_TYPES = [
  "worker_started",
  "worker_progress",
  "worker_paused",
  "worker_resumed",
  "worker_completed",
  "worker_failed",
  "worker_stopped",
  "queue_updated",
  "log",
  "tool",
  "chunk_updated",
  "settings_updated",
] as const;
export type WorkerEventType = (typeof WORKER_EVENT_TYPES)[number];

/** A persisted event (row of worker_events) as published. */
export interface WorkerEvent {
  id: number;
  workerId: string | null;
  specId: string | null;
  type: WorkerEventType;
  payload: Record<string, unknown>;
  at: number;
}

export type StartResult =
  | { status: "started"; worker: WorkerView }
  | { status: "queued"; queueItem: QueueItemView };

export interface OrchestratorSnapshot {
  workers: WorkerView[];
  activeCount: number;
  maxWorkers: number;
  queue: QueueItemView[];
}
