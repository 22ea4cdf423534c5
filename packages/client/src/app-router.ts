import type { AppRouter as ServerAppRouter } from "@glm-workers/server/router";
import type {
  TRPCBuiltRouter,
  TRPCMutationProcedure,
  TRPCQueryProcedure,
  TRPCSubscriptionProcedure,
} from "@trpc/server";

/**
 * The server's router as its clients see it: the same procedures, inputs, outputs and error
 * shape, with the context (database, orchestrator, Hono…) erased and every input/output written
 * out as plain data types.
 *
 * The mapping types live inside this function on purpose: the declaration emitter cannot name
 * them from outside, so `dist/app-router.d.ts` gets the resulting types in full instead of
 * `import("@glm-workers/server/router")`, `import("@glm-workers/db/schema")`… references. Only
 * `@trpc/server` (a dependency of this package) is left to import. The function is never called
 * at run time: every import of this module is `import type`.
 */
function publicRouter() {
  /** A string/number literal union without the alias it was declared under. */
  type Literals<S> = [S] extends [never]
    ? never
    : { [Q in S & (string | number)]: Q }[S & (string | number)];
  /** Plain data: objects, arrays and tuples mapped member by member. */
  type Plain<T> = Literals<Extract<T, string | number>> | NonLiteral<Exclude<T, string | number>>;
  type NonLiteral<T> = T extends (...args: never[]) => unknown
    ? T
    : T extends Date
      ? T
      : T extends object
        ? { [K in keyof T]: Plain<T[K]> }
        : T;
  /** A subscription's output stays an async iterable; its events become plain data. */
  type Output<T> =
    T extends AsyncIterable<infer Y, infer R, infer N> ? AsyncIterable<Plain<Y>, R, N> : Plain<T>;
  type Root = ServerAppRouter["_def"]["_config"]["$types"];
  type ErrorShape = Plain<Root["errorShape"]>;
  type Def<D extends { input: unknown; output: unknown }> = {
    input: Plain<D["input"]>;
    output: Output<D["output"]>;
    meta: object;
    errorShape: ErrorShape;
  };
  type Procedures<T> = {
    [K in keyof T]: T[K] extends TRPCQueryProcedure<infer D>
      ? TRPCQueryProcedure<Def<D>>
      : T[K] extends TRPCMutationProcedure<infer D>
        ? TRPCMutationProcedure<Def<D>>
        : T[K] extends TRPCSubscriptionProcedure<infer D>
          ? TRPCSubscriptionProcedure<Def<D>>
          : Procedures<T[K]>;
  };
  return undefined as unknown as TRPCBuiltRouter<
    { ctx: object; meta: object; errorShape: ErrorShape; transformer: false },
    Procedures<ServerAppRouter["_def"]["record"]>
  >;
}

/** The glm-workers tRPC API (`@glm-workers/server`'s `appRouter`) for clients. */
export interface AppRouter extends ReturnType<typeof publicRouter> {}
