import { monitorEventLoopDelay } from "node:perf_hooks";
import type { Orchestrator } from "@glm-workers/core/orchestrator";
import { Hono } from "hono";

/**
 * `GET /api/metrics`: the server process's own readings — memory, event-loop delay since start
 * (or since the last `POST /api/metrics/event-loop/reset`), live resources by type (timers,
 * sockets, message ports…), event-bus listeners and runs in flight. Behind the token like the
 * rest of the API; meant for operators and for `pnpm bench` / `pnpm load`.
 */
export function metricsRoutes(orchestrator: Orchestrator | undefined) {
  // The histogram holds the sampling timer's whole interval; the delay is what exceeds it.
  const RESOLUTION_MS = 10;
  const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  delay.enable();
  let since = Date.now();
  const ms = (ns: number) => Math.max(0, Math.round((ns / 1e6 - RESOLUTION_MS) * 100) / 100);
  const app = new Hono();
  app.get("/metrics", (c) => {
    const resources: Record<string, number> = {};
    for (const type of process.getActiveResourcesInfo())
      resources[type] = (resources[type] ?? 0) + 1;
    const m = process.memoryUsage();
    return c.json({
      pid: process.pid,
      uptimeS: Math.round(process.uptime()),
      memory: {
        rss: m.rss,
        heapUsed: m.heapUsed,
        heapTotal: m.heapTotal,
        external: m.external,
        arrayBuffers: m.arrayBuffers,
      },
      eventLoopDelayMs: {
        since: new Date(since).toISOString(),
        min: ms(delay.min),
        p50: ms(delay.percentile(50)),
        p99: ms(delay.percentile(99)),
        max: ms(delay.max),
        mean: ms(delay.mean),
        samples: delay.count,
      },
      resources,
      busListeners: orchestrator?.bus.listenerCount ?? 0,
      activeRuns: orchestrator?.activeCount ?? 0,
    });
  });
  app.post("/metrics/event-loop/reset", (c) => {
    delay.reset();
    since = Date.now();
    return c.body(null, 204);
  });
  return app;
}
