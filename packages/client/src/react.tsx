import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { type CreateTRPCReact, createTRPCReact } from "@trpc/react-query";
import { type ReactNode, useMemo, useState } from "react";
import type { AppRouter } from "./app-router.ts";
import { type GlmWorkersClientOptions, glmWorkersLinks } from "./links.ts";

export type { AppRouter, GlmWorkersClientOptions };

/**
 * The `@trpc/react-query` hooks of the glm-workers API, e.g.
 * `trpcReact.workers.list.useQuery()` and `trpcReact.workers.onEvent.useSubscription({}, …)`.
 * Use them under a {@link GlmWorkersProvider}.
 */
export const trpcReact: CreateTRPCReact<AppRouter, unknown> = createTRPCReact<AppRouter>();

export interface GlmWorkersProviderProps extends GlmWorkersClientOptions {
  /** The React Query cache to use; a new one per provider when absent. */
  queryClient?: QueryClient | undefined;
  children: ReactNode;
}

/**
 * Gives its children the {@link trpcReact} hooks over a glm-workers server: the same links as
 * `createGlmWorkersClient` (batched queries and mutations, SSE subscriptions that resume from
 * the last event id, the bearer token) and a `QueryClient`.
 */
export function GlmWorkersProvider({
  url,
  token,
  fetch,
  queryClient,
  children,
}: GlmWorkersProviderProps) {
  const [ownQueryClient] = useState(() => queryClient ?? new QueryClient());
  const client = useMemo(
    () => trpcReact.createClient({ links: glmWorkersLinks({ url, token, fetch }) }),
    [url, token, fetch],
  );
  const cache = queryClient ?? ownQueryClient;
  return (
    <trpcReact.Provider client={client} queryClient={cache}>
      <QueryClientProvider client={cache}>{children}</QueryClientProvider>
    </trpcReact.Provider>
  );
}
