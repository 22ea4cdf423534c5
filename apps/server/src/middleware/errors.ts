import { TRPC_ERROR_CODES_BY_KEY } from "@trpc/server/rpc";
import type { ErrorHandler, NotFoundHandler } from "hono";
import { type DescribedError, describeError, errorBody, trpcCodeOf } from "../errors.ts";
import type { Logger } from "../logger.ts";

/**
 * A refusal of the HTTP layer (auth, origin, host, body size) on `/trpc`, in tRPC's own error
 * shape, so a tRPC client reads `error.data.code` as it does for a procedure's errors.
 */
function trpcErrorBody(described: DescribedError) {
  const key = trpcCodeOf(described.status);
  return {
    error: {
      message: described.message,
      code: TRPC_ERROR_CODES_BY_KEY[key],
      data: {
        code: key,
        httpStatus: described.status,
        issues: described.issues ?? null,
        reason: described.code === key ? null : described.code,
        files: described.files ?? null,
      },
    },
  };
}

/**
 * The app's one `onError`: every thrown error becomes `{"error":{"code","message","issues"}}`
 * (on `/trpc`: tRPC's error shape).
 */
export function handleError(logger: Logger): ErrorHandler {
  return function handleError(err, c) {
    const described = describeError(err);
    if (described.internal) {
      logger.error(`${c.req.method} ${c.req.path} failed`, { error: err });
    }
    const trpc = c.req.path === "/trpc" || c.req.path.startsWith("/trpc/");
    return c.json(trpc ? trpcErrorBody(described) : errorBody(described), described.status);
  };
}

export function handleNotFound(): NotFoundHandler {
  return function handleNotFound(c) {
    return c.json(
      errorBody({
        status: 404,
        code: "NOT_FOUND",
        message: `no route for ${c.req.method} ${c.req.path}`,
        internal: false,
      }),
      404,
    );
  };
}
