import { request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { type FakeGlm, startFakeGlm } from "../src/testkit/index.ts";

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
  usage?: { prompt_tokens: number; completion_tokens: number };
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
