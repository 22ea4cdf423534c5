import { createRepositories } from "@glm-workers/db/repositories";
import { createTRPCClient, httpBatchLink, TRPCClientError } from "@trpc/client";
import { afterEach, beforeEach, expect, test } from "vitest";
import { silentLogger } from "../src/logger.ts";
import type { AppRouter } from "../src/router.ts";
import { type RunningServer, startServer } from "../src/server.ts";
import { counts, type Sandbox, sandbox, testEnv } from "./helpers.ts";

let box: Sandbox;
let server: RunningServer;
beforeEach(async () => {
  box = sandbox();
  server = await startServer({ env: testEnv(box), logger: silentLogger, cwd: box.dir });
});
afterEach(async () => {
  await server.close();
  box.cleanup();
});

function client(headers: Record<string, string> = {}) {
  return createTRPCClient<AppRouter>({
    links: [httpBatchLink({ url: `${server.url}/trpc`, fetch, headers })],
  });
}

async function failure(promise: Promise<unknown>): Promise<TRPCClientError<AppRouter>> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof TRPCClientError) return err as TRPCClientError<AppRouter>;
    throw err;
  }
  throw new Error("expected the call to fail");
}

test("typed tRPC client: projects, specs, chunks round trip", async () => {
  const trpc = client();
  const health = await trpc.health.check.query();
  expect(health).toMatchObject({ ok: true, executor: "simulated" });

  const project = await trpc.projects.create.mutate({ name: "p", directory: box.projectDir });
  const spec = await trpc.specs.create.mutate({
    projectId: project.id,
    title: "s",
    content: "body",
    chunks: [{ title: "a" }, { title: "b", dependencies: [0] }, { title: "c" }],
  });
  const ids = spec.chunks.map((c) => c.id);
  const reordered = await trpc.chunks.reorder.mutate({
    specId: spec.id,
    chunkIds: [ids[1], ids[2], ids[0]].map(String),
  });
  expect(reordered.map((c) => c.title)).toEqual(["b", "c", "a"]);

  const added = await trpc.chunks.create.mutate({ specId: spec.id, title: "d" });
  await trpc.chunks.update.mutate({ id: added.id, description: "more" });
  const [got, list] = await Promise.all([
    trpc.specs.get.query({ id: spec.id }),
    trpc.specs.list.query({ projectId: project.id }),
  ]);
  expect(got.chunks.map((c) => c.title)).toEqual(["b", "c", "a", "d"]);
  expect(got.chunks[3]?.description).toBe("more");
  expect(list.map((s) => s.id)).toEqual([spec.id]);

  await trpc.chunks.remove.mutate({ id: added.id });
  await trpc.specs.update.mutate({ id: spec.id, status: "ready" });
  const projects = await trpc.projects.list.query();
  expect(projects.map((p) => p.id)).toEqual([project.id]);
});

test("BAD_REQUEST carries the zod issues, flattened and listed", async () => {
  const trpc = client();
  const err = await failure(
    // @ts-expect-error wrong types on purpose
    trpc.projects.create.mutate({ name: "", directory: 5 }),
  );
  expect(err.data?.code).toBe("BAD_REQUEST");
  expect(err.data?.httpStatus).toBe(400);
  expect(Object.keys(err.data?.zodError?.fieldErrors ?? {}).sort()).toEqual(["directory", "name"]);
  expect(err.data?.issues?.map((i) => i.path).sort()).toEqual(["directory", "name"]);
  expect(err.message).toContain("name");
  expect((await counts(server.database)).projects).toBe(0);
});

test("domain errors map to NOT_FOUND, CONFLICT and BAD_REQUEST", async () => {
  const trpc = client();
  const missing = await failure(trpc.specs.get.query({ id: "nope" }));
  expect(missing.data?.code).toBe("NOT_FOUND");
  expect(missing.data?.httpStatus).toBe(404);

  const badDir = await failure(
    trpc.projects.create.mutate({ name: "x", directory: `${box.dir}/missing` }),
  );
  expect(badDir.data?.code).toBe("BAD_REQUEST");
  expect(badDir.data?.issues?.[0]?.path).toBe("directory");

  const project = await trpc.projects.create.mutate({ name: "p", directory: box.projectDir });
  const spec = await trpc.specs.create.mutate({
    projectId: project.id,
    title: "s",
    chunks: [{ title: "a" }],
  });
  await createRepositories(server.database).specs.setStatus(spec.id, "running");
  const conflict = await failure(trpc.chunks.create.mutate({ specId: spec.id, title: "b" }));
  expect(conflict.data?.code).toBe("CONFLICT");
  expect(conflict.data?.httpStatus).toBe(409);
});

test("a cross-origin tRPC mutation is refused", async () => {
  const trpc = client({ origin: "https://evil.example" });
  await expect(
    trpc.projects.create.mutate({ name: "p", directory: box.projectDir }),
  ).rejects.toThrow();
  expect((await counts(server.database)).projects).toBe(0);
});

test("without an orchestrator the workers API answers SERVICE_UNAVAILABLE", async () => {
  const err = await failure(client().system.info.query());
  expect(err.data?.code).toBe("SERVICE_UNAVAILABLE");
  expect(err.data?.httpStatus).toBe(503);
});
