import { type Accessor, createSignal, onCleanup } from "solid-js";
import { errorMessage, trpc } from "./trpc.ts";
import type { Usage, UsageSummary } from "./types.ts";
import type { WorkersStore } from "./workers-types.ts";

/** Model usage as the dashboard shows it: compact token counts and the API-equivalent cost. */

const UNITS = ["", "k", "M", "B"] as const;

/** `950`, `12.3k`, `123k`, `1.2M`. */
export function compactNumber(n: number): string {
  const value = Number.isFinite(n) && n > 0 ? n : 0;
  if (value < 1000) return String(Math.round(value));
  let text = "";
  for (let unit = 1; unit < UNITS.length; unit++) {
    const scaled = value / 1000 ** unit;
    text = `${(scaled >= 100 ? scaled.toFixed(0) : scaled.toFixed(1)).replace(/\.0$/, "")}${UNITS[unit]}`;
    if (scaled < 999.5) break;
  }
  return text;
}

/** Input (cached included) and output (reasoning included) tokens: `12.3k in · 4.1k out`. */
export function tokensText(usage: Usage): string {
  return `${compactNumber(usage.inputTokens)} in · ${compactNumber(usage.outputTokens)} out`;
}

/** `$0.04`, `$0.004`, `<$0.001`, `$12.30`; null (no price known) gives `?`. */
export function formatCost(usd: number | null): string {
  if (usd === null) return "$?";
  if (usd === 0) return "$0.00";
  if (usd < 0.001) return "<$0.001";
  if (usd < 0.01) return `$${usd.toFixed(3)}`;
  return `$${usd.toFixed(2)}`;
}

/** `≈ $0.04 API-equivalent` (or that the model has no known price). */
export function costText(usage: Usage): string {
  return usage.costUsd === null
    ? "API-equivalent cost unknown"
    : `≈ ${formatCost(usage.costUsd)} API-equivalent`;
}

const n = (v: number) => v.toLocaleString("en-US");

/** The tooltip: every count, and what the cost means. */
export function usageTitle(usage: Usage): string {
  const counts =
    `${n(usage.requests)} model request${usage.requests === 1 ? "" : "s"}: ` +
    `${n(usage.inputTokens)} input tokens (${n(usage.cacheReadTokens)} from the cache), ` +
    `${n(usage.outputTokens)} output tokens (${n(usage.reasoningTokens)} reasoning).`;
  const cost =
    usage.costUsd === null
      ? "No pay-as-you-go price is known for this model, so no API-equivalent cost is shown."
      : `${formatCost(usage.costUsd)} is what these tokens would cost at Z.ai's pay-as-you-go API prices (reasoning billed as output).`;
  return `${counts}\n${cost}\nThe GLM coding plan is flat-rate: nothing is billed per token.`;
}

export interface UsageSummaryView {
  summary: Accessor<UsageSummary | null>;
  error: Accessor<string | null>;
}

/**
 * The server's usage summary, kept live: loaded at once and after every reconnect of the feed,
 * and reloaded when `usage_updated` events arrive (at most once per `throttleMs`, so a burst of
 * requests costs one reload). No timer runs while nothing happens.
 */
export function createUsageSummary(
  store: Pick<WorkersStore, "listen" | "onReconnect">,
  throttleMs = 1000,
): UsageSummaryView {
  const [summary, setSummary] = createSignal<UsageSummary | null>(null);
  const [error, setError] = createSignal<string | null>(null);
  let disposed = false;
  let seq = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const load = async () => {
    const mine = ++seq;
    try {
      const next = await trpc.system.usage.query();
      if (disposed || mine !== seq) return;
      setSummary(next);
      setError(null);
    } catch (err) {
      if (!disposed && mine === seq) setError(errorMessage(err));
    }
  };
  const schedule = () => {
    if (timer !== undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      void load();
    }, throttleMs);
  };
  const stopListening = store.listen((event) => {
    // usage, and the gateway's queue (in flight, waiting) that moves with the runs
    if (event.type === "usage_updated" || event.type.startsWith("worker_")) schedule();
  });
  const stopReconnect = store.onReconnect(() => void load());
  void load();
  onCleanup(() => {
    disposed = true;
    clearTimeout(timer);
    stopListening();
    stopReconnect();
  });
  return { summary, error };
}
