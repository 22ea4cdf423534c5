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
    // No queue_updated of its own: the admission pass that follows announces the queue once for
    // every enqueue since the last one (a burst of a thousand stores a handful of events).
    const { item, events } = await storeCall(() =>
      this.ctx.store.enqueue(specId, priority, model, { announce: false }),
    );
    this.ctx.publish(events);
    this.ctx.queueDirty = true;
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

  /**
   * One admission pass. It reads the queue one candidate at a time — the first item whose
   * project has not been turned down in this pass — so a pass costs what it starts, not the
   * length of the queue; then one statement records why the rest wait: a turned-down project's
   * items its reason, every other item the reason the pass stopped at (no slot, memory), or
   * none when nothing holds it back.
   */
  async #pass(): Promise<void> {
    const { ctx } = this;
    if (ctx.closing) return;
    const hold = ctx.gatewayHold;
    const held = ctx.queuePaused
      ? joinWaitReason("paused_queue", "the queue is paused")
      : hold
        ? joinWaitReason("quota", quotaWaitText(hold))
        : null;
    if (held) {
      const announce = this.#takeDirty();
      ctx.publish(
        await ctx.store.setQueueWaitReasons({ byProject: new Map(), rest: held, announce }),
      );
      return;
    }
    const byProject = new Map<string, number>();
    const projectsRunning = [
      ...[...ctx.active.values()].map((a) => a.sink.view.projectId),
      ...ctx.launching.values(),
    ];
    for (const pid of projectsRunning) byProject.set(pid, (byProject.get(pid) ?? 0) + 1);
    const admission: AdmissionOptions = { ...ctx.o, maxWorkers: ctx.maxWorkers };
    const turnedDown = new Map<string, string | null>();
    // projects whose item could not be claimed (gone, or its spec became active): left as they are
    const keep: string[] = [];
    const directories = new Map<string, string>();
    let rest: string | null = null;
    for (;;) {
      if (ctx.closing) return;
      const item = await ctx.store.nextQueued([...turnedDown.keys(), ...keep]);
      if (!item) break;
      let directory = directories.get(item.projectId);
      if (directory === undefined) {
        directory =
          (await ctx.store.projectDirectories([item.projectId])).get(item.projectId) ?? "";
        directories.set(item.projectId, directory);
      }
      const decision = decide(
        admission,
        { active: ctx.active.size + ctx.launching.size, byProject },
        { id: item.projectId, directory },
      );
      if (!decision.ok) {
        const reason = joinWaitReason(decision.reason, decision.detail);
        if (decision.reason === "project_busy") {
          turnedDown.set(item.projectId, reason);
          continue;
        }
        // no slot, or not enough memory: the same holds for every item still waiting
        rest = reason;
        break;
      }
      if (await this.#claimAndLaunch(item)) {
        byProject.set(item.projectId, (byProject.get(item.projectId) ?? 0) + 1);
      } else keep.push(item.projectId);
    }
    if (ctx.closing) return;
    const announce = this.#takeDirty();
    ctx.publish(
      await ctx.store.setQueueWaitReasons({ byProject: turnedDown, rest, keep, announce }),
    );
  }

  /** Whether the queue changed since its last announcement (and clears the flag). */
  #takeDirty(): boolean {
    const dirty = this.ctx.queueDirty;
    this.ctx.queueDirty = false;
    return dirty;
  }

  /**
   * Claims a queue item and creates its worker in one transaction, then launches it without
   * waiting: the slot is held from the claim on (`launching`), so the pass goes on to the next
   * item while this run's inputs are read and its thread starts.
   */
  async #claimAndLaunch(item: {
    id: string;
    projectId: string;
    priority: number;
  }): Promise<boolean> {
    const { ctx } = this;
    const { worker, events } = await ctx.store.claim(
      item.id,
      {
        executor: ctx.o.executor.kind,
        leaseOwner: ctx.owner,
        leaseExpiresAt: Date.now() + ctx.o.leaseMs,
        // the run's model: the item's override, else the spec's, else this server's default
        defaultModel: ctx.o.executor.model ?? null,
      },
      { announce: false }, // the pass announces the queue once, at its end
    );
    ctx.publish(events);
    if (!worker) return false;
    ctx.queueDirty = true;
    ctx.priorities.set(worker.id, item.priority);
    ctx.launching.set(worker.id, item.projectId);
    const launch = this.runs
      .launch(worker.id, { startPaused: false, reason: "started" })
      .catch((err: unknown) =>
        ctx.o.log("error", `starting worker ${worker.id} failed: ${coerceError(err).message}`),
      )
      .finally(() => {
        ctx.launches.delete(worker.id);
        // a launch that never registered the run gives its slot back
        if (ctx.launching.delete(worker.id)) void this.pump();
      });
    ctx.launches.set(worker.id, launch);
    return true;
  }
}
