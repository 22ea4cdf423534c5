import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { descendants } from "@glm-workers/core";
import {
  type FakeGlm,
  type FakeGlmContext,
  type FakeGlmTurn,
  removeDir,
  startFakeGlm,
  tempDir,
  waitFor,
} from "@glm-workers/core/testkit";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { cmdline, gitProject } from "./agent-helpers.ts";
import { api, type ServerProcess, startServerProcess } from "./process-helpers.ts";

/**
 * The real agent end to end: a glm-workers server process with EXECUTOR=opencode, the real
 * opencode binary, and the fake GLM on 127.0.0.1 (one fake and one server for the file; the
 * tests run one after another, since opencode's start-up is CPU-heavy).
 */

const KEY = "fake-glm-key-for-tests";
const MODELS = "zai-coding-plan/glm-4.7,zai-coding-plan/glm-4.6";
let fake: FakeGlm;
let server: ServerProcess;
let dir: string;
/** Review answers per chunk title that should misbehave. */
const sneakyReviews = new Set<string>();

type Worker = {
  id: string;
  status: string;
  error: string | null;
  branch: string | null;
  workdir: string | null;
  model: string | null;
};

function taskOf(ctx: FakeGlmContext): string {
  return (
    /(?:Your task|Next task|Task that was done): ([^\n]+)/.exec(ctx.lastUserText)?.[1]?.trim() ??
    "task"
  );
}

/** An obedient agent: streams a short plan, writes one file per chunk, then reports. */
function script(ctx: FakeGlmContext): FakeGlmTurn | undefined {
  const task = taskOf(ctx);
  if (ctx.kind === "review") {
    if (sneakyReviews.has(task) && !ctx.afterToolResult) {
      return {
        kind: "tool",
        calls: [
          { name: "write", arguments: { filePath: "reviewer-was-here.txt", content: "x\n" } },
        ],
      };
    }
    return undefined; // the default verdict: pass
  }
  if (ctx.kind !== "agent") return undefined;
  if (ctx.afterToolResult) return { kind: "text", text: `Finished ${task}.` };
  const plan = [1, 2, 3, 4, 5, 6].map((i) => `Plan for ${task}, step ${i}.`).join("\n");
  return {
    kind: "tool",
    text: plan,
    delayMs: 50,
    chunkChars: 6,
    calls: [
      {
        name: "write",
        arguments: { filePath: `${task.toLowerCase()}.txt`, content: `${task} done\n` },
      },
    ],
  };
}

function git(cwd: string, args: string[]): string {
  return execFileSync("git", args, { cwd, encoding: "utf8" });
}

async function spec(name: string, chunks: string[], model?: string) {
  const project = await api<{ id: string }>(server.url, "POST", "/api/projects", {
    name,
    directory: gitProject(dir, name),
  });
  expect(project.status).toBe(201);
  const created = await api<{ spec?: { id: string }; id?: string }>(
    server.url,
    "POST",
    `/api/projects/${project.json.id}/specs`,
    {
      title: `Spec ${name}`,
      content: `# ${name}\nWrite one file per chunk.`,
      ...(model ? { model } : {}),
      chunks: chunks.map((title) => ({ title, description: `Write ${title.toLowerCase()}.txt.` })),
    },
  );
  expect(created.status).toBe(201);
  return (created.json.spec?.id ?? created.json.id) as string;
}

async function finished(id: string): Promise<Worker> {
  return waitFor(
    `worker ${id} to finish`,
    async () => {
      const w = (await api<Worker>(server.url, "GET", `/api/workers/${id}`)).json;
      return ["completed", "failed", "stopped"].includes(w.status) ? w : null;
    },
    { timeoutMs: 150_000, intervalMs: 200 },
  );
}

function parentOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return -1;
  }
}

beforeAll(async () => {
  dir = tempDir("opencode-agent");
  fake = await startFakeGlm({ apiKey: KEY, script });
  server = await startServerProcess({
    DATABASE_URL: `file:${join(dir, "glm.db")}`,
    EXECUTOR: "opencode",
    GLM_API_KEY: KEY,
    GLM_BASE_URL: fake.url,
    GLM_MODELS: MODELS,
    MAX_WORKERS: "1",
    LOG_LEVEL: "info",
  });
}, 60_000);

afterAll(async () => {
  await server?.stop("SIGTERM");
  await fake?.close();
  removeDir(dir);
});

describe("the real agent through the server (opencode + fake GLM)", () => {
  test("a 3-chunk spec: one opencode server, one conversation, a commit per chunk, live text", async () => {
    const specId = await spec("trio", ["Alpha", "Beta", "Gamma"]);
    const before = fake.requests.length;
    const start = await api<{ worker: Worker }>(server.url, "POST", "/api/workers", { specId });
    expect(start.status).toBe(201);
    const id = start.json.worker.id;

    // watch the server's process tree while the run goes: opencode servers by pid (a child
    // opencode forks for a tool carries the parent's command line until it execs: not counted)
    const servers = new Set<number>();
    const isServe = (pid: number) =>
      /opencode/.test(cmdline(pid)) && / serve /.test(`${cmdline(pid)} `);
    const watch = setInterval(() => {
      for (const pid of descendants(server.proc.pid ?? -1)) {
        if (isServe(pid) && !isServe(parentOf(pid))) servers.add(pid);
      }
    }, 50);
    const done = await finished(id).finally(() => clearInterval(watch));
    expect(done.error).toBeNull();
    expect(done.status).toBe("completed");
    expect(done.model).toBe("zai-coding-plan/glm-4.7");
    expect(servers.size).toBe(1);

    // the conversation: chunk 2 and 3 are the next messages of the same session
    const agent = fake.requests.slice(before).filter((r) => r.kind === "agent");
    const firstOf = (title: string) => agent.find((r) => r.lastUserText.includes(title));
    const beta = JSON.stringify(firstOf("Next task: Beta")?.body?.messages);
    expect(beta).toContain("Your task: Alpha");
    expect(beta).toContain("Finished Alpha.");
    const gamma = JSON.stringify(firstOf("Next task: Gamma")?.body?.messages);
    expect(gamma).toContain("Finished Beta.");
    expect(agent.every((r) => r.body?.model === "glm-4.7")).toBe(true);

    // one commit per chunk on the run's branch
    const project = join(dir, "trio");
    const log = git(project, ["log", "--format=%s", `main..${done.branch}`])
      .trim()
      .split("\n");
    expect(log).toEqual(["Gamma", "Beta", "Alpha"]);

    // live text: plan lines were in the log before the model's answer had finished streaming
    const logs = (
      await api<{ logs: Array<{ at: number; line?: string; type: string }> }>(
        server.url,
        "GET",
        `/api/workers/${id}/logs?limit=5000`,
      )
    ).json.logs;
    const alphaAnswer = agent.find(
      (r) =>
        r.lastUserText.includes("Your task: Alpha") &&
        !r.body?.messages?.some((m) => m.role === "tool"),
    );
    const planLines = logs.filter((l) => l.line?.startsWith("Plan for Alpha"));
    expect(planLines.map((l) => l.line)).toEqual(
      [1, 2, 3, 4, 5, 6].map((i) => `Plan for Alpha, step ${i}.`),
    );
    expect(
      planLines.filter((l) => l.at < (alphaAnswer?.finishedAt ?? 0)).length,
    ).toBeGreaterThanOrEqual(2);
  }, 180_000);

  test("a reviewer that writes a file: refused, the review fails, no commit holds the file", async () => {
    sneakyReviews.add("Delta");
    const specId = await spec("sneaky", ["Delta", "Epsilon"]);
    const start = await api<{ worker: Worker }>(server.url, "POST", "/api/workers", { specId });
    const done = await finished(start.json.worker.id);
    expect(done.status).toBe("failed");
    expect(done.error).toMatch(/reviewer tried to change files \(write/);
    const chunks = (
      await api<{ chunks: Array<{ title: string; status: string }> }>(
        server.url,
        "GET",
        `/api/specs/${specId}`,
      )
    ).json.chunks;
    expect(chunks.map((c) => [c.title, c.status])).toEqual([
      ["Delta", "failed"],
      ["Epsilon", "cancelled"],
    ]);
    const project = join(dir, "sneaky");
    expect(
      git(project, ["log", "--all", "--format=%H", "--", "reviewer-was-here.txt"]).trim(),
    ).toBe("");
    expect(git(done.workdir ?? project, ["status", "--porcelain"])).not.toContain(
      "reviewer-was-here",
    );
  }, 180_000);

  test("a spec with its own model: the model requests name it; an unknown model is a 400", async () => {
    const specId = await spec("model", ["Zeta"], "zai-coding-plan/glm-4.6");
    const before = fake.requests.length;
    const start = await api<{ worker: Worker }>(server.url, "POST", "/api/workers", { specId });
    expect(start.json.worker.model).toBe("zai-coding-plan/glm-4.6");
    const done = await finished(start.json.worker.id);
    expect(done.error).toBeNull();
    expect(done.status).toBe("completed");
    const sent = fake.requests
      .slice(before)
      .filter((r) => r.kind === "agent" || r.kind === "review");
    expect(sent.length).toBeGreaterThanOrEqual(2);
    expect(sent.every((r) => r.body?.model === "glm-4.6")).toBe(true);
    const bad = await api(server.url, "POST", "/api/workers", {
      specId,
      model: "zai-coding-plan/glm-9",
    });
    expect(bad.status).toBe(400);
  }, 180_000);
});
