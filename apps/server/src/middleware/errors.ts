import type { ErrorHandler, NotFoundHandler } from "hono";
import { describeError, errorBody } from "../errors.ts";
import type { Logger } from "../logger.ts";

/** The app's one `onError`: every thrown error becomes `{"error":{"code","message","issues"}}`. */
export function handleError(logger: Logger): ErrorHandler {
  return function handleError(err, c) {
    const described = describeError(err);
    if (described.internal) {
      logger.error(`${c.req.method} ${c.req.path} failed`, { error: err });
    }
    return c.json(errorBody(described), described.status);
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
