import { trpc } from "./trpc.ts";

/** The models this server offers (`GLM_MODELS`) and the one it uses when none is chosen. */
export interface ModelChoice {
  models: string[];
  defaultModel: string;
}

let cached: Promise<ModelChoice> | null = null;

/** `system.info`'s model list, asked once per page load (again after a failed attempt). */
export function loadModels(): Promise<ModelChoice> {
  cached ??= trpc.system.info
    .query()
    .then((info) => ({ models: info.models, defaultModel: info.defaultModel }))
    .catch((err: unknown) => {
      cached = null;
      throw err;
    });
  return cached;
}
