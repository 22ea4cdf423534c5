import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { DrizzleDb, WriteFn } from "@glm-workers/db/client";
import { DbError } from "@glm-workers/db/errors";
import { createRunStore, type RunStore } from "@glm-workers/db/store";
import { OrchestratorError } from "../errors.ts";
import type {
  ExecutorConfig,
  ExecutorKind,
  RunResult,
  RunSnapshot,
  ThreadToMain,
} from "../protocol.ts";
import { availableMemory } from "./admission.ts";
import type { EventBus } from "./bus.ts";
import type { RunSink } from "./run-sink.ts";
import type { WorkerEvent } from "./types.ts";

/** What the orchestrator needs from a run pool (the Piscina RunPool in production). */
export interface RunHandleLike {
  pause(): Promise<void> | void;
  resume(): Promise<void> | void;
  abort(reason: string): Promise<void> | void;
  readonly result: Promise<RunResult>;
}
export interface RunLauncher {
  start(snapshot: RunSnapshot, handlers: { onMessage: (msg: ThreadToMain) => void }): RunHandleLike;
  close(opts?: { force?: boolean }): Promise<void>;
}

export interface OrchestratorOptions {
  /** The database (`openDatabase`): reads go through `db`, every write through `write`. */
  db: DrizzleDb;
  write: WriteFn;
  pool: RunLauncher;
  bus: EventBus;
  executor: ExecutorConfig;
  executorLabel: (kind: ExecutorKind) => string;
  maxWorkers: number;
  perProjectLimit?: number;
  perGitProjectLimit?: number;
  perRunBytes?: number;
  reserveBytes?: number;
  memoryProbe?: () => number;
  chunkTimeoutMs?: number;
  worktreeRoot?: string | null;
  leaseMs?: number;
  /** Event retention: rows older than this are deleted (the newest `keepEvents` always stay). */
  retentionMs?: number;
  keepEvents?: number;
  /** Worktrees of runs never landed are removed this long after the run ended (default 14 days). */
  worktreeRetentionMs?: number;
  /** How often retention runs after the one at start-up (default hourly). */
  retentionIntervalMs?: number;
  /** How long pause/resume wait for the thread's acknowledgement. */
  ackTimeoutMs?: number;
  /**
   * The GLM gateway: each run's agent gets its base URL and token instead of the upstream and
   * the key (which stay in the server).
   */
  gateway?: RunGateway | null;
  log?: (level: "info" | "warn" | "error", msg: string) => void;
}

export interface RunGateway {
  forRun(runId: string): { baseURL: string; apiKey: string };
}

export type ResolvedOptions = Required<
  Omit<OrchestratorOptions, "worktreeRoot" | "log" | "gateway">
> & {
  worktreeRoot: string | null;
  log: NonNullable<OrchestratorOptions["log"]>;
  gateway: RunGateway | null;
};

export const MAX_WORKERS_LIMIT = 64;

/** A run this process drives: its live view (through the sink), its thread and its end. */
export interface Active {
  sink: RunSink;
  handle: RunHandleLike | null;
  stopRequested: boolean;
  shutdown: boolean;
  /** Settles once the run's final state is committed (or checkpointed on shutdown). */
  finished: Promise<void>;
  markFinished: () => void;
}

/** State shared by the orchestrator's parts (scheduling, run lifecycle, maintenance). */
export class OrchestratorContext {
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  readonly o: ResolvedOptions;
  readonly store: RunStore;
  readonly active = new Map<string, Active>();
  /**
   * Runs claimed by the queue whose launch has not registered them in `active` yet (worker id →
   * project id): they hold their slot already, so admission counts them.
   */
  readonly launching = new Map<string, string>();
  /** The queue changed without a `queue_updated` yet: the next admission pass announces it. */
  queueDirty = false;
  /** The launches the queue started and that have not finished (worker id → launch). */
  readonly launches = new Map<string, Promise<void>>();
  maxWorkers: number;
  queuePaused = false;
  /** Every model request is held (quota) until then; nothing new starts meanwhile. */
  gatewayHold: { until: number; reason: string } | null = null;
  /** The queue priority each running run started with (the gateway serves waiting requests by it). */
  readonly priorities = new Map<string, number>();
  /** Why the queue is held, when something other than the user held it (shown as a banner). */
  queueHoldReason: string | null = null;
  closing = false;

  constructor(options: OrchestratorOptions) {
    this.o = {
      perProjectLimit: 1,
      perGitProjectLimit: MAX_WORKERS_LIMIT,
      perRunBytes: options.executor.kind === "opencode" ? 640 * 1048576 : 64 * 1048576,
      reserveBytes: 256 * 1048576,
      memoryProbe: availableMemory,
      chunkTimeoutMs: 15 * 60_000,
      leaseMs: 15_000,
      retentionMs: 7 * 24 * 3600_000,
      keepEvents: 100_000,
      worktreeRetentionMs: 14 * 24 * 3600_000,
      retentionIntervalMs: 3600_000,
      ackTimeoutMs: 10_000,
      log: () => {},
      ...options,
      worktreeRoot: options.worktreeRoot ?? null,
      gateway: options.gateway ?? null,
    };
    this.maxWorkers = options.maxWorkers;
    this.store = createRunStore({
      db: options.db,
      write: options.write,
      executorLabel: options.executorLabel,
    });
  }

  publish(events: readonly WorkerEvent[]): void {
    for (const e of events) this.o.bus.publish(e);
  }

  assertOpen(): void {
    if (this.closing) throw new OrchestratorError("UNAVAILABLE", "the server is shutting down");
  }
}

/** What a run or queued item shows while the gateway holds every request (quota). */
export function quotaWaitText(hold: { until: number }): string {
  return `waiting for quota until ${new Date(hold.until).toTimeString().slice(0, 5)}`;
}

/** The store's typed errors in the orchestrator's terms (the API maps both the same way). */
export function asOrchestratorError(err: unknown): unknown {
  if (!(err instanceof DbError)) return err;
  switch (err.code) {
    case "NOT_FOUND":
      return new OrchestratorError("NOT_FOUND", err.message);
    case "CONFLICT":
      return new OrchestratorError("CONFLICT", err.message);
    case "VALIDATION":
      return new OrchestratorError("BAD_REQUEST", err.message);
    default:
      return new OrchestratorError("UNAVAILABLE", err.message);
  }
}

/** Runs a store call, turning its errors into OrchestratorErrors. */
export async function storeCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw asOrchestratorError(err);
  }
}
