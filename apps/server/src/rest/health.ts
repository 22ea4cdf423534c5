import type { GatewayState } from "@glm-workers/core/gateway";
import { Hono } from "hono";

export interface HealthInfo {
  version: string;
  executor: string;
  executorLabel: string;
  gateway?: { state(): GatewayState } | null;
}

/** The gateway's state as the API shows it (no key, no tokens). */
export function gatewayHealth(gateway: HealthInfo["gateway"]) {
  if (!gateway) return null;
  const s = gateway.state();
  return {
    inFlight: s.inFlight,
    waiting: s.waiting,
    concurrency: s.concurrency,
    maxConcurrency: s.maxConcurrency,
    ...(s.heldUntil !== null ? { heldUntil: s.heldUntil } : {}),
    ...(s.lastError !== null ? { lastError: s.lastError } : {}),
    last429At: s.last429At,
    requests: s.requests,
  };
}

/**
 * `GET /api/health` → `{"ok":true,"version","executor","executorLabel","gateway"}` (open without a
 * token); `gateway` is `{inFlight, waiting, concurrency, heldUntil?, lastError?, …}` or null.
 */
export function healthRoutes(info: HealthInfo) {
  const app = new Hono();
  app.get("/health", (c) =>
    c.json({
      ok: true,
      version: info.version,
      executor: info.executor,
      executorLabel: info.executorLabel,
      gateway: gatewayHealth(info.gateway),
    }),
  );
  return app;
}
