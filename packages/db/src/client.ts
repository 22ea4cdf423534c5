import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type Client, createClient } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import { migrate as runMigrations } from "drizzle-orm/libsql/migrator";
import * as schema from "./schema.ts";
import { coerceError } from "./sqlite-errors.ts";
import { type DrizzleDb, GroupWriter, type WriterStats, type WriteTx } from "./writer.ts";

export {
  coerceError,
  isBusyError,
  isForeignKeyViolation,
  isUniqueViolation,
} from "./sqlite-errors.ts";
export type { DrizzleDb, Schema, WriteFn, WriterStats, WriteTx } from "./writer.ts";

/** drizzle-kit output; `src/` and `dist/` both sit one level below the package root. */
export const MIGRATIONS_FOLDER = fileURLToPath(new URL("../drizzle", import.meta.url));

export interface OpenDatabaseOptions {
  /** libsql URL: `file:./data/app.db`, `file:/abs/path.db`, `libsql://…`, `http://127.0.0.1:8080`. */
  url: string;
  /** Auth token for a remote libsql server. */
  authToken?: string;
  /** Apply pending migrations before returning (default true). */
  migrate?: boolean;
  /** SQLite busy timeout per connection, ms (default 5000). */
  busyTimeoutMs?: number;
  /** Most write operations per group-commit transaction (default 1000). */
  maxBatchSize?: number;
  /** Retries of a batch after SQLITE_BUSY (default 5), with backoff `retryBaseMs * 2^attempt`. */
  maxRetries?: number;
  retryBaseMs?: number;
}

export interface Database {
  /** Drizzle over the read connections. Use it for reads only; every write goes through `write`. */
  readonly db: DrizzleDb;
  /** The libsql client behind `db` (reads). */
  readonly client: Client;
  readonly url: string;
  /**
   * Runs `fn` inside the next group-commit transaction and resolves with its result once that
   * transaction committed. A throwing `fn` rolls back only its own changes. `fn` may run more
   * than once (retry after SQLITE_BUSY), so keep it to database work.
   */
  write<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T>;
  readonly stats: Readonly<WriterStats>;
  readonly closed: boolean;
  /** Waits for queued writes, then closes every connection. Idempotent. */
  close(): Promise<void>;
}

interface UrlInfo {
  kind: "file" | "memory" | "remote";
  path: string | null;
}

function describeUrl(url: string): UrlInfo {
  if (!url.startsWith("file:")) {
    return url === ":memory:" ? { kind: "memory", path: null } : { kind: "remote", path: null };
  }
  let rest = url.slice("file:".length);
  const query = rest.indexOf("?");
  if (query >= 0) rest = rest.slice(0, query);
  if (rest.startsWith("//")) {
    const slash = rest.indexOf("/", 2);
    rest = slash >= 0 ? rest.slice(slash) : "";
  }
  const path = decodeURIComponent(rest);
  if (path === "" || path === ":memory:" || path.startsWith(":memory:"))
    return { kind: "memory", path: null };
  return { kind: "file", path };
}

/**
 * Opens (and by default migrates) the database. Local files get WAL, foreign keys and a busy
 * timeout; reads use a pool of connections, writes use one dedicated connection driven by the
 * group-committing writer.
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  const info = describeUrl(options.url);
  const timeout = options.busyTimeoutMs ?? 5000;
  if (info.kind === "file" && info.path)
    mkdirSync(dirname(resolve(info.path)), { recursive: true });

  const base = {
    url: options.url,
    timeout,
    ...(options.authToken ? { authToken: options.authToken } : {}),
  };
  // A single write connection: PRAGMAs set outside a transaction reach exactly the connection
  // the next write transaction uses (the read pool would hand them to one arbitrary connection).
  const writerClient = createClient({ ...base, concurrency: info.kind === "file" ? 1 : undefined });
  const clients: Client[] = [writerClient];
  try {
    const local = info.kind !== "remote";
    if (info.kind === "file") await writerClient.execute("PRAGMA journal_mode = WAL");
    if (local) await writerClient.execute("PRAGMA foreign_keys = ON");
    const writerDb = drizzle(writerClient, { schema });
    if (options.migrate ?? true)
      await runMigrations(writerDb, { migrationsFolder: MIGRATIONS_FOLDER });

    // An in-memory database exists on one connection only; a remote client multiplexes itself.
    const readClient = info.kind === "file" ? createClient(base) : writerClient;
    if (readClient !== writerClient) clients.push(readClient);
    const readDb = info.kind === "file" ? drizzle(readClient, { schema }) : writerDb;

    const enableForeignKeys = async () => {
      await writerClient.execute("PRAGMA foreign_keys = ON");
    };
    const writer = new GroupWriter({
      db: writerDb,
      recover: async () => {
        // libsql-client-ts #352: after SQLITE_BUSY a connection may report later commits that
        // never happened; a fresh connection does not.
        writerClient.reconnect();
        if (local) await enableForeignKeys();
      },
      enableForeignKeys: local ? enableForeignKeys : undefined,
      verifyForeignKeys: local,
      maxBatchSize: options.maxBatchSize ?? 1000,
      maxRetries: options.maxRetries ?? 5,
      retryBaseMs: options.retryBaseMs ?? 20,
    });

    let closing: Promise<void> | null = null;
    let closed = false;
    return {
      db: readDb,
      client: readClient,
      url: options.url,
      write: (fn) => writer.write(fn),
      stats: writer.stats,
      get closed() {
        return closed;
      },
      close() {
        closing ??= (async () => {
          await writer.drain();
          for (const c of clients) closeQuietly(c);
          closed = true;
        })();
        return closing;
      },
    };
  } catch (err) {
    for (const c of clients) closeQuietly(c);
    throw coerceError(err);
  }
}

function closeQuietly(client: Client): void {
  try {
    client.close();
  } catch {
    // already closed
  }
}
