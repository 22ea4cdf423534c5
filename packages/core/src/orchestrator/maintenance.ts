import { hostname } from "node:os";
import { coerceError } from "../errors.ts";
import { isAlive } from "../process-tree.ts";
import type { OrchestratorContext } from "./context.ts";
import type { Landing } from "./landing.ts";
import type { RunLifecycle } from "./lifecycle.ts";

/**
 * What keeps the runs' rows honest over time: recovery at start-up (runs of a previous process
 * resume or stay paused), lease heartbeats while this process runs them, and event retention.
 */
export class Maintenance {
  #timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly ctx: OrchestratorContext,
    private readonly runs: RunLifecycle,
    private readonly landing: Landing,
  ) {}

  /**
   * Starts the heartbeat and the retention timer; retention also runs once now: events before
   * this resolves, `git worktree prune` in every project repository and old worktrees after it
   * in the background.
   */
  async start(): Promise<void> {
    const { o, store } = this.ctx;
    const beat = Math.max(250, Math.floor(o.leaseMs / 3));
    this.#timers.push(setInterval(() => void this.heartbeat(), beat));
    this.#timers.push(
      setInterval(() => {
        void this.trimEvents();
        void this.removeStaleWorktrees();
      }, o.retentionIntervalMs),
    );
    for (const t of this.#timers) t.unref();
    await this.trimEvents();
    // git work in every project: in the background, so queued runs need not wait for it
    void (async () => {
      try {
        await this.landing.pruneWorktrees(await store.allProjectDirectories());
      } catch (err) {
        o.log("warn", `git worktree prune failed: ${coerceError(err).message}`);
      }
      await this.removeStaleWorktrees();
    })();
  }

  /** Removes the worktrees of unlanded runs that ended longer ago than the worktree retention. */
  async removeStaleWorktrees(olderThanMs?: number): Promise<number> {
    const { o } = this.ctx;
    try {
      const n = await this.landing.removeStaleWorktrees(olderThanMs ?? o.worktreeRetentionMs);
      if (n > 0)
        o.log("info", `worktree retention removed ${n} run worktrees (their branches stay)`);
      return n;
    } catch (err) {
      o.log("warn", `worktree retention failed: ${coerceError(err).message}`);
      return 0;
    }
  }

  stop(): void {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
  }

  /**
   * Takes over the runs a previous process left: `running` ones resume from their first
   * unfinished chunk, `paused` ones stay paused (their thread starts on resume). A run whose
   * owner is another live process is left to it until its lease expires.
   */
  async recover(): Promise<void> {
    const { ctx } = this;
    const now = Date.now();
    const leased = await ctx.store.recoverableWorkers(ctx.owner, now);
    const orphaned = (await ctx.store.activeWorkers()).filter(
      (r) => !leased.some((x) => x.id === r.id) && ownerIsDead(r.leaseOwner),
    );
    for (const row of [...leased, ...orphaned]) {
      if (ctx.active.has(row.id)) continue;
      if (row.status === "paused") {
        const view = await ctx.store.holdPaused(row.id, {
          leaseOwner: ctx.owner,
          leaseExpiresAt: now + ctx.o.leaseMs,
        });
        if (!view) continue;
        this.runs.track(view, []);
        ctx.o.log("info", `worker ${row.id} stays paused after restart`);
      } else {
        ctx.o.log("info", `resuming worker ${row.id} from its first unfinished chunk`);
        await this.runs.launch(row.id, { startPaused: false, reason: "recovered" });
      }
    }
  }

  async heartbeat(): Promise<void> {
    const { ctx } = this;
    if (ctx.closing) return;
    try {
      await ctx.store.renewLeases([...ctx.active.keys()], ctx.owner, Date.now() + ctx.o.leaseMs);
    } catch (err) {
      ctx.o.log("warn", `lease heartbeat failed: ${coerceError(err).message}`);
    }
  }

  /** Deletes events older than the retention, except the newest `keepEvents`. */
  async trimEvents(): Promise<number> {
    const { o, store } = this.ctx;
    try {
      const n = await store.trimEvents({ olderThanMs: o.retentionMs, keepLast: o.keepEvents });
      if (n > 0) o.log("info", `retention deleted ${n} worker events`);
      return n;
    } catch (err) {
      o.log("warn", `event retention failed: ${coerceError(err).message}`);
      return 0;
    }
  }
}

/** A lease owner `host:pid:…` of this host whose process is gone holds nothing. */
export function ownerIsDead(owner: string | null): boolean {
  if (!owner) return true;
  const [host, pidText] = owner.split(":");
  const pid = Number(pidText);
  return host === hostname() && Number.isInteger(pid) && pid !== process.pid && !isAlive(pid);
}
