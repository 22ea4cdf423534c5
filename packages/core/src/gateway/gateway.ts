import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from "node:http";
import { request as httpsRequest } from "node:https";
import type { AddressInfo } from "node:net";
import { coerceError } from "../errors.ts";
import { classify, type GlmAnswer } from "./glm-errors.ts";
import { ConcurrencyLimiter } from "./limiter.ts";
import { type GatewayUsage, UsageReader } from "./usage-reader.ts";

export type { GatewayUsage };

/**
 * The GLM gateway: one loopback, OpenAI-compatible endpoint inside the server that every
 * agent's model requests go through (`/r/<runId>/…`, authorised by a per-run token, so the real
 * key never leaves the server and every request is attributed to its run). It forwards to the
 * upstream endpoint with the real key and streams the answers through unchanged, and it:
 * - holds at most `concurrency` requests in flight upstream (the rest wait, kept alive, by the
 *   run's priority then age; a paused run's requests wait without a slot);
 * - retries rate-limited answers after the advertised delay (else exponential backoff with
 *   jitter), lowering the limit meanwhile, within a retry budget — the agent never sees those;
 * - holds every request on a quota answer until the reset it names (or `quotaWaitMs`);
 * - passes a fatal answer (bad key, plan unusable) through and reports it;
 * - counts the tokens of every answer (`usage`).
 * An upstream answer is read at the upstream's pace whatever the agent does (a paused run's
 * answer is buffered), so no request is left to time out and be sent again.
 */

export interface GatewayHold {
  until: number;
  reason: string;
}

export interface GatewayState {
  inFlight: number;
  waiting: number;
  concurrency: number;
  maxConcurrency: number;
  heldUntil: number | null;
  lastError: string | null;
  last429At: number | null;
  requests: number;
}

export interface GatewayOptions {
  /** The OpenAI-compatible upstream, e.g. `https://api.z.ai/api/coding/paas/v4`. */
  upstream: string;
  apiKey: string;
  concurrency: number;
  /** How long a rate-limited request is retried before the agent sees the 429 (default 10 min). */
  retryBudgetMs?: number;
  /** Hold after a quota answer that names no reset time. */
  quotaWaitMs: number;
  /** First backoff step without `retry-after` (default 1 s; doubles, with jitter, up to 60 s). */
  backoffBaseMs?: number;
  runPriority?: (runId: string) => number;
  isPaused?: (runId: string) => boolean;
  onUsage?: (runId: string, usage: GatewayUsage) => void;
  /** A request of the run waits for a retry (`text`), or goes on (`null`). */
  onRetry?: (runId: string, text: string | null) => void;
  /** Every request is held (quota) until `until`; null when the hold is over. */
  onHold?: (hold: GatewayHold | null) => void;
  /** The upstream refused the key or the plan: the run's request failed with `message`. */
  onFatal?: (runId: string, message: string) => void;
  log?: (level: "info" | "warn" | "error", msg: string) => void;
}

export interface GlmGateway {
  readonly url: string;
  /** The base URL and the token a run's agent uses instead of the upstream and the key. */
  forRun(runId: string): { baseURL: string; apiKey: string };
  state(): GatewayState;
  /** Something changed for the waiting requests (a run paused or resumed). */
  wake(): void;
  close(): Promise<void>;
}

const MAX_BODY = 32 * 1024 * 1024;
const HOP = new Set([
  "connection",
  "keep-alive",
  "transfer-encoding",
  "content-length",
  "host",
  "authorization",
]);

/** The headers worth passing on (no hop-by-hop ones, no authorization). */
function endToEnd(headers: IncomingMessage["headers"]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (!HOP.has(k) && v !== undefined) out[k] = v;
  return out;
}

function readAll(stream: IncomingMessage, limit = MAX_BODY): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    stream.on("data", (d: Buffer) => {
      size += d.length;
      if (size > limit) {
        stream.destroy();
        reject(new Error("request body too large"));
      } else parts.push(d);
    });
    stream.on("end", () => resolve(Buffer.concat(parts)));
    stream.on("error", reject);
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error("aborted"));
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new Error("aborted"));
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

function json(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) return;
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify({ error: { message, type: "glm_workers_gateway" } }));
}

export async function startGlmGateway(opts: GatewayOptions): Promise<GlmGateway> {
  const secret = randomBytes(32);
  const upstream = new URL(opts.upstream.endsWith("/") ? opts.upstream : `${opts.upstream}/`);
  const retryBudgetMs = opts.retryBudgetMs ?? 10 * 60_000;
  const backoffBase = opts.backoffBaseMs ?? 1000;
  const limiter = new ConcurrencyLimiter(opts.concurrency, (id) => opts.isPaused?.(id) ?? false);
  const log = opts.log ?? (() => {});
  let lastError: string | null = null;
  let last429At: number | null = null;
  let requests = 0;
  let holdTimer: NodeJS.Timeout | null = null;
  const sockets = new Set<import("node:net").Socket>();

  const tokenFor = (runId: string) =>
    createHmac("sha256", secret).update(runId).digest("base64url");
  const tokenOk = (runId: string, header: string | undefined) => {
    const got = Buffer.from(/^Bearer\s+(.+)$/i.exec(header ?? "")?.[1]?.trim() ?? "");
    const want = Buffer.from(tokenFor(runId));
    return got.length === want.length && timingSafeEqual(got, want);
  };

  const hold = (until: number, reason: string) => {
    if ((limiter.heldUntil ?? 0) >= until) return;
    limiter.hold(until);
    opts.onHold?.({ until, reason });
    if (holdTimer) clearTimeout(holdTimer);
    holdTimer = setTimeout(
      () => {
        holdTimer = null;
        opts.onHold?.(null);
      },
      Math.max(0, until - Date.now()),
    );
    holdTimer.unref();
  };

  /** One upstream attempt: resolves with the response (its body not read yet). */
  const send = (
    path: string,
    method: string,
    headers: OutgoingHttpHeaders,
    body: Buffer,
    signal: AbortSignal,
  ) =>
    new Promise<IncomingMessage>((resolve, reject) => {
      const target = new URL(path.replace(/^\//, ""), upstream);
      const doRequest = target.protocol === "https:" ? httpsRequest : httpRequest;
      const req = doRequest(
        target,
        {
          method,
          headers: {
            ...headers,
            authorization: `Bearer ${opts.apiKey}`,
            "content-length": body.length,
          },
          signal,
        },
        resolve,
      );
      req.on("error", reject);
      req.end(body);
    });

  const forward = async (
    req: IncomingMessage,
    res: ServerResponse,
    runId: string,
    path: string,
  ) => {
    const abort = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) abort.abort();
    });
    let body = await readAll(req);
    // ask for usage in streamed answers, so every token is counted
    try {
      const parsed = JSON.parse(body.toString("utf8")) as {
        stream?: unknown;
        stream_options?: Record<string, unknown>;
      };
      if (parsed.stream === true && parsed.stream_options?.include_usage !== true) {
        parsed.stream_options = { ...(parsed.stream_options ?? {}), include_usage: true };
        body = Buffer.from(JSON.stringify(parsed));
      }
    } catch {
      // not JSON: forwarded as it is
    }
    const headers: OutgoingHttpHeaders = endToEnd(req.headers);
    const deadline = Date.now() + retryBudgetMs;
    let attempt = 0;
    let retried = false;
    for (;;) {
      let release: () => void;
      try {
        release = await limiter.acquire(runId, opts.runPriority?.(runId) ?? 0, abort.signal);
      } catch {
        return; // the agent went away while it waited
      }
      let up: IncomingMessage;
      try {
        requests++;
        up = await send(path, req.method ?? "POST", headers, body, abort.signal);
      } catch (err) {
        release();
        if (abort.signal.aborted) return;
        lastError = `upstream unreachable: ${coerceError(err).message}`;
        log("warn", lastError);
        if (Date.now() + backoffBase > deadline) return json(res, 502, lastError);
        await sleep(backoff(attempt++), abort.signal).catch(() => {});
        if (abort.signal.aborted) return;
        continue;
      }
      const status = up.statusCode ?? 502;
      if (status >= 200 && status < 300) {
        if (retried) opts.onRetry?.(runId, null);
        const reader = new UsageReader();
        res.writeHead(status, endToEnd(up.headers));
        up.on("data", (d: Buffer) => {
          reader.push(d);
          // never wait for a slow (paused) agent: the answer is buffered, upstream goes on
          if (!res.destroyed) res.write(d);
        });
        await new Promise<void>((resolve) => {
          up.on("end", resolve);
          up.on("error", resolve);
          up.on("aborted", resolve);
        });
        release();
        limiter.succeeded();
        reader.end();
        res.end();
        const usage = reader.usage();
        if (usage) opts.onUsage?.(runId, usage);
        return;
      }
      const text = (await readAll(up).catch(() => Buffer.alloc(0))).toString("utf8");
      release();
      const answer: GlmAnswer = classify(status, up.headers, text);
      if (answer.kind === "rate") {
        last429At = Date.now();
        lastError = `rate limited (${answer.code ?? status}): ${answer.message}`;
        limiter.slowDown();
        const delay = answer.retryAfterMs ?? backoff(attempt);
        attempt++;
        if (Date.now() + delay > deadline) {
          log("warn", `run ${runId}: retry budget spent, passing the 429 on`);
          return pass(res, status, up.headers, text);
        }
        retried = true;
        opts.onRetry?.(
          runId,
          `retrying in ${Math.max(1, Math.round(delay / 1000))} s: rate limited`,
        );
        await sleep(delay, abort.signal).catch(() => {});
        if (abort.signal.aborted) return;
        continue;
      }
      if (answer.kind === "quota") {
        const until = answer.resetAt ?? Date.now() + opts.quotaWaitMs;
        lastError = `quota (${answer.code}): ${answer.message}`;
        log("warn", `${lastError}; holding every request until ${new Date(until).toISOString()}`);
        hold(until, answer.message);
        retried = true;
        await sleep(Math.max(0, until - Date.now()) + 50, abort.signal).catch(() => {});
        if (abort.signal.aborted) return;
        continue;
      }
      if (answer.kind === "fatal") {
        lastError = `the upstream refused the key or plan (${answer.code ?? status}): ${answer.message}`;
        log("error", lastError);
        opts.onFatal?.(runId, lastError);
      }
      return pass(res, status, up.headers, text);
    }
  };

  const backoff = (attempt: number) => {
    const base = Math.min(60_000, backoffBase * 2 ** attempt);
    return Math.round(base / 2 + Math.random() * (base / 2));
  };

  const pass = (
    res: ServerResponse,
    status: number,
    headers: IncomingMessage["headers"],
    text: string,
  ) => {
    if (res.headersSent) return;
    res.writeHead(status, endToEnd(headers));
    res.end(text);
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://gateway");
    const m = /^\/r\/([^/]+)(\/.*)$/.exec(url.pathname);
    if (!m?.[1] || !m[2]) return json(res, 404, "not a gateway path (/r/<run>/…)");
    const runId = decodeURIComponent(m[1]);
    if (!tokenOk(runId, req.headers.authorization)) return json(res, 401, "unknown run or token");
    forward(req, res, runId, `${m[2]}${url.search}`).catch((err: unknown) => {
      log("error", `gateway: ${coerceError(err).message}`);
      json(res, 502, "gateway error");
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  let closing: Promise<void> | null = null;

  return {
    url,
    forRun: (runId) => ({
      baseURL: `${url}/r/${encodeURIComponent(runId)}`,
      apiKey: tokenFor(runId),
    }),
    state: () => ({
      inFlight: limiter.inFlight,
      waiting: limiter.waiting,
      concurrency: limiter.limit,
      maxConcurrency: limiter.max,
      heldUntil: limiter.heldUntil,
      lastError,
      last429At,
      requests,
    }),
    wake: () => limiter.pump(),
    close() {
      closing ??= new Promise<void>((resolve) => {
        if (holdTimer) clearTimeout(holdTimer);
        limiter.close();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      return closing;
    },
  };
}
