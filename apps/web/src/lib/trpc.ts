import type { AppRouter } from "@glm-workers/server/router";
import {
  createTRPCClient,
  httpBatchLink,
  httpSubscriptionLink,
  isTRPCClientError,
  splitLink,
} from "@trpc/client";

/** Same-origin endpoint: the server serves the app, and the dev server proxies `/trpc`. */
export const TRPC_URL = "/trpc";

/**
 * The one typed client of the app. Subscriptions go over SSE (`httpSubscriptionLink`, which
 * reconnects and resumes from the last tracked id); queries and mutations are batched.
 */
export const trpc = createTRPCClient<AppRouter>({
  links: [
    splitLink({
      condition: (op) => op.type === "subscription",
      true: httpSubscriptionLink({ url: TRPC_URL }),
      false: httpBatchLink({ url: TRPC_URL, maxURLLength: 4000 }),
    }),
  ],
});

export type TrpcClient = typeof trpc;

export { errorMessage, fieldErrors } from "./errors.ts";
export { isTRPCClientError };
