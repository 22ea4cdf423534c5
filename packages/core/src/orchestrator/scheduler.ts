import { joinWaitReason } from "@glm-workers/db/store";
import { coerceError } from "../errors.ts";
import { type AdmissionOptions, decide } from "./admission.ts";
import { type OrchestratorContext, quotaWaitText, storeCall } from "./context.ts";
import type { RunLifecycle } from "./lifecycle.ts";
import type { QueueItemView } from "./types.ts";

/**
 * Admission and the queue: starts the next queued specs whenever slots, the per-project limit
 * and memory allow, and records why the others still wait. One pass at a time; callers that
 * ask while a pass runs share the next one.
 */
export class Scheduler {
  #requested = false;
  #pumping: Promise<void> | null = null;

  constructor(
    private readonly ctx: OrchestratorContext,
    private readonly runs: RunLifecycle,
  ) {}

  async enqueue(specId: string, priority: number, model: string | null): Promise<QueueItemView> {
    this.ctx.assertOpen();
    const { item, events } = await storeCall(() => this.ctx.store.enqueue(specId, priority, model));
    this.ctx.publish(events);
    void this.pump(); // whoever queued it, it starts as soon as admission allows
    return item;
  }

  /** Runs the admission loop until nothing more can start. */
  pump(): Promise<void> {
    this.#requested = true;
    if (!this.#pumping) {
      this.#pumping = (async () => {
        try {
          while (this.#requested && !this.ctx.closing) {
            this.#requested = false;
            await this.#pass();
          }
        } catch (err) {
          this.ctx.o.log("error", `queue pump failed: ${coerceError(err).message}`);
        } finally {
          this.#pumping = null;
        }
      })();
    }
    return this.#pumping;
  }

  /** Settles when the current pass (if any) is over. */
  async idle(): Promise<void> {
    await this.#pumping?.catch(() => {});
  }

  async #pass(): Promise<void> {
    const { ctx } = this;
    const queue = await ctx.store.queue();
    if (queue.length === 0) return;
    const byProject = new Map<string, number>();
    for (const a of ctx.active.values()) {
      const pid = a.sink.view.projectId;
      byProject.set(pid, (byProject.get(pid) ?? 0) + 1);
    }
    const dirs = await ctx.store.projectDirectories(queue.map((q) => q.projectId));
    const admission: AdmissionOptions = { ...ctx.o, maxWorkers: ctx.maxWorkers };
    const reasons = new Map<string, string | null>();
    for (const item of queue) {
      if (ctx.closing) return;
      if (ctx.queuePaused) {
        reasons.set(item.id, joinWaitReason("paused_queue", "the queue is paused"));
        continue;
      }
      if (ctx.gatewayHold) {
        reasons.set(item.id, joinWaitReason("quota", quotaWaitText(ctx.gatewayHold)));
        continue;
      }
      const decision = decide(
        admission,
        { active: ctx.active.size, byProject },
        { id: item.projectId, directory: dirs.get(item.projectId) ?? "" },
      );
      if (!decision.ok) {
        reasons.set(item.id, joinWaitReason(decision.reason, decision.detail));
        continue;
      }
      if (await this.#claimAndLaunch(item)) {
        byProject.set(item.projectId, (byProject.get(item.projectId) ?? 0) + 1);
      }
    }
    const changed = queue
      .filter(
        (q) =>
          reasons.has(q.id) &&
          (reasons.get(q.id) ?? null) !== joinWaitReason(q.waitReason, q.waitDetail),
      )
      .map((q) => ({ id: q.id, waitReason: reasons.get(q.id) ?? null }));
    if (changed.length > 0) ctx.publish(await ctx.store.setWaitReasons(changed));
  }

  /** Claims a queue item and creates its worker in one transaction, then launches it. */
  async #claimAndLaunch(item: QueueItemView): Promise<boolean> {
    const { ctx } = this;
    const { worker, events } = await ctx.store.claim(item.id, {
      executor: ctx.o.executor.kind,
      leaseOwner: ctx.owner,
      leaseExpiresAt: Date.now() + ctx.o.leaseMs,
      // the run's model: the item's override, else the spec's, else this server's default
      defaultModel: ctx.o.executor.model ?? null,
    });
    ctx.publish(events);
    if (!worker) return false;
    ctx.priorities.set(worker.id, item.priority);
    await this.runs.launch(worker.id, { startPaused: false, reason: "started" });
    return true;
  }
}
