import type { MiddlewareHandler } from "hono";
import { ApiError } from "../errors.ts";
import {
  isLoopbackHostname,
  isWildcardHostname,
  normalizeHostname,
  parseHostHeader,
} from "../net.ts";

/**
 * Browser-facing defences (DESIGN §6):
 * - `hostGuard`: the `Host` header must name this machine's loopback (or the configured
 *   non-loopback HOST), so a DNS-rebound page on another name gets 403;
 * - `originGuard`: a mutating request (POST/PUT/PATCH/DELETE — tRPC mutations are POSTs)
 *   with an `Origin` must come from the same origin (or the vite dev server), and
 *   `Sec-Fetch-Site: cross-site` is refused;
 * - `securityHeaders`: no sniffing, no framing, no referrer leaks.
 */

export interface SecurityOptions {
  /** The configured bind address (`HOST`). */
  host: string;
  /** Extra origins allowed on mutations; default: the vite dev server on 127.0.0.1/localhost:5173. */
  devOrigins?: readonly string[];
}

export const DEFAULT_DEV_ORIGINS = ["http://127.0.0.1:5173", "http://localhost:5173"] as const;

const MUTATING_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export function isMutatingMethod(method: string): boolean {
  return MUTATING_METHODS.has(method.toUpperCase());
}

/** The `Host` the request was sent to: the header, or the URL's authority when absent. */
function requestHost(headers: Headers, url: string): string {
  return headers.get("host") ?? new URL(url).host;
}

function hostnameAllowed(hostname: string, configuredHost: string): boolean {
  if (isLoopbackHostname(hostname)) return true;
  if (isLoopbackHostname(configuredHost)) return false;
  // A non-loopback bind requires AUTH_TOKEN (env.ts), which is what protects it then.
  if (isWildcardHostname(configuredHost)) return true;
  return normalizeHostname(hostname) === normalizeHostname(configuredHost);
}

export function hostGuard(options: SecurityOptions): MiddlewareHandler {
  return async function hostGuard(c, next) {
    const host = requestHost(c.req.raw.headers, c.req.url);
    const parsed = parseHostHeader(host);
    if (!parsed || !hostnameAllowed(parsed.hostname, options.host)) {
      throw new ApiError(
        403,
        "FORBIDDEN_HOST",
        `Host "${host.slice(0, 200)}" is not allowed; use http://127.0.0.1 or http://localhost`,
      );
    }
    await next();
  };
}

/** `scheme://host[:port]` in canonical form (default ports dropped), or null. */
function canonicalOrigin(value: string): string | null {
  try {
    const url = new URL(value);
    if (url.protocol !== "http:" && url.protocol !== "https:") return null;
    return url.origin;
  } catch {
    return null;
  }
}

export function originGuard(options: SecurityOptions): MiddlewareHandler {
  const extra = new Set(
    (options.devOrigins ?? DEFAULT_DEV_ORIGINS)
      .map(canonicalOrigin)
      .filter((o): o is string => o !== null),
  );
  return async function originGuard(c, next) {
    if (!isMutatingMethod(c.req.method)) return next();
    if (c.req.header("sec-fetch-site")?.toLowerCase() === "cross-site") {
      throw new ApiError(403, "FORBIDDEN_ORIGIN", "cross-site requests may not change anything");
    }
    const origin = c.req.header("origin");
    if (origin === undefined) return next();
    const canonical = canonicalOrigin(origin);
    const requestUrl = new URL(c.req.url);
    const host = requestHost(c.req.raw.headers, c.req.url).toLowerCase();
    const sameOrigin =
      canonical !== null &&
      (canonicalOrigin(`${requestUrl.protocol}//${host}`) === canonical || extra.has(canonical));
    if (!sameOrigin) {
      throw new ApiError(
        403,
        "FORBIDDEN_ORIGIN",
        `Origin "${origin.slice(0, 200)}" may not change anything on this server`,
      );
    }
    await next();
  };
}

export function securityHeaders(): MiddlewareHandler {
  return async function securityHeaders(c, next) {
    await next();
    c.header("X-Content-Type-Options", "nosniff");
    c.header("X-Frame-Options", "DENY");
    c.header("Referrer-Policy", "no-referrer");
    c.header("Cross-Origin-Opener-Policy", "same-origin");
    c.header("Cross-Origin-Resource-Policy", "same-origin");
  };
}
