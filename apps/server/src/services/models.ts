import { ApiError } from "../errors.ts";

/**
 * The models this server offers (`GLM_MODELS`). The shared zod schemas accept
 * any model id; whether the server offers it is checked here, by the catalog (specs) and by the
 * workers/queue routes (start overrides), tRPC and REST alike: an unknown model is a 400 that
 * names the allowed ones, never silently replaced.
 */
export interface ModelChoice {
  /** Never empty; the server's default (`OPENCODE_MODEL`) is one of them. */
  readonly models: readonly string[];
}

function refuse(message: string, path: string): never {
  throw new ApiError(400, "BAD_REQUEST", message, {
    issues: [{ path, message, code: "invalid_value" }],
  });
}

/** Throws the 400 unless `model` is absent, null or one of the offered models. */
export function assertOfferedModel(
  choice: ModelChoice,
  model: string | null | undefined,
  path = "model",
): void {
  if (model === null || model === undefined || choice.models.includes(model)) return;
  refuse(
    `unknown model ${JSON.stringify(model)}: this server offers ${choice.models.join(", ")}`,
    path,
  );
}

/**
 * A run without an override uses its spec's model: refuse to start one whose spec names a model
 * the server no longer offers (GLM_MODELS changed since), rather than run it anyway.
 */
export function assertSpecModelOffered(choice: ModelChoice, spec: { model: string | null }): void {
  if (spec.model === null || choice.models.includes(spec.model)) return;
  refuse(
    `the spec's model ${JSON.stringify(spec.model)} is not offered by this server any more ` +
      `(it offers ${choice.models.join(", ")}): change the spec's model or pick one for this run`,
    "model",
  );
}
