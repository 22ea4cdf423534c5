import { Hono } from "hono";

export interface HealthInfo {
  version: string;
  executor: string;
  executorLabel: string;
}

/** `GET /api/health` → `{"ok":true,"version","executor","executorLabel"}` (open without a token). */
export function healthRoutes(info: HealthInfo) {
  const app = new Hono();
  app.get("/health", (c) =>
    c.json({
      ok: true,
      version: info.version,
      executor: info.executor,
      executorLabel: info.executorLabel,
    }),
  );
  return app;
}
