import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import {
  type GatewayHold,
  type GatewayUsage,
  type GlmGateway,
  startGlmGateway,
} from "../src/gateway/gateway.ts";
import { quotaResetAt } from "../src/gateway/glm-errors.ts";

/** A tiny upstream the test scripts answer by answer; it records keys and concurrency. */
interface Upstream {
  url: string;
  keys: string[];
  maxInFlight: number;
  requests: number;
  close(): Promise<void>;
}

type Answer = (n: number, req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

async function upstream(answer: Answer): Promise<Upstream> {
  let inFlight = 0;
  const u: Upstream = { url: "", keys: [], maxInFlight: 0, requests: 0, close: async () => {} };
  const server: Server = createServer(async (req, res) => {
    const n = u.requests++;
    u.keys.push(req.headers.authorization ?? "");
    inFlight++;
    u.maxInFlight = Math.max(u.maxInFlight, inFlight);
    res.on("close", () => inFlight--);
    for await (const _ of req) {
      // drain the body
    }
    await answer(n, req, res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  u.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v4`;
  u.close = () =>
    new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return u;
}

/** A streamed chat answer with usage in its last chunk, after `ms`. */
function stream(ms = 0, usage = { prompt_tokens: 100, completion_tokens: 20 }): Answer {
  return async (_n, _req, res) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.write(`data: ${JSON.stringify({ choices: [{ delta: { content: "hel" } }] })}\n\n`);
    await new Promise((r) => setTimeout(r, ms));
    res.write(`data: ${JSON.stringify({ choices: [{ delta: { content: "lo" } }] })}\n\n`);
    res.write(
      `data: ${JSON.stringify({
        choices: [],
        usage: {
          ...usage,
          prompt_tokens_details: { cached_tokens: 40 },
          completion_tokens_details: { reasoning_tokens: 5 },
        },
      })}\n\n`,
    );
    res.end("data: [DONE]\n\n");
  };
}

function glmError(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): Answer {
  return (_n, _req, res) => {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify({ error: { code, message } }));
  };
}

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
});

async function gateway(up: Upstream, extra: Partial<Parameters<typeof startGlmGateway>[0]> = {}) {
  const g = await startGlmGateway({
    upstream: up.url,
    apiKey: "real-key",
    concurrency: 2,
    quotaWaitMs: 1000,
    backoffBaseMs: 50,
    ...extra,
  });
  open.push(g, up);
  return g;
}

async function chat(g: GlmGateway, runId: string, token?: string) {
  const { baseURL, apiKey } = g.forRun(runId);
  const res = await fetch(`${baseURL}/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${token ?? apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({
      model: "glm-4.7",
      stream: true,
      messages: [{ role: "user", content: "hi" }],
    }),
  });
  return { status: res.status, text: await res.text() };
}

describe("GLM gateway", () => {
  test("streams the answer through with the real key upstream and counts its usage; the run token is required", async () => {
    const up = await upstream(stream());
    const usage: Array<[string, GatewayUsage]> = [];
    const g = await gateway(up, { onUsage: (run, u) => usage.push([run, u]) });
    const ok = await chat(g, "run-1");
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('"content":"hel"');
    expect(ok.text).toContain("[DONE]");
    expect(up.keys).toEqual(["Bearer real-key"]);
    expect(usage).toEqual([
      [
        "run-1",
        {
          inputTokens: 100,
          outputTokens: 20,
          reasoningTokens: 5,
          cacheReadTokens: 40,
          requests: 1,
        },
      ],
    ]);
    // another run's token, or none, does not pass
    expect((await chat(g, "run-1", g.forRun("run-2").apiKey)).status).toBe(401);
    expect((await chat(g, "run-1", "real-key")).status).toBe(401);
    expect(up.requests).toBe(1);
    expect(g.forRun("run-1").apiKey).not.toContain("real-key");
  });

  test("at most `concurrency` requests upstream; the rest wait and all complete", async () => {
    const up = await upstream(stream(150));
    const g = await gateway(up, { concurrency: 1 });
    const results = await Promise.all(["a", "b", "c", "d"].map((r) => chat(g, r)));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(up.maxInFlight).toBe(1);
  });

  test("a paused run's request waits for its resume; others go first; priority orders the wait", async () => {
    const up = await upstream(stream(50));
    const paused = new Set(["p"]);
    const g = await gateway(up, { concurrency: 1, isPaused: (r) => paused.has(r) });
    const order: string[] = [];
    const p = chat(g, "p").then((r) => {
      order.push("p");
      return r;
    });
    await new Promise((r) => setTimeout(r, 50));
    const q = chat(g, "q").then((r) => {
      order.push("q");
      return r;
    });
    await q;
    expect(order).toEqual(["q"]);
    expect(g.state().waiting).toBe(1);
    paused.delete("p");
    g.wake();
    expect((await p).status).toBe(200);
    expect(order).toEqual(["q", "p"]);
  });

  test("waiting requests are served by their run's priority, then by age", async () => {
    const up = await upstream(stream(150));
    const priority: Record<string, number> = { busy: 0, low: 0, high: 5, old: 5 };
    const g = await gateway(up, { concurrency: 1, runPriority: (r) => priority[r] ?? 0 });
    const order: string[] = [];
    const go = (run: string) =>
      chat(g, run).then((r) => {
        order.push(run);
        return r;
      });
    const all = [go("busy")];
    await new Promise((r) => setTimeout(r, 40));
    all.push(go("low"));
    await new Promise((r) => setTimeout(r, 20));
    all.push(go("old"));
    await new Promise((r) => setTimeout(r, 20));
    all.push(go("high"));
    await Promise.all(all);
    expect(order).toEqual(["busy", "old", "high", "low"]);
  });

  test("rate limits are retried after retry-after and lower the limit; the agent sees only the answer", async () => {
    let n = 0;
    const up = await upstream((i, req, res) => {
      n++;
      return i < 2
        ? glmError(429, "1302", "Rate limit reached", { "retry-after": "1" })(i, req, res)
        : stream()(i, req, res);
    });
    const states: Array<string | null> = [];
    const g = await gateway(up, { onRetry: (_r, s) => states.push(s) });
    const t0 = Date.now();
    const r = await chat(g, "run");
    expect(r.status).toBe(200);
    expect(n).toBe(3);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
    expect(states[0]).toBe("retrying in 1 s: rate limited");
    expect(states.at(-1)).toBeNull();
    expect(g.state()).toMatchObject({ concurrency: 1, maxConcurrency: 2 });
    expect(g.state().last429At).not.toBeNull();
  });

  test("the retry budget ends in the 429 reaching the agent", async () => {
    const up = await upstream(glmError(429, "1305", "overloaded"));
    const g = await gateway(up, { retryBudgetMs: 300 });
    const r = await chat(g, "run");
    expect(r.status).toBe(429);
    expect(r.text).toContain("1305");
  });

  test("a quota answer holds every request until the reset, then they go through", async () => {
    const reset = new Date(Date.now() + 1500);
    // the reset time as the plan writes it: China time, no zone
    const cst = new Date(reset.getTime() + 8 * 3600_000)
      .toISOString()
      .slice(0, 19)
      .replace("T", " ");
    const up = await upstream((i, req, res) =>
      i === 0
        ? glmError(429, "1308", `Usage limit reached for 5 hour. Your limit will reset at ${cst}`)(
            i,
            req,
            res,
          )
        : stream()(i, req, res),
    );
    const holds: Array<GatewayHold | null> = [];
    const g = await gateway(up, { onHold: (h) => holds.push(h) });
    const r = await chat(g, "run");
    expect(r.status).toBe(200);
    expect(holds[0]?.until).toBe(Math.floor(reset.getTime() / 1000) * 1000);
    expect(holds[0]?.reason).toContain("Usage limit reached");
    expect(holds.at(-1)).toBeNull();
  });

  test("a fatal answer (bad key) is passed to the agent and reported", async () => {
    const up = await upstream(glmError(401, "1000", "Authentication failed"));
    const fatal: string[] = [];
    const g = await gateway(up, { onFatal: (_r, m) => fatal.push(m) });
    const r = await chat(g, "run");
    expect(r.status).toBe(401);
    expect(r.text).toContain("Authentication failed");
    expect(fatal[0]).toMatch(/refused the key or plan \(1000\): Authentication failed/);
    expect(g.state().lastError).toMatch(/Authentication failed/);
    expect(r.text).not.toContain("real-key");
  });

  test("quota reset times: China time without a zone, explicit zones, implausible ones ignored", () => {
    const now = Date.parse("2026-12-01T10:00:00Z");
    expect(quotaResetAt("will reset at 2026-12-01 20:00:00", now)).toBe(
      Date.parse("2026-12-01T12:00:00Z"),
    );
    expect(quotaResetAt("reset at 2026-12-01T11:30:00Z", now)).toBe(
      Date.parse("2026-12-01T11:30:00Z"),
    );
    expect(quotaResetAt("reset at 2026-11-30 20:00:00", now)).toBeNull();
    expect(quotaResetAt("no time here", now)).toBeNull();
  });
});
