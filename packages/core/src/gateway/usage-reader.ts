export interface GatewayUsage {
  /** All input tokens (cached ones included). */
  inputTokens: number;
  /** All output tokens (reasoning included). */
  outputTokens: number;
  reasoningTokens: number;
  cacheReadTokens: number;
  requests: number;
}

/** Pulls `usage` out of an OpenAI answer (SSE stream or JSON), whatever arrives last. */
export class UsageReader {
  #tail = "";
  #usage: Record<string, unknown> | null = null;
  push(chunk: Buffer): void {
    const text = this.#tail + chunk.toString("utf8");
    const lines = text.split("\n");
    this.#tail = lines.pop() ?? "";
    for (const line of lines) this.#line(line);
  }
  end(): void {
    this.#line(this.#tail);
    this.#tail = "";
  }
  #line(raw: string): void {
    const line = raw.startsWith("data:") ? raw.slice(5).trim() : raw.trim();
    if (!line.startsWith("{") || !line.includes('"usage"')) return;
    try {
      const value = JSON.parse(line) as { usage?: unknown };
      if (value.usage && typeof value.usage === "object")
        this.#usage = value.usage as Record<string, unknown>;
    } catch {
      // not a whole JSON line
    }
  }
  usage(): GatewayUsage | null {
    const u = this.#usage;
    if (!u) return null;
    const n = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : 0);
    const prompt = u.prompt_tokens_details as Record<string, unknown> | undefined;
    const completion = u.completion_tokens_details as Record<string, unknown> | undefined;
    return {
      inputTokens: n(u.prompt_tokens),
      outputTokens: n(u.completion_tokens),
      reasoningTokens: n(completion?.reasoning_tokens),
      cacheReadTokens: n(prompt?.cached_tokens ?? u.cached_tokens),
      requests: 1,
    };
  }
}
