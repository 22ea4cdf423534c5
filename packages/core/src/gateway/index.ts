export * from "./gateway.ts";
export * from "./glm-errors.ts";
export * from "./limiter.ts";
