import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "./client.ts";
import { createEventsRepository } from "./repositories/events.ts";

export interface EventBenchOptions {
  /** Concurrent callers, each awaiting its own append before the next (default 64). */
  callers?: number;
  /** Events per append call (default 1). */
  eventsPerCall?: number;
  /** Events to write in total (default 20 000). */
  totalEvents?: number;
  /** Directory for the temporary database (a fresh temp dir when omitted; removed afterwards). */
  dir?: string;
  /** Payload bytes per event (default ~100). */
  payloadBytes?: number;
}

export interface EventBenchResult {
  callers: number;
  eventsPerCall: number;
  events: number;
  calls: number;
  ms: number;
  eventsPerSec: number;
  callsPerSec: number;
  /** Transactions committed. */
  batches: number;
  avgBatch: number;
  maxBatch: number;
  /** Rows found in the file after close and reopen (must equal `events`). */
  persisted: number;
}

/** Measures event appends per second through the group-committing writer on a temp file. */
export async function benchEventAppends(
  options: EventBenchOptions = {},
): Promise<EventBenchResult> {
  const callers = Math.max(1, options.callers ?? 64);
  const eventsPerCall = Math.max(1, options.eventsPerCall ?? 1);
  const totalEvents = Math.max(1, options.totalEvents ?? 20_000);
  const calls = Math.ceil(totalEvents / eventsPerCall);
  const payload = { line: "x".repeat(Math.max(0, options.payloadBytes ?? 100)) };
  const dir = mkdtempSync(join(options.dir ?? tmpdir(), "glm-db-bench-"));
  const url = `file:${join(dir, "bench.db")}`;
  try {
    const database = await openDatabase({ url });
    const events = createEventsRepository(database);
    let next = 0;
    const started = performance.now();
    const caller = async (c: number) => {
      while (next < calls) {
        const n = next++;
        await events.append(
          Array.from({ length: eventsPerCall }, (_, i) => ({
            workerId: `w${c}`,
            type: "log",
            payload: { ...payload, n, i },
          })),
        );
      }
    };
    await Promise.all(Array.from({ length: callers }, (_, c) => caller(c)));
    const ms = performance.now() - started;
    const { batches, maxBatch } = database.stats;
    await database.close();

    const check = await openDatabase({ url, migrate: false });
    const rs = await check.client.execute("SELECT count(*) AS n FROM worker_events");
    await check.close();
    const events_ = calls * eventsPerCall;
    return {
      callers,
      eventsPerCall,
      events: events_,
      calls,
      ms: Math.round(ms),
      eventsPerSec: Math.round((events_ / ms) * 1000),
      callsPerSec: Math.round((calls / ms) * 1000),
      batches,
      avgBatch: batches > 0 ? Math.round((calls / batches) * 10) / 10 : 0,
      maxBatch,
      persisted: Number(rs.rows[0]?.n ?? 0),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
