import { AsyncLocalStorage } from "node:async_hooks";
import { setTimeout as delay } from "node:timers/promises";
import type { ExtractTablesWithRelations } from "drizzle-orm";
import { sql } from "drizzle-orm";
import type { LibSQLDatabase, LibSQLTransaction } from "drizzle-orm/libsql";
import { ClosedError } from "./errors.ts";
import type * as schema from "./schema.ts";
import { coerceError, isBusyError } from "./sqlite-errors.ts";

export type Schema = typeof schema;
/** The drizzle database type over our schema (libsql). */
export type DrizzleDb = LibSQLDatabase<Schema>;
/** What a `write` callback receives: a transaction (or a savepoint inside the batch transaction). */
export type WriteTx = LibSQLTransaction<Schema, ExtractTablesWithRelations<Schema>>;
export type WriteFn = <T>(fn: (tx: WriteTx) => Promise<T>) => Promise<T>;

export interface WriterStats {
  /** Write operations that settled (committed or failed). */
  writes: number;
  /** Transactions committed (each holds one batch). */
  batches: number;
  /** Largest batch seen. */
  maxBatch: number;
  /** Batch attempts retried after SQLITE_BUSY. */
  busyRetries: number;
  /** Batches that failed as a whole and were re-run one write at a time. */
  splits: number;
}

export interface GroupWriterOptions {
  /** Drizzle over the connection used for writes. */
  db: DrizzleDb;
  /** Called after SQLITE_BUSY, before the retry: reconnect (libsql #352) and re-apply PRAGMAs. */
  recover: () => Promise<void>;
  /** Called when the batch transaction found foreign keys off: switch them on outside a transaction. */
  enableForeignKeys?: () => Promise<void>;
  /** Check `PRAGMA foreign_keys` inside every batch transaction (local files). */
  verifyForeignKeys: boolean;
  maxBatchSize: number;
  maxRetries: number;
  retryBaseMs: number;
}

interface Pending {
  fn: (tx: WriteTx) => Promise<unknown>;
  settled: boolean;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

class ForeignKeysOffError extends Error {
  constructor() {
    super("PRAGMA foreign_keys is off on the write connection");
    this.name = "ForeignKeysOffError";
  }
}

/** One write threw (not BUSY): its transaction attempt is abandoned and the batch re-run without it. */
class ItemFailedError extends Error {
  readonly item: Pending;
  readonly error: Error;
  constructor(item: Pending, error: Error) {
    super(error.message, { cause: error });
    this.name = "ItemFailedError";
    this.item = item;
    this.error = error;
  }
}

/** Raised inside a batch when the transaction itself became unusable; the batch is then split. */
class BatchAbortedError extends Error {
  constructor(cause: Error) {
    super(`batch transaction aborted: ${cause.message}`, { cause });
    this.name = "BatchAbortedError";
  }
}

const insideWrite = new AsyncLocalStorage<true>();

/**
 * The one writer of the database. Writes that arrive while a transaction is in flight are queued
 * and committed together in the next transaction (group commit). A write that throws rejects only
 * its own caller and leaves nothing behind: the attempt is rolled back and the batch re-run without
 * it (after repeated failures in one batch, each write gets its own savepoint instead).
 * On SQLITE_BUSY the whole batch is retried with backoff after reconnecting.
 *
 * Write callbacks may be run more than once (BUSY retry, a neighbour's failure, batch split): keep
 * them to database work.
 */
export class GroupWriter {
  readonly #o: GroupWriterOptions;
  #queue: Pending[] = [];
  #draining: Promise<void> | null = null;
  #closing = false;
  readonly stats: WriterStats = { writes: 0, batches: 0, maxBatch: 0, busyRetries: 0, splits: 0 };

  constructor(options: GroupWriterOptions) {
    this.#o = options;
  }

  /** Number of writes waiting for the next transaction. */
  get pending(): number {
    return this.#queue.length;
  }

  write<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    if (this.#closing) return Promise.reject(new ClosedError());
    if (insideWrite.getStore()) {
      return Promise.reject(
        new Error(
          "write() was called inside a write callback; use the transaction passed to the callback",
        ),
      );
    }
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({
        fn,
        settled: false,
        resolve: resolve as (value: unknown) => void,
        reject,
      });
      this.#kick();
    });
  }

  /** Stops accepting writes and resolves once every queued write has settled. Idempotent. */
  async drain(): Promise<void> {
    this.#closing = true;
    while (this.#draining) await this.#draining;
  }

  #kick(): void {
    if (this.#draining) return;
    this.#draining = this.#loop().finally(() => {
      this.#draining = null;
      if (this.#queue.length > 0) this.#kick();
    });
  }

  async #loop(): Promise<void> {
    while (this.#queue.length > 0) {
      // Before each batch, let the event loop run once: the statements of a local file block the
      // thread, so messages and requests that arrived meanwhile (a run's thread reporting, an
      // HTTP call) only reach the queue now — and then share this batch's commit (one fsync).
      await new Promise<void>((resolve) => setImmediate(resolve));
      const batch = this.#queue.splice(0, this.#o.maxBatchSize);
      await this.#runBatch(batch);
    }
  }

  async #runBatch(batch: Pending[]): Promise<void> {
    // Writes that failed by themselves; the rest of the batch is re-run without them.
    const failed = new Map<Pending, Error>();
    let useSavepoints = false;
    let fkAttempts = 0;
    let attempt = 0;
    for (;;) {
      const live = batch.filter((item) => !failed.has(item));
      if (live.length === 0) {
        this.#settle(batch, new Map(), failed);
        return;
      }
      try {
        const values = await this.#attempt(live, useSavepoints, failed);
        this.stats.batches++;
        this.stats.maxBatch = Math.max(this.stats.maxBatch, live.length);
        this.#settle(batch, values, failed);
        return;
      } catch (raw) {
        if (raw instanceof ItemFailedError) {
          failed.set(raw.item, raw.error);
          // Many failures in one batch: isolate the rest with savepoints instead of re-running it.
          if (failed.size >= 2) useSavepoints = true;
          continue;
        }
        const err = raw instanceof BatchAbortedError ? (raw.cause as Error) : coerceError(raw);
        if (isBusyError(err) && attempt < this.#o.maxRetries) {
          this.stats.busyRetries++;
          await this.#recover(attempt);
          attempt++;
          continue;
        }
        if (err instanceof ForeignKeysOffError && fkAttempts < 3 && this.#o.enableForeignKeys) {
          fkAttempts++;
          await this.#o.enableForeignKeys().catch(() => {});
          continue;
        }
        if (live.length > 1 && !isBusyError(err)) {
          // The transaction failed as a whole (commit error, transaction closed under us):
          // give every write its own transaction so each caller gets its own answer.
          this.stats.splits++;
          for (const item of live) await this.#runBatch([item]);
          this.#settle(batch, new Map(), failed);
          return;
        }
        for (const item of live) failed.set(item, err);
        this.#settle(batch, new Map(), failed);
        return;
      }
    }
  }

  /** Settles every item of `batch` that is still pending: from `values` or `failed`. */
  #settle(batch: Pending[], values: Map<Pending, unknown>, failed: Map<Pending, Error>): void {
    for (const item of batch) {
      if (item.settled) continue;
      item.settled = true;
      this.stats.writes++;
      const error = failed.get(item);
      if (error) item.reject(error);
      else if (values.has(item)) item.resolve(values.get(item));
      else item.reject(new Error("internal error: write produced no outcome"));
    }
  }

  async #recover(attempt: number): Promise<void> {
    try {
      await this.#o.recover();
    } catch {
      // the retry will surface the problem if the connection is still unusable
    }
    await delay(this.#o.retryBaseMs * 2 ** attempt);
  }

  /**
   * One transaction over `live`. Without savepoints a write that throws aborts the attempt
   * (ItemFailedError) and the batch is re-run without it; with savepoints each write is
   * rolled back alone and recorded in `failed`. Throws for batch-level failures.
   */
  async #attempt(
    live: Pending[],
    useSavepoints: boolean,
    failed: Map<Pending, Error>,
  ): Promise<Map<Pending, unknown>> {
    let itemFailure: ItemFailedError | null = null;
    try {
      return await this.#o.db.transaction(async (tx) => {
        if (this.#o.verifyForeignKeys) await checkForeignKeys(tx);
        const values = new Map<Pending, unknown>();
        for (const item of live) {
          if (!useSavepoints) {
            try {
              values.set(item, await insideWrite.run(true, () => item.fn(tx)));
            } catch (e) {
              const error = coerceError(e);
              if (isBusyError(error)) throw error;
              if (!(await stillOpen(tx))) throw new BatchAbortedError(error);
              itemFailure = new ItemFailedError(item, error);
              throw itemFailure;
            }
            continue;
          }
          try {
            values.set(
              item,
              await tx.transaction((sp) => insideWrite.run(true, () => item.fn(sp))),
            );
          } catch (e) {
            const error = coerceError(e);
            if (isBusyError(error)) throw error;
            if (!(await stillOpen(tx))) throw new BatchAbortedError(error);
            failed.set(item, error);
          }
        }
        return values;
      });
    } catch (e) {
      // The write's own error wins over whatever the rollback may have thrown after it.
      if (itemFailure !== null) throw itemFailure;
      // Savepoint-mode failures recorded in this aborted attempt are re-decided on the retry.
      if (useSavepoints) for (const item of live) failed.delete(item);
      throw e;
    }
  }
}

async function checkForeignKeys(tx: WriteTx): Promise<void> {
  const rows = await tx.values<[number | bigint]>(sql`PRAGMA foreign_keys`);
  const on = rows[0]?.[0];
  if (Number(on) !== 1) throw new ForeignKeysOffError();
}

async function stillOpen(tx: WriteTx): Promise<boolean> {
  try {
    await tx.values(sql`SELECT 1`);
    return true;
  } catch {
    return false;
  }
}
