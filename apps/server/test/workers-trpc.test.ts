import type { WorkerEvent } from "@glm-workers/core/orchestrator";
import { waitFor } from "@glm-workers/core/testkit";
import {
  createTRPCClient,
  httpBatchLink,
  httpSubscriptionLink,
  splitLink,
  TRPCClientError,
} from "@trpc/client";
import { EventSource } from "eventsource";
import { expect, test } from "vitest";
import type { AppRouter } from "../src/router.ts";
import { useLiveServers } from "./helpers.ts";

/** The typed tRPC client over a real listening server: workers, queue, settings, subscriptions. */

const start = useLiveServers();

async function boot() {
  const { server, box, orchestrator } = await start({
    MAX_WORKERS: "1",
    SIMULATED_CHUNK_MS: "300",
  });
  const url = `${server.url}/trpc`;
  const trpc = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        true: httpSubscriptionLink({ url, EventSource }),
        false: httpBatchLink({ url, fetch, headers: { origin: server.url } }),
      }),
    ],
  });
  return { trpc, box, orchestrator };
}

function collect(
  trpc: Awaited<ReturnType<typeof boot>>["trpc"],
  input: { lastEventId?: string | null; workerId?: string },
) {
  const seen: WorkerEvent[] = [];
  const sub = trpc.workers.onEvent.subscribe(input, {
    onData: (e) => {
      seen.push(e.data as WorkerEvent);
    },
  });
  return { seen, sub };
}

test("start, queue, settings and a subscription that resumes from lastEventId without gaps", async () => {
  const { trpc, box: b, orchestrator: o } = await boot();
  const live = collect(trpc, {});
  await waitFor("the subscription to attach", () => o.bus.listenerCount > 0);

  const project = await trpc.projects.create.mutate({ name: "p", directory: b.projectDir });
  const one = await trpc.specs.create.mutate({
    projectId: project.id,
    title: "one",
    content: "",
    chunks: [{ title: "a" }, { title: "b" }],
  });
  const two = await trpc.specs.create.mutate({
    projectId: project.id,
    title: "two",
    content: "",
    chunks: [{ title: "c" }],
  });

  const started = await trpc.workers.start.mutate({ specId: one.id });
  expect(started.status).toBe("started");
  const queued = await trpc.workers.start.mutate({ specId: two.id, priority: 2 });
  expect(queued.status).toBe("queued");
  const again = await trpc.workers.start.mutate({ specId: one.id }).catch((e: unknown) => e);
  expect(again).toBeInstanceOf(TRPCClientError);
  expect((again as TRPCClientError<AppRouter>).data?.code).toBe("CONFLICT");
  const bad = await trpc.workers.start.mutate({ specId: "" }).catch((e: unknown) => e);
  expect((bad as TRPCClientError<AppRouter>).data?.code).toBe("BAD_REQUEST");

  const settings = await trpc.settings.update.mutate({ maxWorkers: 2 });
  expect(settings.maxWorkers).toBe(2);
  const info = await trpc.system.info.query();
  expect(info.maxWorkers).toBe(2);

  await waitFor(
    "both runs to complete",
    () => live.seen.filter((e) => e.type === "worker_completed").length === 2,
  );
  const ids = live.seen.map((e) => e.id);
  expect(ids).toEqual([...ids].sort((x, y) => x - y));
  for (const type of [
    "worker_started",
    "worker_progress",
    "worker_completed",
    "queue_updated",
    "log",
    "settings_updated",
  ]) {
    expect(
      live.seen.some((e) => e.type === type),
      type,
    ).toBe(true);
  }
  const logs = await trpc.workers.logs.query({
    id: started.status === "started" ? started.worker.id : "",
  });
  expect(logs.length).toBeGreaterThan(0);

  // leave and come back from the middle: the replay equals what was missed, in order
  live.sub.unsubscribe();
  await waitFor("the listener to be removed", () => o.bus.listenerCount === 0);
  const middle = live.seen[Math.floor(live.seen.length / 2)] as WorkerEvent;
  const resumed = collect(trpc, { lastEventId: String(middle.id) });
  const expected = live.seen.filter((e) => e.id > middle.id).map((e) => e.id);
  await waitFor("the replay", () => resumed.seen.length >= expected.length);
  expect(resumed.seen.map((e) => e.id).slice(0, expected.length)).toEqual(expected);
  resumed.sub.unsubscribe();
  await waitFor("the listener to be removed", () => o.bus.listenerCount === 0);
}, 120_000);
