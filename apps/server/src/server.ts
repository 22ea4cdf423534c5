import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type Database, openDatabase } from "@glm-workers/db/client";
import { serve } from "@hono/node-server";
import { type AppDeps, createApp } from "./app.ts";
import type { Env } from "./env.ts";
import { createLogger, type Logger } from "./logger.ts";
import { isWildcardHostname } from "./net.ts";

export interface StartServerOptions extends Partial<Omit<AppDeps, "env">> {
  env: Env;
  /** Opened (and migrated) from `env.DATABASE_URL` when not given; then closed by `close()`. */
  database?: Database;
}

export interface RunningServer {
  /** `http://127.0.0.1:<port>` (or the bound host). */
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  readonly database: Database;
  /** Stops accepting connections, ends open ones, closes the database it opened. Idempotent. */
  close(): Promise<void>;
}

function displayHost(host: string): string {
  if (isWildcardHostname(host)) return "127.0.0.1";
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

function listen(app: { fetch: (req: Request) => Response | Promise<Response> }, env: Env) {
  return new Promise<Server>((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: env.HOST, port: env.PORT }) as Server;
    const onError = (err: Error) => {
      server.off("listening", onListening);
      reject(err);
    };
    const onListening = () => {
      server.off("error", onError);
      resolve(server);
    };
    server.once("error", onError);
    server.once("listening", onListening);
  });
}

/** Opens the database (unless given), builds the app and listens on `env.HOST:env.PORT`. */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const { env } = options;
  const logger: Logger = options.logger ?? createLogger(env.LOG_LEVEL);
  const ownsDatabase = options.database === undefined;
  const database =
    options.database ?? (await openDatabase({ url: env.DATABASE_URL, migrate: true }));
  let server: Server;
  try {
    const app = createApp({ ...options, env, database, logger });
    server = await listen(app, env);
  } catch (err) {
    if (ownsDatabase) await database.close();
    throw err instanceof Error ? err : new Error(String(err));
  }
  const port = (server.address() as AddressInfo).port;
  const url = `http://${displayHost(env.HOST)}:${port}`;

  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // Long-lived responses (SSE) would keep close() waiting: end them too.
        server.closeAllConnections();
      });
      if (ownsDatabase) await database.close();
    })();
    return closing;
  };
  return { url, port, server, database, close };
}
