import { expect, onTestFinished } from "vitest";
import type { ExecutorKind } from "../src/enums.ts";
import { parseWorkerEvent, type WorkerEvent } from "../src/events.ts";
import { createRunStore, type RunStore } from "../src/store/index.ts";
import { type TempDb, tempDb } from "./helpers.ts";

export const executorLabel = (kind: ExecutorKind) => `label ${kind}`;

/** The store's writes that return events (as a list or as `{ events }`). */
const EVENT_WRITES = [
  "enqueue",
  "removeQueueItem",
  "setPriority",
  "reorder",
  "setWaitReasons",
  "queueUpdated",
  "claim",
  "markLaunched",
  "persistBatch",
  "finishRun",
  "saveSetting",
  "recordUsage",
] as const satisfies readonly (keyof RunStore)[];

/**
 * Asserts that each event is a valid published event: the strict zod protocol accepts it and
 * drops nothing (no stray fields), and ids increase.
 */
export function expectPublished(events: readonly WorkerEvent[]): void {
  for (const e of events) expect(parseWorkerEvent(e)).toEqual(e);
  const ids = events.map((e) => e.id);
  expect(ids).toEqual([...ids].sort((a, b) => a - b));
  expect(new Set(ids).size).toBe(ids.length);
}

export interface StoreFixture {
  d: TempDb;
  /** The store, with every write's returned events checked by `expectPublished`. */
  store: RunStore;
  /** Every event the store's writes returned so far, in order. */
  published: WorkerEvent[];
}

/** A run store over a fresh temp db, closed when the test ends. */
export async function storeFixture(): Promise<StoreFixture> {
  const d = await tempDb();
  onTestFinished(() => d.cleanup());
  const raw = createRunStore({ ...d.database, executorLabel });
  const published: WorkerEvent[] = [];
  const store: Record<string, unknown> = { ...raw };
  for (const name of EVENT_WRITES) {
    const fn = raw[name] as (...args: unknown[]) => Promise<unknown>;
    store[name] = async (...args: unknown[]) => {
      const out = await fn(...args);
      const events = (Array.isArray(out) ? out : (out as { events: WorkerEvent[] }).events) ?? [];
      expectPublished(events);
      published.push(...events);
      return out;
    };
  }
  return { d, store: store as RunStore, published };
}

/** One project with `n` specs ("s0", "s1", …) of `chunks` chunks each ("c0", "c1", …). */
export async function seedSpecs(d: TempDb, n: number, chunks = 1) {
  const project = await d.repos.projects.create({ name: "proj", directory: "/tmp/proj" });
  const specs = [];
  for (let i = 0; i < n; i++) {
    specs.push(
      await d.repos.specs.create({
        projectId: project.id,
        title: `s${i}`,
        chunks: Array.from({ length: chunks }, (_, k) => ({ title: `c${k}` })),
      }),
    );
  }
  return { project, specs };
}

/** The value, or a thrown error naming what was missing. */
export function must<T>(value: T | null | undefined, what = "value"): T {
  if (value === null || value === undefined) throw new Error(`missing ${what}`);
  return value;
}

export const lease = (leaseOwner = "me", leaseExpiresAt = Date.now() + 60_000) => ({
  executor: "simulated" as const,
  leaseOwner,
  leaseExpiresAt,
});

/** Queues `specId` and claims it; returns the new worker row. */
export async function startRun(store: RunStore, specId: string, claim = lease()) {
  const { item } = await store.enqueue(specId, 0);
  const { worker } = await store.claim(item.id, claim);
  if (!worker) throw new Error(`spec ${specId} was not claimed`);
  return worker;
}

/** A progress record with `current` chunks passed. */
export const progress = (current: number, total: number) => ({
  current,
  total,
  passed: current,
  failed: 0,
});

/** Lets the clock move on so the next row gets a later timestamp. */
export const tick = () => new Promise((r) => setTimeout(r, 3));
