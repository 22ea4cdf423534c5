/**
 * The one price table behind the "API-equivalent cost" the dashboard shows: what a run's tokens
 * would cost at Z.ai's public pay-as-you-go prices (USD per million tokens, as published in
 * 2026). The coding plan itself is flat-rate, so this is an estimate to compare runs by, not a
 * bill. A model that is not in the table (or whose price is not known) has no cost: null, never 0.
 */

export interface ModelPrice {
  /** USD per 1M uncached input tokens. */
  input: number;
  /** USD per 1M input tokens read from the provider's cache. */
  cachedInput: number;
  /** USD per 1M output tokens; reasoning tokens are billed as output. */
  output: number;
}

/**
 * Keyed by the model name without its provider (`zai-coding-plan/glm-4.7`, `zai/glm-4.7`,
 * `zhipuai/glm-4.7` and `glm-4.7` are the same model at the same price).
 */
export const MODEL_PRICES: Readonly<Record<string, ModelPrice>> = {
  "glm-5.2": { input: 1.4, cachedInput: 0.26, output: 4.4 },
  "glm-5.1": { input: 1.4, cachedInput: 0.26, output: 4.4 },
  "glm-5-turbo": { input: 1.2, cachedInput: 0.24, output: 4.0 },
  "glm-5": { input: 1.0, cachedInput: 0.2, output: 3.2 },
  "glm-4.7": { input: 0.6, cachedInput: 0.11, output: 2.2 },
  "glm-4.6": { input: 0.6, cachedInput: 0.11, output: 2.2 },
  "glm-4.5": { input: 0.6, cachedInput: 0.11, output: 2.2 },
  "glm-4.5-air": { input: 0.2, cachedInput: 0.03, output: 1.1 },
};

/** The price of a model id (`provider/model` or a bare name), or null when it is not known. */
export function modelPrice(model: string | null | undefined): ModelPrice | null {
  if (!model) return null;
  const name = model
    .slice(model.lastIndexOf("/") + 1)
    .trim()
    .toLowerCase();
  return Object.hasOwn(MODEL_PRICES, name) ? (MODEL_PRICES[name] ?? null) : null;
}

/**
 * Token counts of one or more model requests, as an OpenAI-compatible answer's `usage` reports
 * them: `inputTokens` counts every input token (`cacheReadTokens` of them came from the cache),
 * `outputTokens` every output token (`reasoningTokens` of them were reasoning).
 */
export interface TokenCounts {
  inputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  cacheReadTokens: number;
}

/** The API-equivalent cost in micro-USD (rounded), or null when the model has no known price. */
export function costMicros(model: string | null | undefined, tokens: TokenCounts): number | null {
  const price = modelPrice(model);
  if (!price) return null;
  const cached = Math.min(tokens.cacheReadTokens, tokens.inputTokens);
  // reasoning is part of the output (and billed as output); a report that counts it apart
  // cannot make the output smaller than the reasoning
  const output = Math.max(tokens.outputTokens, tokens.reasoningTokens);
  // USD per 1M tokens = micro-USD per token
  const micros =
    (tokens.inputTokens - cached) * price.input +
    cached * price.cachedInput +
    output * price.output;
  return Math.round(micros);
}
