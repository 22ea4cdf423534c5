import { createHash, timingSafeEqual } from "node:crypto";
import { Hono, type MiddlewareHandler } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { ApiError } from "../errors.ts";

/**
 * `AUTH_TOKEN` enforcement. With a token configured, every `/api` and `/trpc` request needs
 * `Authorization: Bearer <token>` or the `glm_token` cookie that `POST /login` sets; other
 * pages redirect to the login page. `/api/health` and `/login` stay open.
 */

export const AUTH_COOKIE = "glm_token";

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

/** Constant-time comparison that does not leak the token's length. */
export function tokenMatches(candidate: string | undefined, token: string): boolean {
  if (candidate === undefined) return false;
  return timingSafeEqual(digest(candidate), digest(token));
}

function presentedToken(authorization: string | undefined, cookie: string | undefined) {
  const match = authorization?.match(/^Bearer\s+(.+)$/i);
  return { bearer: match?.[1]?.trim(), cookie };
}

const OPEN_PATHS = new Set(["/api/health", "/login", "/favicon.svg"]);

function isApiPath(path: string): boolean {
  return (
    path === "/api" || path.startsWith("/api/") || path === "/trpc" || path.startsWith("/trpc/")
  );
}

export function authGuard(token: string | undefined): MiddlewareHandler {
  return async function authGuard(c, next) {
    if (!token || OPEN_PATHS.has(c.req.path)) return next();
    const { bearer, cookie } = presentedToken(
      c.req.header("authorization"),
      getCookie(c, AUTH_COOKIE),
    );
    if (tokenMatches(bearer, token) || tokenMatches(cookie, token)) return next();
    if (!isApiPath(c.req.path) && (c.req.method === "GET" || c.req.method === "HEAD")) {
      return c.redirect("/login", 302);
    }
    c.header("WWW-Authenticate", 'Bearer realm="glm-workers"');
    throw new ApiError(
      401,
      "UNAUTHORIZED",
      "authentication required: send Authorization: Bearer <AUTH_TOKEN> or log in at /login",
    );
  };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

function loginPage(error?: string): string {
  const message = error ? `<p class="err">${escapeHtml(error)}</p>` : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>glm-workers · log in</title>
<style>
body{margin:0;min-height:100vh;display:grid;place-items:center;background:#0a0a0a;color:#d4d4d4;font:14px ui-monospace,SFMono-Regular,Menlo,monospace}
form{border:1px solid #262626;padding:2rem;border-radius:.5rem;min-width:18rem;background:#111}
h1{font-size:1rem;color:#34d399;margin:0 0 1rem}
input{width:100%;box-sizing:border-box;padding:.5rem;margin:.5rem 0 1rem;background:#0a0a0a;border:1px solid #404040;color:inherit;border-radius:.25rem}
button{background:#34d399;color:#0a0a0a;border:0;padding:.5rem 1rem;border-radius:.25rem;font:inherit;cursor:pointer}
.err{color:#f87171}
</style></head>
<body><form method="post" action="/login">
<h1>&gt; glm-workers</h1>${message}
<label for="token">Access token (AUTH_TOKEN)</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Log in</button>
</form></body></html>`;
}

/** `GET /login` (the form) and `POST /login` (form field or JSON `{token}` → cookie). */
export function loginRoutes(token: string) {
  const app = new Hono();
  app.get("/login", (c) => c.html(loginPage()));
  app.post("/login", async (c) => {
    const type = c.req.header("content-type") ?? "";
    let candidate: string | undefined;
    if (type.includes("application/json")) {
      const body: unknown = await c.req.json().catch(() => null);
      const value = (body as { token?: unknown } | null)?.token;
      candidate = typeof value === "string" ? value : undefined;
    } else {
      const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
      const value = form.token;
      candidate = typeof value === "string" ? value : undefined;
    }
    if (!tokenMatches(candidate, token)) {
      if (type.includes("application/json")) {
        throw new ApiError(401, "UNAUTHORIZED", "wrong token");
      }
      return c.html(loginPage("Wrong token."), 401);
    }
    setCookie(c, AUTH_COOKIE, token, {
      httpOnly: true,
      sameSite: "Strict",
      path: "/",
      secure: new URL(c.req.url).protocol === "https:",
      maxAge: 30 * 24 * 3600,
    });
    return type.includes("application/json") ? c.body(null, 204) : c.redirect("/", 303);
  });
  return app;
}
