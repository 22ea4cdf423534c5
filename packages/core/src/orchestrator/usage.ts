import { coerceError } from "../errors.ts";
import { costMicros } from "../pricing.ts";
import type { OrchestratorContext } from "./context.ts";
import type { ModelUsage } from "./types.ts";

/**
 * Records one finished model request of a run (the gateway calls this for every request):
 * attributed to the chunk and step the run is on (the run only when it is not active here or
 * has no current chunk), stored in one transaction with its API-equivalent cost (from the
 * model passed, else the run's), then published as `usage_updated`. Resolves once stored;
 * never throws: an unknown worker or a failed write is logged and ignored. While a run is
 * active its usage is queued with the thread's messages, so requests that finish together
 * share one transaction.
 */
export async function recordUsage(
  ctx: OrchestratorContext,
  workerId: string,
  usage: ModelUsage,
): Promise<void> {
  try {
    const counts = usageCounts(usage);
    if (!counts) return;
    const at = Date.now();
    const active = ctx.active.get(workerId);
    if (active) {
      const model = modelOf(usage) ?? active.sink.view.model;
      await active.sink.recordUsage({
        ...counts,
        model,
        costMicros: costMicros(model, counts),
        at,
      });
      return;
    }
    let model = modelOf(usage);
    if (model === null) {
      const view = await ctx.store.worker(workerId);
      if (!view) {
        ctx.o.log("warn", `usage of unknown worker ${workerId} ignored`);
        return;
      }
      model = view.model;
    }
    const events = await ctx.store.recordUsage(workerId, [
      { ...counts, model, costMicros: costMicros(model, counts), at, chunkId: null, step: null },
    ]);
    if (events.length === 0) ctx.o.log("warn", `usage of unknown worker ${workerId} ignored`);
    ctx.publish(events);
  } catch (err) {
    ctx.o.log("warn", `recording usage of worker ${workerId} failed: ${coerceError(err).message}`);
  }
}

/** Counts as non-negative integers (anything else counts 0); null when there is nothing at all. */
function usageCounts(usage: ModelUsage) {
  const n = (v: unknown) =>
    typeof v === "number" && Number.isFinite(v) && v > 0 ? Math.round(v) : 0;
  const counts = {
    inputTokens: n(usage.inputTokens),
    outputTokens: n(usage.outputTokens),
    reasoningTokens: n(usage.reasoningTokens),
    cacheReadTokens: n(usage.cacheReadTokens),
    requests: n(usage.requests),
  };
  return Object.values(counts).some((v) => v > 0) ? counts : null;
}

function modelOf(usage: ModelUsage): string | null {
  return typeof usage.model === "string" && usage.model.trim() ? usage.model.trim() : null;
}
