import type { ExecutorConfig, ExecutorKind } from "../protocol.ts";
import { COMMAND_LABEL, createCommandExecutor, expandCommand } from "./command.ts";
import { createOpencodeExecutor, OPENCODE_LABEL } from "./opencode.ts";
import { DEFAULT_OPENCODE_MODEL } from "./opencode-env.ts";
import { createSimulatedExecutor, SIMULATED_AGENT_PATH, SIMULATED_LABEL } from "./simulated.ts";
import type { Executor } from "./types.ts";

export { type ChildExit, type ChildRunOptions, runChild } from "./child.ts";
export type * from "./types.ts";
export {
  COMMAND_LABEL,
  createCommandExecutor,
  createOpencodeExecutor,
  createSimulatedExecutor,
  DEFAULT_OPENCODE_MODEL,
  expandCommand,
  SIMULATED_AGENT_PATH,
  SIMULATED_LABEL,
};

const LABELS: Record<ExecutorKind, string> = {
  simulated: SIMULATED_LABEL,
  opencode: OPENCODE_LABEL,
  command: COMMAND_LABEL,
};

/** Human label of an executor kind; the simulated one always says it is not a real agent. */
export function executorLabel(kind: ExecutorKind): string {
  return LABELS[kind];
}

/** Builds the executor chosen by the server's configuration. */
export function createExecutor(config: ExecutorConfig): Executor {
  switch (config.kind) {
    case "simulated":
      return createSimulatedExecutor(config);
    case "command":
      return createCommandExecutor(config);
    case "opencode":
      return createOpencodeExecutor(config);
  }
}
