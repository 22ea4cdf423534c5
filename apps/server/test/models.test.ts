import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "@glm-workers/core/testkit";
import { createTRPCClient, httpBatchLink, TRPCClientError } from "@trpc/client";
import { describe, expect, test } from "vitest";
import type { AppRouter } from "../src/router.ts";
import { type Json, useLiveServers } from "./helpers.ts";
import { api } from "./process-helpers.ts";

/** The model of a spec and of a run: chosen from GLM_MODELS, recorded on the worker. */

const M47 = "zai-coding-plan/glm-4.7";
const M46 = "zai-coding-plan/glm-4.6";
const AIR = "zai-coding-plan/glm-4.5-air";
const MODELS = [M47, M46, AIR];

const start = useLiveServers();

async function boot() {
  // slow chunks: runs stay active until a test stops them
  const { url, box, database } = await start({
    GLM_MODELS: MODELS.join(","),
    SIMULATED_CHUNK_MS: "60000",
  });
  const trpc = createTRPCClient<AppRouter>({
    links: [httpBatchLink({ url: `${url}/trpc`, fetch, headers: { origin: url } })],
  });
  const rest = (method: string, path: string, body?: unknown) => api<Json>(url, method, path, body);
  const root = box.dir;
  /** A project of its own (a plain directory runs one spec at a time) unless `projectId` is given. */
  const makeSpec = async (
    title: string,
    extra: Record<string, unknown> = {},
    projectId?: string,
  ) => {
    let pid = projectId;
    if (!pid) {
      const directory = join(root, "projects", title);
      mkdirSync(directory, { recursive: true });
      pid = (await rest("POST", "/api/projects", { name: title, directory })).json.id as string;
    }
    const res = await rest("POST", `/api/projects/${pid}/specs`, {
      title,
      chunks: [{ title: "one" }],
      ...extra,
    });
    return { ...res, projectId: pid };
  };
  return { trpc, rest, makeSpec, database };
}

async function trpcFailure(promise: Promise<unknown>): Promise<TRPCClientError<AppRouter>> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof TRPCClientError) return err as TRPCClientError<AppRouter>;
    throw err;
  }
  throw new Error("expected the call to fail");
}

function expectUnknownModel(res: { status: number; json: Json }, model: string) {
  expect(res.status).toBe(400);
  expect(res.json.error.code).toBe("BAD_REQUEST");
  expect(res.json.error.message).toContain(`unknown model "${model}"`);
  expect(res.json.error.message).toContain(MODELS.join(", "));
  expect(res.json.error.issues).toEqual([expect.objectContaining({ path: "model" })]);
}

describe("models", () => {
  test("system.info lists the configured models and the default", async () => {
    const { trpc } = await boot();
    expect(await trpc.system.info.query()).toMatchObject({ models: MODELS, defaultModel: M47 });
  });

  test("a spec's own model is recorded on its worker; a start override wins; else the default", async () => {
    const { rest, makeSpec } = await boot();
    const own = await makeSpec("own", { model: M46 });
    expect(own.status).toBe(201);
    expect(own.json.model).toBe(M46);
    expect((await rest("GET", `/api/specs/${own.json.id}`)).json.model).toBe(M46);

    const started = await rest("POST", "/api/workers", { specId: own.json.id });
    expect(started.status).toBe(201);
    expect(started.json.worker.model).toBe(M46);
    const got = await rest("GET", `/api/workers/${started.json.worker.id}`);
    expect(got.json).toMatchObject({ model: M46, stepDetail: null });

    const over = await makeSpec("over", { model: M46 });
    const overridden = await rest("POST", "/api/workers", { specId: over.json.id, model: AIR });
    expect(overridden.status).toBe(201);
    expect(overridden.json.worker.model).toBe(AIR);
    expect((await rest("GET", `/api/specs/${over.json.id}`)).json.model).toBe(M46); // unchanged

    const plain = await makeSpec("plain");
    expect(plain.json.model).toBeNull();
    const byDefault = await rest("POST", "/api/workers", { specId: plain.json.id });
    expect(byDefault.json.worker.model).toBe(M47);

    const list = await rest("GET", "/api/workers");
    const models = Object.fromEntries(
      (list.json.workers as Json[]).map((w) => [w.specTitle, w.model]),
    );
    expect(models).toEqual({ own: M46, over: AIR, plain: M47 });
  });

  test("a spec's model can be changed and cleared (back to the server default)", async () => {
    const { rest, trpc, makeSpec } = await boot();
    const spec = await makeSpec("s");
    const patched = await rest("PATCH", `/api/specs/${spec.json.id}`, { model: AIR });
    expect(patched.status).toBe(200);
    expect(patched.json.model).toBe(AIR);
    const cleared = await trpc.specs.update.mutate({ id: spec.json.id, model: null });
    expect(cleared.model).toBeNull();
    const untouched = await trpc.specs.update.mutate({ id: spec.json.id, title: "renamed" });
    expect(untouched.model).toBeNull();
  });

  test("REST: an unknown model is a 400 naming the allowed models, and changes nothing", async () => {
    const { rest, makeSpec } = await boot();
    const created = await makeSpec("bad", { model: "zai-coding-plan/glm-9" });
    expectUnknownModel(created, "zai-coding-plan/glm-9");
    expect((await rest("GET", `/api/projects/${created.projectId}/specs`)).json.specs).toEqual([]);

    const spec = await makeSpec("good", {}, created.projectId);
    expect(spec.status).toBe(201);
    expectUnknownModel(
      await rest("PATCH", `/api/specs/${spec.json.id}`, { model: "openai/gpt-4o" }),
      "openai/gpt-4o",
    );
    expect((await rest("GET", `/api/specs/${spec.json.id}`)).json.model).toBeNull();

    expectUnknownModel(
      await rest("POST", "/api/workers", { specId: spec.json.id, model: "glm-4.7" }),
      "glm-4.7",
    );
    expectUnknownModel(
      await rest("POST", "/api/queue", { specId: spec.json.id, model: "x/y" }),
      "x/y",
    );
    expect((await rest("GET", "/api/workers")).json.workers).toEqual([]);
    expect((await rest("GET", "/api/queue")).json.queue).toEqual([]);
  });

  test("tRPC: an unknown model is BAD_REQUEST naming the allowed models", async () => {
    const { trpc, makeSpec } = await boot();
    const spec = await makeSpec("s");
    const calls = [
      trpc.specs.create.mutate({ projectId: spec.projectId, title: "t", model: "a/b" }),
      trpc.specs.update.mutate({ id: spec.json.id, model: "a/b" }),
      trpc.workers.start.mutate({ specId: spec.json.id, model: "a/b" }),
      trpc.queue.add.mutate({ specId: spec.json.id, model: "a/b" }),
    ];
    for (const call of calls) {
      const err = await trpcFailure(call);
      expect(err.data?.code).toBe("BAD_REQUEST");
      expect(err.message).toContain('unknown model "a/b"');
      expect(err.message).toContain(MODELS.join(", "));
    }
    expect(await trpc.queue.list.query()).toMatchObject({ queue: [] });
    const ok = await trpc.workers.start.mutate({ specId: spec.json.id, model: M46 });
    expect(ok.status === "started" && ok.worker.model).toBe(M46);
  });

  test("a queued run keeps its override until it starts", async () => {
    const { rest, trpc, makeSpec } = await boot();
    const busy = await makeSpec("busy", { model: M46 });
    const first = await rest("POST", "/api/workers", { specId: busy.json.id });
    expect(first.status).toBe(201);
    // same plain directory: it waits for the busy run
    const next = await makeSpec("next", { model: M46 }, busy.projectId);
    const queued = await rest("POST", "/api/queue", { specId: next.json.id, model: AIR });
    expect(queued.status).toBe(201);
    expect(queued.json.model).toBe(AIR);
    const third = await makeSpec("third", {}, busy.projectId);
    const viaTrpc = await trpc.workers.start.mutate({ specId: third.json.id, model: M47 });
    expect(viaTrpc.status === "queued" && viaTrpc.queueItem.model).toBe(M47);
    const queue = await rest("GET", "/api/queue");
    expect((queue.json.queue as Json[]).map((q) => [q.specTitle, q.model])).toEqual([
      ["next", AIR],
      ["third", M47],
    ]);

    await rest("DELETE", `/api/workers/${first.json.worker.id}`);
    let worker: Json;
    await waitFor("the queued run to start", async () => {
      const list = (await rest("GET", "/api/workers")).json.workers as Json[];
      worker = list.find((w) => w.specTitle === "next" && w.status === "running");
      return worker !== undefined;
    });
    expect(worker.model).toBe(AIR);
    expect((await rest("GET", `/api/workers/${worker.id}`)).json.model).toBe(AIR);
  });

  test("a spec whose model the server no longer offers does not start without an override", async () => {
    const { rest, makeSpec, database } = await boot();
    const spec = await makeSpec("stale");
    // written before GLM_MODELS changed
    await database.write((tx) =>
      tx.run(`UPDATE specs SET model = 'zai-coding-plan/glm-4' WHERE id = '${spec.json.id}'`),
    );
    const refused = await rest("POST", "/api/workers", { specId: spec.json.id });
    expect(refused.status).toBe(400);
    expect(refused.json.error.message).toContain('"zai-coding-plan/glm-4" is not offered');
    expect(refused.json.error.message).toContain(MODELS.join(", "));
    const started = await rest("POST", "/api/workers", { specId: spec.json.id, model: M46 });
    expect(started.status).toBe(201);
    expect(started.json.worker.model).toBe(M46);
    expect((await rest("POST", "/api/workers", { specId: "missing" })).status).toBe(404);
  });
});
