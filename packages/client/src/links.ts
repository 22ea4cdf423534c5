import { httpBatchLink, httpSubscriptionLink, splitLink, type TRPCLink } from "@trpc/client";
import { EventSource } from "eventsource";
import type { AppRouter } from "./app-router.ts";

export interface GlmWorkersClientOptions {
  /** The server's base URL, e.g. `http://127.0.0.1:4317` (the client adds `/trpc`). */
  url: string;
  /** The server's `AUTH_TOKEN`, sent as `Authorization: Bearer <token>` on every request. */
  token?: string | undefined;
  /** A fetch to use instead of the global one (for queries, mutations and the SSE stream). */
  fetch?: typeof fetch | undefined;
}

/** `http://host:port/base/` → `http://host:port/base/trpc`. */
export function trpcUrl(url: string): string {
  const base = new URL(url);
  base.pathname = `${base.pathname.replace(/\/+$/, "")}/trpc`;
  base.search = "";
  base.hash = "";
  return base.toString();
}

/**
 * The links of every glm-workers client (vanilla and React): subscriptions over SSE, everything
 * else batched over HTTP, both with the bearer token.
 *
 * The SSE side uses the `eventsource` package (fetch-based, so it runs in Node and can send the
 * `Authorization` header, which a browser's own `EventSource` cannot). When the stream drops
 * (network error, server restart) it reconnects by itself with `Last-Event-ID` set to the last
 * `tracked()` id it received; the server resumes the subscription right after that event, so
 * nothing is lost and nothing arrives twice.
 */
export function glmWorkersLinks(options: GlmWorkersClientOptions): TRPCLink<AppRouter>[] {
  const url = trpcUrl(options.url);
  const { token } = options;
  const authorization: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  // Looked up per call, so a fetch stubbed after the client was made is still used.
  const fetchImpl: typeof fetch = (input, init) => (options.fetch ?? fetch)(input, init);
  return [
    splitLink({
      condition: (op) => op.type === "subscription",
      true: httpSubscriptionLink({
        url,
        EventSource,
        eventSourceOptions: () => ({
          fetch: (input, init) =>
            fetchImpl(input, { ...init, headers: { ...init?.headers, ...authorization } }),
        }),
      }),
      false: httpBatchLink({
        url,
        fetch: fetchImpl,
        headers: () => authorization,
        maxURLLength: 4000,
      }),
    }),
  ];
}
