// The runs that go on during `pnpm load`: a git project with a pool of specs, always `target`
// runs in flight, and the bookkeeping the start/stop traffic needs (which run to stop next,
// which spec is free to start, which worker ids the read traffic may ask for).
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ServerProcess } from "./server-process.ts";

interface WorkerRow {
  id: string;
  specId: string;
  status: string;
}

const ACTIVE = new Set(["idle", "running", "paused"]);

/** A git repository with one commit, so every run gets its own worktree and branch. */
export function makeGitProject(dir: string): void {
  const git = (...args: string[]) =>
    execFileSync("git", args, {
      cwd: dir,
      stdio: "ignore",
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: "bench",
        GIT_AUTHOR_EMAIL: "bench@localhost",
        GIT_COMMITTER_NAME: "bench",
        GIT_COMMITTER_EMAIL: "bench@localhost",
      },
    });
  git("init", "-q", "-b", "main");
  writeFileSync(join(dir, "README.md"), "# load test project\n");
  git("add", "README.md");
  git("commit", "-q", "-m", "initial");
}

export interface LoadFixture {
  projectId: string;
  specIds: string[];
}

/** One project on `directory` and `specs` specs of `chunks` chunks each. */
export async function createFixture(
  server: ServerProcess,
  directory: string,
  specs: number,
  chunks: number,
): Promise<LoadFixture> {
  const project = await server.api<{ id: string }>("/api/projects", {
    body: { name: "load", directory },
  });
  const specIds: string[] = [];
  for (let i = 0; i < specs; i++) {
    const spec = await server.api<{ id: string }>(`/api/projects/${project.id}/specs`, {
      body: {
        title: `Load spec ${i + 1}`,
        content: `Spec ${i + 1} of the load test.`,
        chunks: Array.from({ length: chunks }, (_, c) => ({
          title: `Spec ${i + 1} step ${c + 1}`,
          description: `Step ${c + 1} of spec ${i + 1}.`,
          ...(c > 0 ? { dependencies: [c - 1] } : {}),
        })),
      },
    });
    specIds.push(spec.id);
  }
  return { projectId: project.id, specIds };
}

/**
 * Keeps `target` runs going: polls the server's worker list, tops up when a run ended or a
 * start was only queued, and hands the start/stop traffic the oldest run to stop and a spec
 * that is free to start. Its own requests are not part of the measured traffic.
 */
export class RunKeeper {
  /** Active runs, oldest first, that no stop was sent for (`at`: when this side learned it). */
  readonly #live: { row: WorkerRow; at: number }[] = [];
  /** Worker ids a stop was sent for (never handed out to stop again). */
  readonly #stopping = new Set<string>();
  /** Specs with an active or queued run at the last poll. */
  readonly #serverBusy = new Set<string>();
  /** Specs with a start in flight. */
  readonly #claimed = new Set<string>();
  /** Specs started lately (a poll answered before the start must not free them). */
  readonly #recent = new Map<string, number>();
  /** Recent worker ids (live and finished) for the get/logs traffic. */
  readonly #known: string[] = [];
  #nextSpec = 0;
  #timer: NodeJS.Timeout | null = null;
  #polling: Promise<void> | null = null;
  /** Starts the keeper itself made (top-ups), not counted in the traffic. */
  topUps = 0;
  /** Readings of the active-run count, one per poll. */
  readonly activeSamples: number[] = [];
  pollErrors = 0;

  constructor(
    private readonly server: ServerProcess,
    private readonly specIds: readonly string[],
    private readonly target: number,
  ) {}

  /** Starts runs until `target` are active (waits for them), then polls every `everyMs`. */
  async begin(everyMs = 1000): Promise<void> {
    await this.poll();
    const deadline = Date.now() + 30_000;
    while (this.#live.length < this.target) {
      if (Date.now() > deadline)
        throw new Error(`only ${this.#live.length}/${this.target} runs became active in 30 s`);
      await new Promise((r) => setTimeout(r, 200));
      await this.poll();
    }
    this.activeSamples.length = 0;
    this.topUps = 0;
    this.#timer = setInterval(() => {
      this.#polling ??= this.poll().finally(() => {
        this.#polling = null;
      });
    }, everyMs);
  }

  async end(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#polling;
  }

  /** Rebuilds the picture from the server, then starts what is missing. */
  async poll(): Promise<void> {
    const sentAt = performance.now();
    let workers: WorkerRow[];
    let queued: { specId: string }[];
    try {
      [{ workers }, { queue: queued }] = await Promise.all([
        this.server.api<{ workers: WorkerRow[] }>("/api/workers"),
        this.server.api<{ queue: { specId: string }[] }>("/api/queue"),
      ]);
    } catch {
      this.pollErrors++;
      return;
    }
    const active = workers.filter((w) => ACTIVE.has(w.status));
    this.activeSamples.push(active.length);
    for (const w of workers) this.#remember(w.id);
    // keep the order already known (oldest first); drop what ended unless learned after the poll
    const ids = new Set(active.map((w) => w.id));
    for (let i = this.#live.length - 1; i >= 0; i--) {
      const entry = this.#live[i];
      if (entry && !ids.has(entry.row.id) && entry.at < sentAt) this.#live.splice(i, 1);
    }
    for (const w of active) {
      if (!this.#stopping.has(w.id) && !this.#live.some((l) => l.row.id === w.id))
        this.#live.push({ row: w, at: performance.now() });
    }
    this.#serverBusy.clear();
    for (const w of active) this.#serverBusy.add(w.specId);
    for (const q of queued) this.#serverBusy.add(q.specId);
    const missing = this.target - active.length - queued.length - this.#claimed.size;
    for (let i = 0; i < missing; i++) {
      const specId = this.freeSpec();
      if (!specId) break;
      try {
        const res = await this.server.api<{ status: string; worker?: WorkerRow }>("/api/workers", {
          body: { specId },
        });
        this.topUps++;
        if (res.worker) this.onStarted(res.worker);
        else this.release(specId, true);
      } catch {
        this.release(specId, false);
        this.pollErrors++;
      }
    }
  }

  /** The oldest run nobody stops yet (marked as stopping), or null. */
  takeOldest(): WorkerRow | null {
    const entry = this.#live.shift();
    if (!entry) return null;
    this.#stopping.add(entry.row.id);
    return entry.row;
  }

  /** A spec without an active, queued or starting run (claimed until answered), or null. */
  freeSpec(): string | null {
    const now = performance.now();
    for (let i = 0; i < this.specIds.length; i++) {
      const specId = this.specIds[(this.#nextSpec + i) % this.specIds.length];
      if (!specId || this.#serverBusy.has(specId) || this.#claimed.has(specId)) continue;
      if (now - (this.#recent.get(specId) ?? Number.NEGATIVE_INFINITY) < 3000) continue;
      this.#nextSpec = (this.#nextSpec + i + 1) % this.specIds.length;
      this.#claimed.add(specId);
      return specId;
    }
    return null;
  }

  /** A stop answered: the run's spec may be started again. */
  onStopped(row: WorkerRow): void {
    this.#serverBusy.delete(row.specId);
    this.#recent.delete(row.specId);
  }

  /** A start answered with a worker. */
  onStarted(worker: WorkerRow): void {
    this.#remember(worker.id);
    this.#claimed.delete(worker.specId);
    this.#recent.set(worker.specId, performance.now());
    if (ACTIVE.has(worker.status) && !this.#stopping.has(worker.id))
      this.#live.push({ row: worker, at: performance.now() });
  }

  /** A start answered without a worker: `queued` keeps the spec busy, else it is free again. */
  release(specId: string, queued: boolean): void {
    this.#claimed.delete(specId);
    if (queued) this.#recent.set(specId, performance.now());
  }

  /** A random recent worker id (live or finished). */
  randomWorker(): string {
    return this.#known[Math.floor(Math.random() * this.#known.length)] ?? "none";
  }

  /** Runs active now that no stop was sent for. */
  get liveIds(): string[] {
    return this.#live.map((l) => l.row.id);
  }

  #remember(id: string): void {
    if (this.#known.includes(id)) return;
    this.#known.push(id);
    if (this.#known.length > 40) this.#known.shift();
  }
}
