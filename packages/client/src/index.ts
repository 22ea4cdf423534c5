import { createTRPCClient, type TRPCClient, TRPCClientError } from "@trpc/client";
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "./app-router.ts";
import { type GlmWorkersClientOptions, glmWorkersLinks } from "./links.ts";

export { type GlmWorkersClientOptions, glmWorkersLinks, trpcUrl } from "./links.ts";
export type { AppRouter };
/** The error every failed call rejects with (re-exported so `instanceof` sees one class). */
export { TRPCClientError };

export type GlmWorkersClient = TRPCClient<AppRouter>;

/** Every procedure's input, e.g. `RouterInputs["workers"]["start"]`. */
export type RouterInputs = inferRouterInputs<AppRouter>;
/** Every procedure's output, e.g. `RouterOutputs["workers"]["list"]["workers"][number]`. */
export type RouterOutputs = inferRouterOutputs<AppRouter>;

type OnEventOutput = AppRouter["workers"]["onEvent"]["_def"]["$types"]["output"];
/** What `workers.onEvent` delivers: `{ id, data }`, `id` being the event id to resume after. */
export type TrackedWorkerEvent = OnEventOutput extends AsyncIterable<infer E> ? E : never;
/** One worker/queue/settings event (`worker_progress`, `worker_completed`, `log`, …). */
export type WorkerEvent = TrackedWorkerEvent["data"];

/**
 * A failed call: `data.code` is the tRPC code (`NOT_FOUND`, `BAD_REQUEST`, `CONFLICT`, …),
 * `data.httpStatus` its HTTP status, `data.issues` the input problems, `data.reason` a more
 * specific code (`MERGE_CONFLICT`, …) and `data.files` the paths it is about.
 */
export type GlmWorkersClientError = TRPCClientError<AppRouter>;

/** Whether `err` is an error from a glm-workers call (then `err.data?.code` names it). */
export function isGlmWorkersClientError(err: unknown): err is GlmWorkersClientError {
  return err instanceof TRPCClientError;
}

/**
 * A typed vanilla tRPC client of a glm-workers server: queries and mutations batched over
 * HTTP, subscriptions over SSE that resume from the last event id after a reconnect.
 *
 * ```ts
 * const client = createGlmWorkersClient({ url: "http://127.0.0.1:4317" });
 * const { workers } = await client.workers.list.query();
 * ```
 */
export function createGlmWorkersClient(options: GlmWorkersClientOptions): GlmWorkersClient {
  return createTRPCClient<AppRouter>({ links: glmWorkersLinks(options) });
}
