/**
 * What a GLM coding plan's error answer means for the gateway. Z.ai answers HTTP 429 (or 4xx)
 * with `{"error":{"code":"1302","message":"…"}}`; the codes fall in families:
 * - slow down (1302 rate limit, 1303 too frequent, 1305 overloaded, 1312 high concurrency), or
 *   any 429 with `retry-after`: retry after the advertised delay and lower the concurrency;
 * - quota (1304 daily/period limit, 1308 5-hour limit — its message names the reset time,
 *   1310 weekly/monthly limit): hold every request until the reset;
 * - fatal (1113 no balance, 1309 plan expired, 1311 model not in the plan, HTTP 401/403): the
 *   key or plan cannot work; fail the request and hold the queue.
 */

export type GlmAnswer =
  | { kind: "rate"; code: string | null; message: string; retryAfterMs: number | null }
  | { kind: "quota"; code: string; message: string; resetAt: number | null }
  | { kind: "fatal"; code: string | null; message: string }
  | { kind: "other"; message: string };

const RATE = new Set(["1302", "1303", "1305", "1312"]);
const QUOTA = new Set(["1304", "1308", "1310"]);
const FATAL = new Set(["1113", "1309", "1311"]);

/** `code` and `message` of an error body, whatever its exact shape. */
export function errorBody(text: string): { code: string | null; message: string } {
  try {
    const body = JSON.parse(text) as {
      error?: { code?: unknown; message?: unknown };
      message?: unknown;
    };
    const code = body.error?.code;
    const message = body.error?.message ?? body.message;
    return {
      code: code === undefined || code === null ? null : String(code),
      message: typeof message === "string" ? message : text.slice(0, 500),
    };
  } catch {
    return { code: null, message: text.slice(0, 500) };
  }
}

/** `retry-after` in ms: delta seconds or an HTTP date. */
export function retryAfterMs(header: string | undefined, now = Date.now()): number | null {
  if (!header) return null;
  const secs = Number(header);
  if (Number.isFinite(secs) && secs >= 0) return secs * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/**
 * The reset time a quota message names (`… will reset at 2026-12-01 20:00:00`). A time without
 * a zone is China Standard Time (UTC+8), where the coding plans are run. Null when absent or
 * not plausible (past, or more than 8 days ahead).
 */
export function quotaResetAt(message: string, now = Date.now()): number | null {
  const m = /(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2})?)(Z|[+-]\d{2}:?\d{2})?/.exec(message);
  if (!m) return null;
  const zone = m[3]
    ? m[3] === "Z"
      ? "Z"
      : m[3].replace(/^([+-]\d{2})(\d{2})$/, "$1:$2")
    : "+08:00";
  const time = m[2]?.length === 5 ? `${m[2]}:00` : m[2];
  const at = Date.parse(`${m[1]}T${time}${zone}`);
  if (Number.isNaN(at) || at <= now || at - now > 8 * 24 * 3600_000) return null;
  return at;
}

export function classify(
  status: number,
  headers: Record<string, string | string[] | undefined>,
  text: string,
  now = Date.now(),
): GlmAnswer {
  const { code, message } = errorBody(text);
  const retry = retryAfterMs(
    typeof headers["retry-after"] === "string" ? headers["retry-after"] : undefined,
    now,
  );
  if (code && QUOTA.has(code))
    return { kind: "quota", code, message, resetAt: quotaResetAt(message, now) };
  if ((code && FATAL.has(code)) || status === 401 || status === 403)
    return { kind: "fatal", code, message };
  if ((code && RATE.has(code)) || status === 429)
    return { kind: "rate", code, message, retryAfterMs: retry };
  return { kind: "other", message };
}
