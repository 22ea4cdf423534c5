import {
  idSchema,
  logsInput,
  mergeInput,
  type Orchestrator,
  queueAddInput,
  queueMoveInput,
  queuePageInput,
  queuePatchInput,
  queueReorderInput,
  retryInput,
  startWorkerInput,
  WORKER_EVENT_TYPES,
} from "@glm-workers/core/orchestrator";
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { z } from "zod";
import type { Catalog } from "../services/catalog.ts";
import { parseJsonBody, parseQuery } from "./validate.ts";

/** How often an idle SSE connection gets a keep-alive comment. */
const KEEP_ALIVE_MS = 15_000;

/**
 * REST mirror of the workers and queue operations, and the SSE feed. Mounted under /api.
 * Errors are thrown and turned into JSON problem bodies by the app's onError.
 */
export function workersRoutes(orchestrator: Orchestrator, catalog: Catalog) {
  const app = new Hono();

  app.get("/workers", async (c) => {
    const workers = await orchestrator.listWorkers();
    return c.json({
      workers,
      activeCount: orchestrator.activeCount,
      maxWorkers: orchestrator.maxWorkers,
    });
  });

  app.post("/workers", async (c) => {
    const body = await parseJsonBody(c, startWorkerInput);
    await catalog.specs.checkRunModel(body.specId, body.model);
    const result = await orchestrator.start(body.specId, body.priority ?? 0, body.model);
    return c.json(result, result.status === "started" ? 201 : 202);
  });

  app.post("/workers/pause-all", async (c) => c.json({ workers: await orchestrator.pauseAll() }));
  app.post("/workers/stop-all", async (c) => c.json({ workers: await orchestrator.stopAll() }));

  app.get("/workers/events", (c) => {
    const query = parseQuery(c, eventsQuery);
    const header = c.req.header("Last-Event-ID") ?? query.lastEventId ?? null;
    const lastEventId = header && /^\d+$/.test(header) ? Number(header) : null;
    return streamSSE(c, async (stream) => {
      const abort = new AbortController();
      stream.onAbort(() => abort.abort());
      const keepAlive = setInterval(() => {
        void stream.write(": keep-alive\n\n").catch(() => abort.abort());
      }, KEEP_ALIVE_MS);
      try {
        await stream.write(": connected\n\n");
        const events = orchestrator.stream({
          workerId: query.workerId,
          types: query.types,
          lastEventId,
          signal: abort.signal,
        });
        for await (const event of events) {
          await stream.writeSSE({
            id: String(event.id),
            event: event.type,
            data: JSON.stringify(event),
          });
        }
      } finally {
        clearInterval(keepAlive);
        abort.abort();
      }
    });
  });

  app.get("/workers/:id", async (c) =>
    c.json(await orchestrator.getWorker(workerId(c.req.param("id")))),
  );
  app.delete("/workers/:id", async (c) =>
    c.json(await orchestrator.stop(workerId(c.req.param("id")))),
  );
  app.post("/workers/:id/pause", async (c) =>
    c.json(await orchestrator.pause(workerId(c.req.param("id")))),
  );
  app.post("/workers/:id/resume", async (c) =>
    c.json(await orchestrator.resume(workerId(c.req.param("id")))),
  );
  app.post("/workers/:id/stop", async (c) =>
    c.json(await orchestrator.stop(workerId(c.req.param("id")))),
  );
  app.get("/workers/:id/diff", async (c) => {
    const id = workerId(c.req.param("id"));
    const { chunkId } = parseQuery(c, diffQuery);
    return c.json(await orchestrator.diff(id, chunkId));
  });
  app.get("/workers/:id/conflicts", async (c) =>
    c.json(await orchestrator.conflicts(workerId(c.req.param("id")))),
  );
  app.post("/workers/:id/merge", async (c) => {
    const id = workerId(c.req.param("id"));
    const body = await parseJsonBody(c, mergeInput.omit({ id: true }));
    return c.json(await orchestrator.merge(id, body));
  });
  app.post("/workers/:id/discard", async (c) => {
    const id = workerId(c.req.param("id"));
    return c.json({ discarded: true, worker: await orchestrator.discard(id) });
  });
  app.post("/workers/:id/retry", async (c) => {
    const id = workerId(c.req.param("id"));
    const body = await parseJsonBody(c, retryInput.omit({ id: true }));
    const result = await orchestrator.retry(id, body.priority ?? 0);
    return c.json(result, result.status === "started" ? 201 : 202);
  });
  app.get("/workers/:id/logs", async (c) => {
    const id = workerId(c.req.param("id"));
    const query = parseQuery(c, logsInput);
    const raw = c.req.query("after");
    const logs =
      raw === undefined
        ? await orchestrator.logTail(id, query.limit)
        : await orchestrator.logs(id, query.after, query.limit);
    return c.json({ logs, lastEventId: logs.at(-1)?.id ?? query.after });
  });

  app.get("/queue", async (c) => {
    const page = parseQuery(c, queuePageInput);
    return c.json({
      queue: await orchestrator.listQueue(page),
      total: await orchestrator.queueLength(),
      paused: orchestrator.queuePaused,
      holdReason: orchestrator.queueHoldReason,
    });
  });
  app.post("/queue", async (c) => {
    const body = await parseJsonBody(c, queueAddInput);
    await catalog.specs.checkRunModel(body.specId, body.model);
    return c.json(await orchestrator.enqueue(body.specId, body.priority ?? 0, body.model), 201);
  });
  app.post("/queue/reorder", async (c) => {
    const body = await parseJsonBody(c, queueReorderInput);
    return c.json({ queue: await orchestrator.reorder(body.ids) });
  });
  app.post("/queue/:id/move", async (c) => {
    const body = await parseJsonBody(c, queueMoveInput);
    return c.json(await orchestrator.moveInQueue(workerId(c.req.param("id")), body.position));
  });
  app.post("/queue/pause", async (c) => {
    await orchestrator.setQueuePaused(true);
    return c.json({ paused: true });
  });
  app.post("/queue/resume", async (c) => {
    await orchestrator.setQueuePaused(false);
    return c.json({ paused: false });
  });
  app.patch("/queue/:id", async (c) => {
    const body = await parseJsonBody(c, queuePatchInput);
    return c.json(await orchestrator.setPriority(workerId(c.req.param("id")), body.priority));
  });
  app.delete("/queue/:id", async (c) => {
    await orchestrator.removeFromQueue(workerId(c.req.param("id")));
    return c.body(null, 204);
  });

  return app;
}

function workerId(raw: string): string {
  return idSchema.parse(raw);
}

const diffQuery = z.object({ chunkId: idSchema.optional() });

const eventsQuery = z.object({
  workerId: z.string().min(1).optional(),
  lastEventId: z.string().optional(),
  types: z
    .string()
    .optional()
    .transform((v) => (v ? v.split(",").filter(Boolean) : undefined))
    .pipe(z.array(z.enum(WORKER_EVENT_TYPES)).optional()),
});
