import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { serveStatic } from "@hono/node-server/serve-static";
import type { Hono, MiddlewareHandler } from "hono";

function isApiPath(path: string): boolean {
  return (
    path === "/api" || path.startsWith("/api/") || path === "/trpc" || path.startsWith("/trpc/")
  );
}

/** Long-lived caching for vite's hashed assets; the HTML is always revalidated. */
function cacheHeaders(): MiddlewareHandler {
  return async function cacheHeaders(c, next) {
    await next();
    if (isApiPath(c.req.path) || c.res.status !== 200) return;
    c.header(
      "Cache-Control",
      c.req.path.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "no-cache",
    );
  };
}

/**
 * Serves the built web app from `webDist` at `/`, with a fallback to `index.html` for every
 * other GET outside `/api` and `/trpc` (client-side routes). Does nothing when the build is
 * missing. Returns whether the app is served.
 */
export function mountWebApp(app: Hono, webDist: string): boolean {
  const indexFile = join(webDist, "index.html");
  if (!existsSync(indexFile)) return false;
  const files = serveStatic({ root: webDist });
  app.use("*", cacheHeaders());
  app.use("*", async function webFiles(c, next) {
    if (isApiPath(c.req.path)) return next();
    return files(c, next);
  });
  app.get("*", async function spaFallback(c, next) {
    if (isApiPath(c.req.path)) return next();
    const html = await readFile(indexFile, "utf8").catch(() => null);
    if (html === null) return next();
    c.header("Cache-Control", "no-cache");
    return c.html(html);
  });
  return true;
}
