export * from "../landing/types.ts";
export { worktreeUsage } from "../landing/worktrees.ts";
export * from "./admission.ts";
export * from "./bus.ts";
export * from "./inputs.ts";
export * from "./orchestrator.ts";
export * from "./stream.ts";
export * from "./types.ts";
