import { mkdirSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import type { Orchestrator } from "@glm-workers/core/orchestrator";
import { removeDir, tempDir } from "@glm-workers/core/testkit";
import { type Database, openDatabase } from "@glm-workers/db/client";
import { createRepositories, type Repositories } from "@glm-workers/db/repositories";
import type { Hono } from "hono";
import { afterEach } from "vitest";
import { type AppDeps, createApp } from "../src/app.ts";
import { type Env, loadEnv } from "../src/env.ts";
import { silentLogger } from "../src/logger.ts";
import { startOrchestrator } from "../src/runtime.ts";
import { type RunningServer, startServer } from "../src/server.ts";

/** Parsed JSON of a response; tests read into it freely. */
// biome-ignore lint/suspicious/noExplicitAny: test helper for arbitrary response bodies
export type Json = any;

/** A temp dir with a database file path, a project directory and a (missing) web dist. */
export interface Sandbox {
  dir: string;
  dbUrl: string;
  projectDir: string;
  cleanup(): void;
}

export function sandbox(): Sandbox {
  const dir = tempDir("server-test");
  const projectDir = join(dir, "project");
  mkdirSync(projectDir);
  return {
    dir,
    dbUrl: `file:${join(dir, "data", "test.db")}`,
    projectDir,
    cleanup: () => removeDir(dir),
  };
}

export function testEnv(box: Sandbox, overrides: Record<string, string> = {}): Env {
  return loadEnv(
    {
      DATABASE_URL: box.dbUrl,
      WEB_DIST: join(box.dir, "no-web-dist"),
      PORT: "0",
      ...overrides,
    },
    { cwd: box.dir },
  );
}

export interface TestApp {
  box: Sandbox;
  env: Env;
  app: Hono;
  database: Database;
  repos: Repositories;
  close(): Promise<void>;
}

/** An app over a fresh temp database, for `app.request()` tests. */
export async function testApp(
  overrides: Record<string, string> = {},
  deps: Partial<AppDeps> = {},
): Promise<TestApp> {
  const box = sandbox();
  const env = testEnv(box, overrides);
  const database = await openDatabase({ url: env.DATABASE_URL, migrate: true });
  const repos = createRepositories(database);
  const app = createApp({ env, database, repos, logger: silentLogger, cwd: box.dir, ...deps });
  return {
    box,
    env,
    app,
    database,
    repos,
    async close() {
      await database.close();
      box.cleanup();
    },
  };
}

export interface LiveServer {
  url: string;
  box: Sandbox;
  env: Env;
  database: Database;
  orchestrator: Orchestrator;
  server: RunningServer;
  /** Closes the server, the orchestrator (forced) and the database, then removes the sandbox. */
  close(): Promise<void>;
}

/** A listening server with the real orchestrator over a fresh sandbox and database. */
export async function liveServer(overrides: Record<string, string> = {}): Promise<LiveServer> {
  const box = sandbox();
  let database: Database | undefined;
  let orchestrator: Orchestrator | undefined;
  let server: RunningServer | undefined;
  const close = async () => {
    await server?.close();
    await orchestrator?.close({ force: true });
    await database?.close();
    box.cleanup();
  };
  try {
    const env = testEnv(box, overrides);
    database = await openDatabase({ url: env.DATABASE_URL });
    orchestrator = await startOrchestrator(env, database, silentLogger);
    server = await startServer({ env, database, orchestrator, logger: silentLogger, cwd: box.dir });
    return { url: server.url, box, env, database, orchestrator, server, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** `liveServer` for the tests of this file: every server it starts is closed after its test. */
export function useLiveServers(): (overrides?: Record<string, string>) => Promise<LiveServer> {
  const open: LiveServer[] = [];
  afterEach(async () => {
    for (const live of open.splice(0)) await live.close();
  });
  return async (overrides) => {
    const live = await liveServer(overrides);
    open.push(live);
    return live;
  };
}

/** Row counts of the user-editable tables. */
export async function counts(database: Database) {
  const read = async (table: string) => {
    const rs = await database.client.execute(`SELECT count(*) AS n FROM ${table}`);
    return Number(rs.rows[0]?.n ?? -1);
  };
  return {
    projects: await read("projects"),
    specs: await read("specs"),
    chunks: await read("chunks"),
  };
}

export interface JsonRequest {
  method?: string;
  body?: unknown;
  /** Sent as is (not JSON-encoded) when a string. */
  raw?: string;
  headers?: Record<string, string>;
}

export interface CallResult {
  status: number;
  headers: Headers;
  json: Json;
}

/** `app.request()` with JSON in and JSON out. */
export async function call(app: Hono, path: string, init: JsonRequest = {}): Promise<CallResult> {
  const headers: Record<string, string> = { ...init.headers };
  let body: string | undefined;
  if (init.raw !== undefined) body = init.raw;
  else if (init.body !== undefined) body = JSON.stringify(init.body);
  if (body !== undefined && !headers["content-type"]) headers["content-type"] = "application/json";
  const res = await app.request(path, { method: init.method ?? "GET", headers, body });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: res.status, headers: res.headers, json: json as Json };
}

/** A raw HTTP request to a real server (lets tests send any Host/Origin header). */
export function rawRequest(
  port: number,
  path: string,
  init: {
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    /** Send the headers, give the server 300 ms to answer early (413), then the body. */
    headersFirst?: boolean;
  } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; json: Json }> {
  return new Promise((resolve, reject) => {
    let responded = false;
    const req = httpRequest(
      {
        host: "127.0.0.1",
        port,
        path,
        method: init.method ?? "GET",
        headers: {
          ...(init.body !== undefined
            ? { "content-type": "application/json", "content-length": Buffer.byteLength(init.body) }
            : {}),
          ...init.headers,
        },
      },
      (res) => {
        responded = true;
        const parts: Buffer[] = [];
        res.on("data", (d: Buffer) => parts.push(d));
        res.on("end", () => {
          if (!sent) req.destroy();
          const text = Buffer.concat(parts).toString("utf8");
          let json: unknown = text;
          try {
            json = text ? JSON.parse(text) : null;
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, json });
        });
        res.on("error", reject);
      },
    );
    // A server may answer early (413) and close the socket while the body is still being sent.
    req.on("error", (err) => {
      if (!responded) reject(err);
    });
    let sent = false;
    const send = () => {
      if (responded || sent) return;
      sent = true;
      if (init.body !== undefined) req.write(init.body);
      req.end();
    };
    if (init.headersFirst) {
      req.flushHeaders();
      setTimeout(send, 300);
    } else {
      send();
    }
  });
}
