import { and, eq, gte, inArray, type SQL, sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import type { WorkerStep } from "../enums.ts";
import {
  type ChunkUsage,
  emptyUsage,
  type NewEvent,
  type Usage,
  type UsageSummary,
} from "../events.ts";
import type { Queryable } from "../repositories/shared.ts";
import { chunks, chunkUsage, runUsage, usageRequests, workers } from "../schema.ts";
import type { WriteTx } from "../writer.ts";

/** Model usage: the counters, their sums, and the `usage_updated` events (inside the caller's tx). */

/** The window of the summary's `last5h`. */
export const USAGE_WINDOW_MS = 5 * 3600_000;

/** What the usage tables add up (see `usageCounters` in the schema). */
export interface UsageCounters {
  inputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  cacheReadTokens: number;
  requests: number;
  pricedRequests: number;
  costMicros: number;
}

/**
 * One finished model request (or several) as the orchestrator reports it: counts, the model,
 * its API-equivalent cost in micro-USD (null: no price known for the model), when it finished,
 * and the chunk step it is attributed to (both null: the run only).
 */
export interface UsageReport {
  inputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  cacheReadTokens: number;
  requests: number;
  model: string | null;
  costMicros: number | null;
  at: number;
  chunkId: string | null;
  step: WorkerStep | null;
}

const COUNTER_KEYS = [
  "inputTokens",
  "outputTokens",
  "reasoningTokens",
  "cacheReadTokens",
  "requests",
  "pricedRequests",
  "costMicros",
] as const satisfies readonly (keyof UsageCounters)[];

export function zeroCounters(): UsageCounters {
  return {
    inputTokens: 0,
    outputTokens: 0,
    reasoningTokens: 0,
    cacheReadTokens: 0,
    requests: 0,
    pricedRequests: 0,
    costMicros: 0,
  };
}

/** The counters one report adds. */
export function reportCounters(r: Omit<UsageReport, "chunkId" | "step" | "at">): UsageCounters {
  return {
    inputTokens: r.inputTokens,
    outputTokens: r.outputTokens,
    reasoningTokens: r.reasoningTokens,
    cacheReadTokens: r.cacheReadTokens,
    requests: r.requests,
    pricedRequests: r.costMicros === null ? 0 : r.requests,
    costMicros: r.costMicros ?? 0,
  };
}

function addInto(into: UsageCounters, add: UsageCounters): UsageCounters {
  for (const key of COUNTER_KEYS) into[key] += add[key];
  return into;
}

/** The public shape of counters: the cost in USD, or null when none of the usage is priced. */
export function toUsage(c: UsageCounters | null | undefined): Usage {
  if (!c) return emptyUsage();
  return {
    inputTokens: c.inputTokens,
    outputTokens: c.outputTokens,
    reasoningTokens: c.reasoningTokens,
    cacheReadTokens: c.cacheReadTokens,
    requests: c.requests,
    costUsd: c.requests === 0 ? 0 : c.pricedRequests === 0 ? null : c.costMicros / 1_000_000,
  };
}

/**
 * `usage` plus one report, computed the way the store sums it (micro-USD, priced requests), so a
 * live view kept in memory matches what the store answers afterwards.
 */
export function addUsage(usage: Usage, report: Omit<UsageReport, "chunkId" | "step" | "at">) {
  const add = reportCounters(report);
  const base: UsageCounters = {
    inputTokens: usage.inputTokens,
    outputTokens: usage.outputTokens,
    reasoningTokens: usage.reasoningTokens,
    cacheReadTokens: usage.cacheReadTokens,
    requests: usage.requests,
    // only "priced or not" matters for the public shape
    pricedRequests: usage.costUsd === null || usage.requests === 0 ? 0 : 1,
    costMicros: Math.round((usage.costUsd ?? 0) * 1_000_000),
  };
  return toUsage(addInto(base, add));
}

// ---- writes ------------------------------------------------------------------------

/** `SET col = col + excluded.col` for every counter of `table`. */
function increments(table: Record<keyof UsageCounters, SQLiteColumn>): Record<string, SQL> {
  const set: Record<string, SQL> = {};
  for (const key of COUNTER_KEYS) {
    const name = sql.raw(`"${table[key].name}"`);
    set[key] = sql`${name} + excluded.${name}`;
  }
  return set;
}

const sums = <T extends Record<keyof UsageCounters, SQLiteColumn>>(table: T) => {
  const out = {} as Record<keyof UsageCounters, SQL<number>>;
  for (const key of COUNTER_KEYS) {
    out[key] = sql<number>`coalesce(sum(${table[key]}), 0)`.mapWith(Number);
  }
  return out;
};

function keyOf(r: Pick<UsageReport, "chunkId" | "step">): string {
  return r.chunkId && r.step ? `${r.chunkId}\u0000${r.step}` : "";
}

/**
 * Records reports of one run in the caller's transaction: one `usage_requests` row each, the
 * run's counters and each chunk step's counters `+=` their sums. A report whose chunk is not one
 * of the run's spec (or that names no step) counts for the run only. Returns one
 * `usage_updated` per chunk step touched (absolute values after the change), or nothing when
 * the worker does not exist.
 */
export async function recordUsage(
  tx: WriteTx,
  workerId: string,
  reports: readonly UsageReport[],
): Promise<NewEvent[]> {
  if (reports.length === 0) return [];
  const [worker] = await tx
    .select({ specId: workers.specId })
    .from(workers)
    .where(eq(workers.id, workerId))
    .limit(1);
  if (!worker) return [];
  const specId = worker.specId;

  const named = [...new Set(reports.flatMap((r) => (r.chunkId && r.step ? [r.chunkId] : [])))];
  const known = new Set(
    named.length === 0
      ? []
      : (
          await tx
            .select({ id: chunks.id })
            .from(chunks)
            .where(and(eq(chunks.specId, specId), inArray(chunks.id, named)))
        ).map((c) => c.id),
  );
  const attributed = reports.map((r) =>
    r.chunkId && r.step && known.has(r.chunkId) ? r : { ...r, chunkId: null, step: null },
  );

  await tx.insert(usageRequests).values(
    attributed.map((r) => ({
      at: r.at,
      workerId,
      chunkId: r.chunkId,
      step: r.step,
      model: r.model,
      ...reportCounters(r),
    })),
  );

  // the run's counters, and each chunk step's, in the order they were first touched
  const run = zeroCounters();
  const groups = new Map<
    string,
    { chunkId: string | null; step: WorkerStep | null; add: UsageCounters; at: number }
  >();
  for (const r of attributed) {
    const add = reportCounters(r);
    addInto(run, add);
    const key = keyOf(r);
    const group = groups.get(key);
    if (group) {
      addInto(group.add, add);
      group.at = Math.max(group.at, r.at);
    } else groups.set(key, { chunkId: r.chunkId, step: r.step, add, at: r.at });
  }
  const now = Date.now();
  const [runRow] = await tx
    .insert(runUsage)
    .values({ workerId, ...run, updatedAt: now })
    .onConflictDoUpdate({
      target: runUsage.workerId,
      set: { ...increments(runUsage), updatedAt: now },
    })
    .returning();
  const runTotal = toUsage(runRow);
  const specTotal = await specUsage(tx, specId);

  const events: NewEvent[] = [];
  for (const group of groups.values()) {
    let chunkTotal: Usage | null = null;
    if (group.chunkId && group.step) {
      await tx
        .insert(chunkUsage)
        .values({
          chunkId: group.chunkId,
          step: group.step,
          workerId,
          ...group.add,
          updatedAt: now,
        })
        .onConflictDoUpdate({
          target: [chunkUsage.chunkId, chunkUsage.step, chunkUsage.workerId],
          set: { ...increments(chunkUsage), updatedAt: now },
        });
      const [sum] = await tx
        .select(sums(chunkUsage))
        .from(chunkUsage)
        .where(and(eq(chunkUsage.chunkId, group.chunkId), eq(chunkUsage.step, group.step)));
      chunkTotal = toUsage(sum);
    }
    events.push({
      type: "usage_updated",
      workerId,
      specId,
      at: group.at,
      payload: {
        chunkId: group.chunkId,
        step: group.step,
        usage: runTotal,
        chunkUsage: chunkTotal,
        specUsage: specTotal,
      },
    });
  }
  return events;
}

// ---- reads -------------------------------------------------------------------------

/** The usage of every run of a spec. */
export async function specUsage(q: Queryable, specId: string): Promise<Usage> {
  const [row] = await q
    .select(sums(runUsage))
    .from(runUsage)
    .innerJoin(workers, eq(workers.id, runUsage.workerId))
    .where(eq(workers.specId, specId));
  return toUsage(row);
}

/** The usage of every run of every spec of a project. */
export async function projectUsage(q: Queryable, projectId: string): Promise<Usage> {
  const [row] = await q
    .select(sums(runUsage))
    .from(runUsage)
    .innerJoin(workers, eq(workers.id, runUsage.workerId))
    .where(eq(workers.projectId, projectId));
  return toUsage(row);
}

/** Each chunk of the spec that used a model: its usage per step over all runs. */
export async function chunkUsageOfSpec(
  q: Queryable,
  specId: string,
): Promise<Map<string, ChunkUsage>> {
  const rows = await q
    .select({ chunkId: chunkUsage.chunkId, step: chunkUsage.step, ...sums(chunkUsage) })
    .from(chunkUsage)
    .innerJoin(chunks, eq(chunks.id, chunkUsage.chunkId))
    .where(eq(chunks.specId, specId))
    .groupBy(chunkUsage.chunkId, chunkUsage.step);
  const out = new Map<string, ChunkUsage>();
  for (const row of rows) {
    const entry = out.get(row.chunkId) ?? { executing: null, reviewing: null };
    entry[row.step] = toUsage(row);
    out.set(row.chunkId, entry);
  }
  return out;
}

/** Everything recorded, and what was recorded in the last 5 hours (by request time). */
export async function usageSummary(q: Queryable, now = Date.now()): Promise<UsageSummary> {
  const [[recent], [total]] = await Promise.all([
    q
      .select(sums(usageRequests))
      .from(usageRequests)
      .where(gte(usageRequests.at, now - USAGE_WINDOW_MS)),
    q.select(sums(usageRequests)).from(usageRequests),
  ]);
  return { last5h: toUsage(recent), total: toUsage(total) };
}

/** Read-only usage queries over a database (the API's spec, project and summary figures). */
export function usageReads(q: Queryable) {
  return {
    spec: (specId: string) => specUsage(q, specId),
    project: (projectId: string) => projectUsage(q, projectId),
    chunksOfSpec: (specId: string) => chunkUsageOfSpec(q, specId),
    summary: (now?: number) => usageSummary(q, now),
  };
}
export type UsageReads = ReturnType<typeof usageReads>;
