import { isIP } from "node:net";

/** Strips the brackets of an IPv6 literal (`[::1]` → `::1`) and lower-cases the name. */
export function normalizeHostname(hostname: string): string {
  const lower = hostname.trim().toLowerCase();
  return lower.startsWith("[") && lower.endsWith("]") ? lower.slice(1, -1) : lower;
}

/** True for `localhost`, `*.localhost`, 127.0.0.0/8, `::1` and IPv4-mapped loopback. */
export function isLoopbackHostname(hostname: string): boolean {
  const name = normalizeHostname(hostname);
  if (name === "localhost" || name.endsWith(".localhost")) return true;
  if (name === "::1" || name === "0:0:0:0:0:0:0:1") return true;
  const v4 = name.startsWith("::ffff:") ? name.slice("::ffff:".length) : name;
  return isIP(v4) === 4 && v4.startsWith("127.");
}

/** True for the "every interface" bind addresses. */
export function isWildcardHostname(hostname: string): boolean {
  const name = normalizeHostname(hostname);
  return name === "0.0.0.0" || name === "::" || name === "0:0:0:0:0:0:0:0";
}

/**
 * Splits a `Host` header value into hostname and port. Returns null when it is not a plain
 * `name[:port]` / `[v6][:port]` (userinfo, paths, spaces and empty names are rejected).
 */
export function parseHostHeader(value: string): { hostname: string; port: number | null } | null {
  const host = value.trim();
  if (host === "" || /[\s/@?#\\]/.test(host)) return null;
  let hostname: string;
  let portText: string | undefined;
  if (host.startsWith("[")) {
    const end = host.indexOf("]");
    if (end < 0) return null;
    hostname = host.slice(0, end + 1);
    const rest = host.slice(end + 1);
    if (rest !== "" && !rest.startsWith(":")) return null;
    portText = rest === "" ? undefined : rest.slice(1);
  } else {
    const parts = host.split(":");
    if (parts.length > 2) return null;
    hostname = parts[0] ?? "";
    portText = parts[1];
  }
  if (hostname === "" || hostname === "[]") return null;
  if (portText === undefined) return { hostname: normalizeHostname(hostname), port: null };
  if (!/^\d{1,5}$/.test(portText)) return null;
  const port = Number(portText);
  if (port > 65535) return null;
  return { hostname: normalizeHostname(hostname), port };
}
