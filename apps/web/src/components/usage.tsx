import { type JSX, Show } from "solid-js";
import type { Usage, UsageSummary } from "../lib/types.ts";
import { compactNumber, costText, tokensText, usageTitle } from "../lib/usage.ts";

/**
 * Tokens and the API-equivalent cost of a run, chunk step or spec, on one line:
 * `12.3k in · 4.1k out · ≈ $0.04 API-equivalent`; the tooltip has every count and explains that
 * the plan is flat-rate.
 */
export function UsageLine(props: {
  usage: Usage;
  /** Shown before the figures, e.g. `exec`. */
  label?: string;
  testId?: string;
  class?: string;
}): JSX.Element {
  return (
    <span
      class={`inline-flex min-w-0 flex-wrap items-center gap-x-1.5 font-mono text-[11px] text-zinc-400 ${props.class ?? ""}`}
      data-testid={props.testId}
      data-requests={props.usage.requests}
      data-cost={props.usage.costUsd ?? "unknown"}
      title={usageTitle(props.usage)}
    >
      <Show when={props.label}>
        <span class="text-zinc-500">{props.label}</span>
      </Show>
      <span data-testid="usage-tokens">{tokensText(props.usage)}</span>
      <span class="text-zinc-600">·</span>
      <span
        class={props.usage.costUsd === null ? "text-zinc-500" : "text-emerald-300/90"}
        data-testid="usage-cost"
      >
        {costText(props.usage)}
      </span>
    </span>
  );
}

/** The Workers page's usage panel: requests in the last 5 hours, tokens and cost, and totals. */
/** The GLM gateway right now: requests in flight and waiting, the limit, the last 429, a hold. */
function GatewayState(props: { gateway: UsageSummary["gateway"] }): JSX.Element {
  const clock = (ms: number) => new Date(ms).toTimeString().slice(0, 5);
  return (
    <Show when={props.gateway}>
      {(g) => (
        <span data-testid="gateway-state" class="text-zinc-400">
          <span class="text-zinc-500">gateway </span>
          {g().inFlight} in flight · {g().waiting} waiting · limit {g().concurrency}/
          {g().maxConcurrency}
          <Show when={g().last429At}>{(at) => <span> · last 429 {clock(at())}</span>}</Show>
          <Show when={g().heldUntil}>
            {(until) => <span class="text-amber-300"> · held until {clock(until())}</span>}
          </Show>
        </span>
      )}
    </Show>
  );
}

export function UsagePanel(props: {
  summary: UsageSummary | null;
  error: string | null;
}): JSX.Element {
  return (
    <section
      aria-labelledby="usage-heading"
      class="panel flex flex-col gap-2 p-3 font-mono text-xs sm:flex-row sm:items-center sm:gap-4"
      data-testid="usage-panel"
    >
      <h2 id="usage-heading" class="shrink-0 text-sm font-semibold text-zinc-100">
        Model usage
      </h2>
      <Show
        when={props.summary}
        fallback={
          <span class="text-zinc-500">
            {props.error ? `unavailable: ${props.error}` : "loading…"}
          </span>
        }
      >
        {(summary) => (
          <Show
            when={summary().total.requests > 0}
            fallback={<span class="text-zinc-500">no model requests recorded yet</span>}
          >
            <div class="flex min-w-0 flex-1 flex-col gap-1 sm:flex-row sm:flex-wrap sm:items-center sm:gap-x-4">
              <span data-testid="usage-last5h" title={usageTitle(summary().last5h)}>
                <span class="text-zinc-500">last 5 h </span>
                <span class="text-zinc-100" data-testid="usage-last5h-requests">
                  {compactNumber(summary().last5h.requests)}
                </span>
                <span class="text-zinc-500">
                  {" "}
                  request{summary().last5h.requests === 1 ? "" : "s"} ·{" "}
                </span>
                <span class="text-zinc-300">{tokensText(summary().last5h)}</span>
                <span class="text-zinc-500"> · </span>
                <span class="text-emerald-300/90">{costText(summary().last5h)}</span>
              </span>
              <GatewayState gateway={summary().gateway} />
              <span
                class="text-zinc-500"
                data-testid="usage-total"
                title={usageTitle(summary().total)}
              >
                total {compactNumber(summary().total.requests)} requests ·{" "}
                {tokensText(summary().total)} · {costText(summary().total)}
              </span>
            </div>
          </Show>
        )}
      </Show>
    </section>
  );
}
