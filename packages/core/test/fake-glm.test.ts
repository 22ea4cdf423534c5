import { request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { type FakeGlm, glmResetTime, startFakeGlm } from "../src/testkit/index.ts";

let fake: FakeGlm | null = null;
afterEach(async () => {
  await fake?.close();
  fake = null;
});

type Chunk = {
  choices: Array<{
    delta: {
      content?: string;
      tool_calls?: Array<{
        index: number;
        id?: string;
        function: { name?: string; arguments?: string };
      }>;
    };
    finish_reason: string | null;
  }>;
  usage?: {
    prompt_tokens: number;
    completion_tokens: number;
    total_tokens: number;
    prompt_tokens_details: { cached_tokens: number };
    completion_tokens_details: { reasoning_tokens: number };
  };
};

async function chat(url: string, body: object, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer k", ...headers },
    body: JSON.stringify(body),
  });
  return res;
}

function parseSse(text: string): { chunks: Chunk[]; done: boolean } {
  const chunks: Chunk[] = [];
  let done = false;
  for (const block of text.split("\n\n")) {
    const line = block.trim();
    if (!line.startsWith("data: ")) continue;
    const data = line.slice(6);
    if (data === "[DONE]") done = true;
    else chunks.push(JSON.parse(data) as Chunk);
  }
  return { chunks, done };
}

const agentBody = (user: string, extra: object[] = []) => ({
  model: "glm-4.7",
  stream: true,
  tools: [{ type: "function", function: { name: "write" } }],
  messages: [
    { role: "system", content: "You are an agent.\n  Working directory: /tmp/project\n" },
    { role: "user", content: user },
    ...extra,
  ],
});

describe("fake GLM server", () => {
  it("streams a scripted tool call, then the final text, and records requests", async () => {
    fake = await startFakeGlm({
      apiKey: "k",
      script: [
        {
          kind: "tool",
          calls: [{ name: "write", arguments: { filePath: "a.txt", content: "hi" } }],
        },
        { kind: "text", text: "All done, the file is written." },
      ],
    });
    const first = await chat(fake.url, agentBody("make a.txt"));
    expect(first.status).toBe(200);
    expect(first.headers.get("content-type")).toContain("text/event-stream");
    const one = parseSse(await first.text());
    expect(one.done).toBe(true);
    const calls = one.chunks.flatMap((c) => c.choices.flatMap((ch) => ch.delta.tool_calls ?? []));
    expect(calls[0]?.function.name).toBe("write");
    const args = calls.map((c) => c.function.arguments ?? "").join("");
    expect(JSON.parse(args)).toEqual({ filePath: "a.txt", content: "hi" });
    expect(one.chunks.some((c) => c.choices[0]?.finish_reason === "tool_calls")).toBe(true);
    expect(one.chunks.find((c) => c.usage)?.usage?.completion_tokens).toBeGreaterThan(0);

    const second = await chat(
      fake.url,
      agentBody("make a.txt", [{ role: "tool", tool_call_id: "x", content: "ok" }]),
    );
    const two = parseSse(await second.text());
    const text = two.chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
    expect(text).toBe("All done, the file is written.");

    expect(fake.requests).toHaveLength(2);
    expect(fake.requests[0]?.kind).toBe("agent");
    expect(fake.requests[0]?.authorization).toBe("Bearer k");
    expect(fake.requests[0]?.completed).toBe(true);
    expect(fake.requests[1]?.turn).toBe("text");
  });

  it("answers titles, reviews (JSON verdict) and the default write/summary turns", async () => {
    fake = await startFakeGlm({ reviewVerdict: { status: "needs_fix", feedback: "add tests" } });
    const title = await chat(fake.url, {
      stream: true,
      messages: [
        { role: "system", content: "You are a title generator. Output only a title." },
        { role: "user", content: "do things" },
      ],
    });
    expect(parseSse(await title.text()).chunks.length).toBeGreaterThan(0);

    const review = await chat(fake.url, agentBody("Review the change. Answer with JSON only."));
    const verdict = parseSse(await review.text())
      .chunks.map((c) => c.choices[0]?.delta.content ?? "")
      .join("");
    expect(JSON.parse(verdict)).toEqual({ status: "needs_fix", feedback: "add tests" });

    const work = await chat(fake.url, agentBody("Add a README"));
    const calls = parseSse(await work.text()).chunks.flatMap((c) =>
      c.choices.flatMap((ch) => ch.delta.tool_calls ?? []),
    );
    const args = JSON.parse(calls.map((c) => c.function.arguments ?? "").join("")) as {
      filePath: string;
      content: string;
    };
    expect(args.filePath).toMatch(/^fake-glm-output\/\d+\.md$/);
    expect(args.content).toContain("Add a README");
    expect(fake.requests.map((r) => r.kind)).toEqual(["title", "review", "agent"]);
  });

  it("serves /v1/models, rejects a wrong key, and scripts HTTP errors and malformed streams", async () => {
    fake = await startFakeGlm({
      apiKey: "k",
      script: [{ kind: "http-error", status: 500, message: "boom" }, { kind: "malformed" }],
    });
    const models = await fetch(`${fake.url}/models`, { headers: { authorization: "Bearer k" } });
    const list = (await models.json()) as { data: Array<{ id: string }> };
    expect(list.data.map((m) => m.id)).toContain("glm-4.7");

    const denied = await chat(fake.url, agentBody("x"), { authorization: "Bearer wrong" });
    expect(denied.status).toBe(401);

    const err = await chat(fake.url, agentBody("x"));
    expect(err.status).toBe(500);
    expect(((await err.json()) as { error: { message: string } }).error.message).toBe("boom");

    const bad = await chat(fake.url, agentBody("x"));
    expect(bad.status).toBe(200);
    await expect(bad.text().then((t) => parseSse(t))).rejects.toThrow();
  });

  it("paces a slow stream and stops (clearing timers) when the client disconnects", async () => {
    fake = await startFakeGlm({
      script: [{ kind: "text", text: "y".repeat(200), delayMs: 40, chunkChars: 2 }],
    });
    const { port } = fake;
    const started = Date.now();
    await new Promise<void>((resolve, reject) => {
      const req = request(
        {
          host: "127.0.0.1",
          port,
          path: "/v1/chat/completions",
          method: "POST",
          headers: { "content-type": "application/json" },
        },
        (res) => {
          let seen = 0;
          res.on("data", () => {
            seen++;
            if (seen === 5) {
              req.destroy();
              resolve();
            }
          });
          res.on("error", () => {});
        },
      );
      req.on("error", (e) => {
        if (!req.destroyed) reject(e);
      });
      req.end(JSON.stringify(agentBody("stream slowly")));
    });
    const record = await fake.waitFor(() => true);
    // 100 pieces at 40 ms would take 4 s; the disconnect must end the stream early.
    await expect.poll(() => record.finishedAt, { timeout: 2000 }).not.toBeNull();
    expect(record.clientClosed).toBe(true);
    expect(record.completed).toBe(false);
    const written = record.chunkTimes.length;
    expect(written).toBeLessThan(50);
    await new Promise((r) => setTimeout(r, 200));
    expect(record.chunkTimes.length).toBe(written);
    // Pieces were paced, not sent in one burst.
    const span = (record.chunkTimes.at(-1) ?? started) - (record.chunkTimes[0] ?? started);
    expect(span).toBeGreaterThanOrEqual(100);
  });

  it("hangs on request until the client leaves, and close() ends open streams", async () => {
    fake = await startFakeGlm({ script: [{ kind: "hang" }] });
    const res = await chat(fake.url, agentBody("x"));
    expect(res.status).toBe(200);
    const reading = res.text().catch((e: unknown) => e);
    const record = await fake.waitFor((r) => r.turn === "hang");
    expect(record.finishedAt).toBeNull();
    await fake.close();
    await reading;
    expect(record.finishedAt).not.toBeNull();
    expect(record.completed).toBe(false);
    fake = null;
  });
});

type GlmErrorJson = { error: { code: string; message: string } };

const textOf = (chunks: Chunk[]) => chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");

describe("fake GLM server: GLM errors, concurrency and usage", () => {
  it("answers glm-error turns with the status, the GLM body and retry-after", async () => {
    fake = await startFakeGlm({
      script: [
        { kind: "glm-error", status: 429, code: "1302", retryAfterSec: 3 },
        { kind: "glm-error", status: 403, code: "1311", message: "model not in plan" },
        { kind: "text", text: "fine" },
      ],
    });
    const first = await chat(fake.url, agentBody("x"));
    expect(first.status).toBe(429);
    expect(first.headers.get("retry-after")).toBe("3");
    expect(first.headers.get("content-type")).toContain("application/json");
    expect(await first.json()).toEqual({
      error: {
        code: "1302",
        message: "High concurrency usage of this API, please reduce concurrency",
      },
    });

    const second = await chat(fake.url, agentBody("x"));
    expect(second.status).toBe(403);
    expect(second.headers.get("retry-after")).toBeNull();
    expect(await second.json()).toEqual({ error: { code: "1311", message: "model not in plan" } });

    const third = await chat(fake.url, agentBody("x"));
    expect(textOf(parseSse(await third.text()).chunks)).toBe("fine");

    expect(fake.requests.map((r) => [r.turn, r.status, r.code, r.rejected])).toEqual([
      ["glm-error", 429, "1302", null],
      ["glm-error", 403, "1311", null],
      ["text", 200, null, null],
    ]);
    expect(fake.requests.every((r) => r.finishedAt !== null && r.completed)).toBe(true);
  });

  it("limits concurrent streams per key (429/1302) without using up scripted turns", async () => {
    fake = await startFakeGlm({
      maxInFlight: 1,
      script: [
        // Long enough (10 pieces, 60 ms apart) for the next requests to overlap.
        { kind: "text", text: "a".repeat(20), chunkChars: 2, delayMs: 60 },
        { kind: "text", text: "b".repeat(20), chunkChars: 2, delayMs: 60 },
        { kind: "text", text: "third" },
      ],
    });
    const keyA = { authorization: "Bearer a" };
    const keyB = { authorization: "Bearer b" };
    const streamA = await chat(fake.url, agentBody("one"), keyA);
    expect(streamA.status).toBe(200);
    expect(fake.inFlight).toBe(1);

    const rejected = await chat(fake.url, agentBody("two"), keyA);
    expect(rejected.status).toBe(429);
    const body = (await rejected.json()) as GlmErrorJson;
    expect(body.error.code).toBe("1302");
    expect(body.error.message).toContain("High concurrency");

    // Another key has its own limit.
    const streamB = await chat(fake.url, agentBody("three"), keyB);
    expect(streamB.status).toBe(200);
    expect(fake.inFlight).toBe(2);
    expect(fake.inFlightByKey.get("Bearer a")).toBe(1);

    expect(textOf(parseSse(await streamA.text()).chunks)).toBe("a".repeat(20));
    expect(textOf(parseSse(await streamB.text()).chunks)).toBe("b".repeat(20));
    expect(fake.inFlight).toBe(0);
    expect(fake.inFlightByKey.size).toBe(0);

    // Once the first stream is over the key may stream again, and gets the next scripted turn.
    const again = await chat(fake.url, agentBody("four"), keyA);
    expect(textOf(parseSse(await again.text()).chunks)).toBe("third");

    const refused = fake.requests[1];
    expect(refused).toMatchObject({
      authorization: "Bearer a",
      kind: "agent",
      lastUserText: "two",
      turn: null,
      status: 429,
      code: "1302",
      rejected: "max-in-flight",
      completed: true,
      usage: null,
    });
    expect(fake.requests.map((r) => r.status)).toEqual([200, 429, 200, 200]);
    expect(fake.maxInFlightSeen).toBe(2);
    expect(fake.maxInFlightByKey.get("Bearer a")).toBe(1);
    expect(fake.maxInFlightByKey.get("Bearer b")).toBe(1);

    fake.resetMaxInFlight();
    expect(fake.maxInFlightSeen).toBe(0);
    expect(fake.maxInFlightByKey.size).toBe(0);

    // Without a limit the same key may stream twice at once, and the maxima show it.
    fake.setMaxInFlight(undefined);
    fake.setScript(() => ({ kind: "text", text: "c".repeat(20), chunkChars: 2, delayMs: 20 }));
    const both = await Promise.all([
      chat(fake.url, agentBody("five"), keyA),
      chat(fake.url, agentBody("six"), keyA),
    ]);
    expect(both.map((r) => r.status)).toEqual([200, 200]);
    await Promise.all(both.map((r) => r.text()));
    expect(fake.maxInFlightByKey.get("Bearer a")).toBe(2);
    expect(fake.maxInFlightSeen).toBe(2);
  });

  it("answers the next N chat requests from an error window, then the script resumes", async () => {
    fake = await startFakeGlm({
      errorWindow: { code: "1305", count: 2, retryAfterSec: 1 },
      script: [{ kind: "text", text: "ok" }],
    });
    for (let i = 0; i < 2; i++) {
      const res = await chat(fake.url, agentBody(`try ${i}`));
      expect(res.status).toBe(429);
      expect(res.headers.get("retry-after")).toBe("1");
      expect(((await res.json()) as GlmErrorJson).error.code).toBe("1305");
    }
    const ok = await chat(fake.url, agentBody("try 2"));
    expect(textOf(parseSse(await ok.text()).chunks)).toBe("ok");
    // The models list is not affected by an error window.
    fake.setErrors({ code: "1302" });
    expect((await fetch(`${fake.url}/models`)).status).toBe(200);
    expect(fake.requests.map((r) => [r.rejected, r.code, r.turn])).toEqual([
      ["error-window", "1305", null],
      ["error-window", "1305", null],
      [null, null, "text"],
      [null, null, null],
    ]);
  });

  it("answers with an error window for a time, set at start or at run time", async () => {
    const until = Date.now() + 800;
    fake = await startFakeGlm({
      errorWindow: { code: "1308", untilMs: until },
      script: () => ({ kind: "text", text: "back" }),
    });
    const quota = await chat(fake.url, agentBody("x"));
    expect(quota.status).toBe(429);
    const { error } = (await quota.json()) as GlmErrorJson;
    expect(error.code).toBe("1308");
    // Without a message, 1308 names the window's end (Beijing time) as the reset time.
    expect(error.message).toBe(
      `Usage limit reached for 5 hour. Your limit will reset at ${glmResetTime(until)}`,
    );
    expect(glmResetTime(Date.UTC(2026, 11, 1, 12, 0, 0))).toBe("2026-12-01 20:00:00");
    await new Promise((r) => setTimeout(r, until - Date.now() + 20));
    expect((await chat(fake.url, agentBody("x"))).status).toBe(200);

    // At run time: a burst relative to now, with the message passed through.
    const message = "Usage limit reached for 5 hour. Your limit will reset at 2026-12-01 20:00:00";
    fake.setErrors({ code: "1308", status: 429, message, forMs: 300, retryAfterSec: 7 });
    const held = await chat(fake.url, agentBody("x"));
    expect(held.status).toBe(429);
    expect(held.headers.get("retry-after")).toBe("7");
    expect(await held.json()).toEqual({ error: { code: "1308", message } });
    await new Promise((r) => setTimeout(r, 320));
    expect((await chat(fake.url, agentBody("x"))).status).toBe(200);

    // Without an end it lasts until cleared.
    fake.setErrors({ code: "1113", status: 403 });
    for (let i = 0; i < 3; i++) {
      const res = await chat(fake.url, agentBody("x"));
      expect(res.status).toBe(403);
      expect(((await res.json()) as GlmErrorJson).error.code).toBe("1113");
    }
    fake.setErrors(undefined);
    expect((await chat(fake.url, agentBody("x"))).status).toBe(200);

    // The function form sees the request (here: only one key is refused).
    fake.setErrors((ctx) =>
      ctx.authorization === "Bearer dead" ? { code: "1309", status: 403 } : undefined,
    );
    const dead = await chat(fake.url, agentBody("x"), { authorization: "Bearer dead" });
    expect(dead.status).toBe(403);
    expect(((await dead.json()) as GlmErrorJson).error.code).toBe("1309");
    expect((await chat(fake.url, agentBody("x"))).status).toBe(200);
    expect(fake.requests.map((r) => r.status)).toEqual([
      429, 200, 429, 200, 403, 403, 403, 200, 403, 200,
    ]);
  });

  it("ends every answer with deterministic usage, recorded and summed", async () => {
    fake = await startFakeGlm({
      script: [
        { kind: "text", text: "first answer", reasoning: "r".repeat(40) },
        { kind: "text", text: "second answer" },
        { kind: "text", text: "not counted" },
        { kind: "text", text: "plain json" },
      ],
    });
    const withUsage = { stream_options: { include_usage: true } };
    const one = await chat(fake.url, { ...agentBody("hello"), ...withUsage });
    const first = parseSse(await one.text());
    expect(first.chunks.at(-1)?.usage).toBeDefined();
    expect(first.chunks.at(-1)?.choices).toEqual([]);
    const reasoning = first.chunks
      .map((c) => (c.choices[0]?.delta as { reasoning_content?: string })?.reasoning_content ?? "")
      .join("");
    expect(reasoning).toBe("r".repeat(40));

    const followUp = agentBody("hello", [
      { role: "assistant", content: "first answer" },
      { role: "user", content: "and again" },
    ]);
    const two = await chat(fake.url, { ...followUp, ...withUsage });
    const second = parseSse(await two.text());

    // A request may say it does not want usage.
    const three = await chat(fake.url, {
      ...agentBody("x"),
      stream_options: { include_usage: false },
    });
    const third = parseSse(await three.text());
    expect(third.done).toBe(true);
    expect(third.chunks.some((c) => c.usage)).toBe(false);

    const four = await chat(fake.url, { ...followUp, stream: false });
    const plain = (await four.json()) as { usage: NonNullable<Chunk["usage"]> };

    const [r1, r2, r3, r4] = fake.requests;
    expect(r1?.usage).toMatchObject({ reasoningTokens: 10, cachedTokens: 0 });
    expect(r1?.usage?.completionTokens).toBe(Math.ceil((40 + "first answer".length) / 4));
    expect(r2?.usage?.reasoningTokens).toBe(0);
    expect(r2?.usage?.cachedTokens).toBe(Math.floor((r2?.usage?.promptTokens ?? 0) / 2));
    expect(r2?.usage?.cachedTokens).toBeGreaterThan(0);
    expect(r3?.usage).toBeNull();
    expect(r4?.usage).not.toBeNull();

    const wire = (u: FakeGlmRecordUsage) => ({
      prompt_tokens: u.promptTokens,
      completion_tokens: u.completionTokens,
      total_tokens: u.promptTokens + u.completionTokens,
      prompt_tokens_details: { cached_tokens: u.cachedTokens },
      completion_tokens_details: { reasoning_tokens: u.reasoningTokens },
    });
    expect(first.chunks.at(-1)?.usage).toEqual(r1?.usage && wire(r1.usage));
    expect(second.chunks.at(-1)?.usage).toEqual(r2?.usage && wire(r2.usage));
    expect(plain.usage).toEqual(r4?.usage && wire(r4.usage));

    const sent = [r1, r2, r4].map((r) => r?.usage ?? wire0);
    expect(fake.usageTotals()).toEqual({
      promptTokens: sent.reduce((n, u) => n + u.promptTokens, 0),
      completionTokens: sent.reduce((n, u) => n + u.completionTokens, 0),
      reasoningTokens: 10,
      cachedTokens: sent.reduce((n, u) => n + u.cachedTokens, 0),
    });
    expect(fake.usageTotals((r) => r.index === 0)).toEqual(r1?.usage);
    expect(fake.usageTotals(() => false)).toEqual(wire0);
  });
});

type FakeGlmRecordUsage = NonNullable<FakeGlm["requests"][number]["usage"]>;
const wire0: FakeGlmRecordUsage = {
  promptTokens: 0,
  completionTokens: 0,
  reasoningTokens: 0,
  cachedTokens: 0,
};
