import type { AppRouter as ServerAppRouter } from "@glm-workers/server/router";
import type { inferRouterError, inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import { expectTypeOf, test } from "vitest";
import type { AppRouter, GlmWorkersClient } from "../src/index.ts";

/**
 * Compile-time checks (`pnpm typecheck`): the client's context-free `AppRouter` takes and gives
 * what the server's does. (Each way assignable: `A & B` written out as one object is the same
 * type to a consumer, though not "identical" to the compiler.)
 */
type Inputs = inferRouterInputs<AppRouter>;
type Outputs = inferRouterOutputs<AppRouter>;
type ServerInputs = inferRouterInputs<ServerAppRouter>;
type ServerOutputs = inferRouterOutputs<ServerAppRouter>;

test("the client's AppRouter has the server's inputs, outputs and errors", () => {
  expectTypeOf<Inputs>().toExtend<ServerInputs>();
  expectTypeOf<ServerInputs>().toExtend<Inputs>();
  expectTypeOf<Outputs>().toExtend<ServerOutputs>();
  expectTypeOf<ServerOutputs>().toExtend<Outputs>();
  expectTypeOf<inferRouterError<AppRouter>>().toEqualTypeOf<inferRouterError<ServerAppRouter>>();
  expectTypeOf<GlmWorkersClient["workers"]["start"]["mutate"]>()
    .parameter(0)
    .toEqualTypeOf<{ specId: string; priority?: number | undefined; model?: string | undefined }>();
  expectTypeOf<keyof AppRouter["_def"]["record"]>().toEqualTypeOf<
    keyof ServerAppRouter["_def"]["record"]
  >();
});
