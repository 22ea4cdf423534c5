import type { GatewayState } from "@glm-workers/core/gateway";
import { Hono } from "hono";
import type { Catalog } from "../services/catalog.ts";
import { gatewayHealth } from "./health.ts";

/**
 * `GET /api/usage` → `{last5h, total}`: the model usage of every run, in the last 5 hours (by
 * request time) and overall, each `{requests, inputTokens, outputTokens, reasoningTokens,
 * cacheReadTokens, costUsd}` (the API-equivalent cost; null when nothing of it is priced).
 */
export function usageRoutes(catalog: Catalog, gateway: { state(): GatewayState } | null = null) {
  const app = new Hono();
  app.get("/usage", async (c) =>
    c.json({ ...(await catalog.usage.summary()), gateway: gatewayHealth(gateway) }),
  );
  return app;
}
