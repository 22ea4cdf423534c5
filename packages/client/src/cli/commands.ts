import { realpathSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, resolve } from "node:path";
import type { CommandName } from "./args.ts";
import {
  ACTIVE_STATUSES,
  type Ctx,
  note,
  type Outputs,
  printJson,
  println,
  type QueueItemView,
  resolveWorker,
  type StartResult,
  type WorkerView,
} from "./context.ts";
import { CliError, EXIT, toCliError, trpcReason } from "./errors.ts";
import { type Cell, plural, shortId, statusCell, table, truncate } from "./output.ts";
import { parseSpecMarkdown, SpecFileError } from "./spec-file.ts";
import { tailWorker } from "./tail.ts";

type Command = (ctx: Ctx) => Promise<number>;

// ---- helpers -------------------------------------------------------------------

function progressText(w: WorkerView): string {
  const p = w.progress;
  const failed = p.failed > 0 ? ` ${p.failed}✗` : "";
  return `${p.passed}/${p.total}${failed}`;
}

function workerRows(workers: readonly WorkerView[]): Cell[][] {
  return workers.map((w) => [
    { text: shortId(w.id), style: "bold" },
    statusCell(w.status),
    { text: truncate(w.specTitle, 40) },
    { text: progressText(w) },
    { text: w.model ?? "-", style: "dim" },
  ]);
}

const WORKER_HEADER = ["ID", "STATUS", "SPEC", "PROGRESS", "MODEL"];

function printWorkers(ctx: Ctx, workers: readonly WorkerView[]): void {
  println(ctx, table(ctx.paint, WORKER_HEADER, workerRows(workers)));
}

function waitText(item: QueueItemView): string {
  if (!item.waitReason) return "next";
  return item.waitDetail ? `${item.waitReason}: ${item.waitDetail}` : item.waitReason;
}

/** Prints what `workers.start` / `workers.retry` answered. */
function printStart(ctx: Ctx, result: StartResult): void {
  if (ctx.args.json) printJson(ctx, result);
  else if (result.status === "started") {
    const w = result.worker;
    println(ctx, `started worker ${ctx.paint("bold", w.id)} · ${w.specTitle}`);
    note(ctx, `follow it: glm-workers tail ${shortId(w.id)}`);
  } else {
    const q = result.queueItem;
    println(ctx, `queued ${q.specTitle} at position ${q.position} (${waitText(q)})`);
  }
}

/** Without `--yes` there must be a terminal to ask on. */
function requireTerminal(ctx: Ctx, what: string): void {
  if (!ctx.args.yes && !ctx.io.stdinIsTTY) {
    throw new CliError(`${what} needs confirmation: pass --yes (stdin is not a terminal)`);
  }
}

/** `--yes`, or a "y" typed on the terminal; no terminal: refused with a hint. */
async function confirm(ctx: Ctx, question: string, what: string): Promise<void> {
  if (ctx.args.yes) return;
  requireTerminal(ctx, what);
  const answer = await ctx.io.ask(`${question} [y/N] `);
  if (!/^\s*y(es)?\s*$/i.test(answer)) throw new CliError(`${what} cancelled: nothing changed`);
}

function one(ctx: Ctx): string {
  return ctx.args.args[0] ?? "";
}

// ---- reading -------------------------------------------------------------------

const status: Command = async (ctx) => {
  const list = await ctx.client.workers.list.query();
  if (ctx.args.json) {
    printJson(ctx, list);
    return EXIT.ok;
  }
  const queue = await ctx.client.queue.list.query();
  const held = queue.paused
    ? ctx.paint("yellow", ` (held${queue.holdReason ? `: ${queue.holdReason}` : ""})`)
    : "";
  println(
    ctx,
    `slots ${list.activeCount}/${list.maxWorkers} busy · queue ${queue.queue.length} waiting${held}`,
  );
  if (list.workers.length === 0) println(ctx, ctx.paint("dim", "no workers yet"));
  else printWorkers(ctx, list.workers);
  return EXIT.ok;
};

const queue: Command = async (ctx) => {
  const q = await ctx.client.queue.list.query();
  if (ctx.args.json) {
    printJson(ctx, q);
    return EXIT.ok;
  }
  if (q.paused) {
    println(
      ctx,
      ctx.paint("yellow", `the queue is held${q.holdReason ? `: ${q.holdReason}` : ""}`),
    );
  }
  if (q.queue.length === 0) {
    println(ctx, ctx.paint("dim", "the queue is empty"));
    return EXIT.ok;
  }
  println(
    ctx,
    table(
      ctx.paint,
      ["POS", "PRIORITY", "SPEC", "WAITING"],
      q.queue.map((item) => [
        { text: String(item.position), style: "bold" },
        String(item.priority),
        truncate(item.specTitle, 40),
        { text: waitText(item), style: item.waitReason ? "yellow" : "green" },
      ]),
    ),
  );
  return EXIT.ok;
};

// ---- run control -----------------------------------------------------------------

const start: Command = async (ctx) => {
  const result = await ctx.client.workers.start.mutate({
    specId: one(ctx),
    ...(ctx.args.priority !== undefined ? { priority: ctx.args.priority } : {}),
  });
  printStart(ctx, result);
  return EXIT.ok;
};

function control(action: "pause" | "resume" | "stop", done: string): Command {
  return async (ctx) => {
    const target = await resolveWorker(ctx, one(ctx));
    const view = await ctx.client.workers[action].mutate({ id: target.id });
    if (ctx.args.json) printJson(ctx, view);
    else
      println(
        ctx,
        `${done} worker ${ctx.paint("bold", shortId(view.id))} · ${view.specTitle} (${view.status})`,
      );
    return EXIT.ok;
  };
}

const pauseAll: Command = async (ctx) => {
  const paused = await ctx.client.workers.pauseAll.mutate();
  if (ctx.args.json) printJson(ctx, paused);
  else if (paused.length === 0) println(ctx, "no running workers to pause");
  else {
    println(ctx, `paused ${plural(paused.length, "worker")}`);
    printWorkers(ctx, paused);
  }
  return EXIT.ok;
};

const stopAll: Command = async (ctx) => {
  if (!ctx.args.yes) {
    requireTerminal(ctx, "stop-all");
    const { activeCount } = await ctx.client.workers.list.query({ recent: 0 });
    await confirm(ctx, `Stop ${plural(activeCount, "active run")} and hold the queue?`, "stop-all");
  }
  const stopped = await ctx.client.workers.stopAll.mutate();
  if (ctx.args.json) printJson(ctx, stopped);
  else {
    println(
      ctx,
      `stopped ${plural(stopped.length, "worker")}; the queue is held until it is resumed`,
    );
    if (stopped.length > 0) printWorkers(ctx, stopped);
  }
  return EXIT.ok;
};

const resumeQueue: Command = async (ctx) => {
  const result = await ctx.client.queue.setPaused.mutate({ paused: false });
  if (ctx.args.json) printJson(ctx, result);
  else println(ctx, "the queue starts runs again");
  return EXIT.ok;
};

const tail: Command = async (ctx) => {
  const view = await resolveWorker(ctx, one(ctx));
  return tailWorker(ctx, view);
};

// ---- landing -------------------------------------------------------------------

const FILE_MARK: Record<string, { mark: string; style: "green" | "red" | "yellow" | "cyan" }> = {
  added: { mark: "A", style: "green" },
  deleted: { mark: "D", style: "red" },
  modified: { mark: "M", style: "yellow" },
  renamed: { mark: "R", style: "cyan" },
};

function colourPatch(ctx: Ctx, patch: string): string {
  return patch
    .split("\n")
    .map((line) => {
      if (/^(diff --git|index |--- |\+\+\+ |new file|deleted file|rename |similarity )/.test(line))
        return ctx.paint("bold", line);
      if (line.startsWith("@@")) return ctx.paint("cyan", line);
      if (line.startsWith("+")) return ctx.paint("green", line);
      if (line.startsWith("-")) return ctx.paint("red", line);
      return line;
    })
    .join("\n");
}

const diff: Command = async (ctx) => {
  const target = await resolveWorker(ctx, one(ctx));
  const d: Outputs["workers"]["diff"] = await ctx.client.workers.diff.query({
    id: target.id,
    ...(ctx.args.chunk ? { chunkId: ctx.args.chunk } : {}),
  });
  if (ctx.args.json) {
    printJson(ctx, d);
    return EXIT.ok;
  }
  if (ctx.args.patch) {
    for (const f of d.files) {
      const patch = f.patch.endsWith("\n") ? f.patch : `${f.patch}\n`;
      ctx.io.out(colourPatch(ctx, patch));
      if (f.truncated) note(ctx, `(the patch of ${f.path} is cut short)`);
    }
    if (d.truncated) note(ctx, "(more files changed than the diff shows)");
    return EXIT.ok;
  }
  const ref = (r: { branch: string | null; commit: string }) =>
    `${r.branch ?? "(detached)"} ${r.commit.slice(0, 7)}`;
  println(
    ctx,
    `${ref(d.base)} → ${ref(d.head)} · ${plural(d.stats.files, "file")} ${ctx.paint("green", `+${d.stats.additions}`)} ${ctx.paint("red", `−${d.stats.deletions}`)}`,
  );
  if (d.files.length === 0) {
    println(ctx, ctx.paint("dim", "no changes"));
    return EXIT.ok;
  }
  const rows = d.files.map((f): Cell[] => {
    const kind = FILE_MARK[f.status] ?? { mark: "?", style: "yellow" as const };
    return [
      { text: kind.mark, style: kind.style },
      { text: f.binary ? "binary" : `+${f.additions}`, style: "green" },
      { text: f.binary ? "" : `−${f.deletions}`, style: "red" },
      { text: f.oldPath ? `${f.oldPath} → ${f.path}` : f.path },
    ];
  });
  println(ctx, table(ctx.paint, ["", "ADD", "DEL", "PATH"], rows));
  if (d.truncated) note(ctx, "(more files changed than the diff shows)");
  return EXIT.ok;
};

const merge: Command = async (ctx) => {
  const target = await resolveWorker(ctx, one(ctx));
  let result: Outputs["workers"]["merge"];
  try {
    result = await ctx.client.workers.merge.mutate({
      id: target.id,
      ...(ctx.args.strategy ? { strategy: ctx.args.strategy } : {}),
      ...(ctx.args.message !== undefined ? { message: ctx.args.message } : {}),
      ...(ctx.args.keepBranch ? { keepBranch: true } : {}),
    });
  } catch (err) {
    const failure = toCliError(err, ctx.args.url);
    if (trpcReason(err) === "MERGE_CONFLICT" && failure.details.length > 0) {
      throw new CliError(`merge refused: ${failure.message}`, {
        details: failure.details.map((f) => `  conflict: ${f.trim()}`),
      });
    }
    throw failure;
  }
  if (ctx.args.json) printJson(ctx, result);
  else {
    const kept = result.branchKept ? " (branch kept)" : "";
    println(
      ctx,
      `merged worker ${ctx.paint("bold", shortId(target.id))} into ${result.into} (${result.strategy}) · ${result.commit.slice(0, 7)}${kept}`,
    );
  }
  return EXIT.ok;
};

const discard: Command = async (ctx) => {
  const target = await resolveWorker(ctx, one(ctx));
  await confirm(
    ctx,
    `Throw away the work of worker ${shortId(target.id)} · ${target.specTitle}${target.branch ? ` (branch ${target.branch})` : ""}?`,
    "discard",
  );
  const result = await ctx.client.workers.discard.mutate({ id: target.id });
  if (ctx.args.json) printJson(ctx, result);
  else
    println(
      ctx,
      `discarded the work of worker ${ctx.paint("bold", shortId(target.id))}: its worktree and branch are gone`,
    );
  return EXIT.ok;
};

const retry: Command = async (ctx) => {
  const target = await resolveWorker(ctx, one(ctx));
  const result = await ctx.client.workers.retry.mutate({
    id: target.id,
    ...(ctx.args.priority !== undefined ? { priority: ctx.args.priority } : {}),
  });
  printStart(ctx, result);
  return EXIT.ok;
};

// ---- run <spec.md> -----------------------------------------------------------------

function sameDirectory(a: string, b: string): boolean {
  if (resolve(a) === resolve(b)) return true;
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

/** The project on `directory` (created, named after the directory, when there is none). */
async function projectFor(ctx: Ctx, directory: string) {
  const projects = await ctx.client.projects.list.query();
  const found = projects.find((p) => sameDirectory(p.directory, directory));
  if (found) return { project: found, created: false };
  const project = await ctx.client.projects.create.mutate({
    name: basename(directory) || directory,
    directory,
  });
  return { project, created: true };
}

/** Ids of the spec's recent runs (taken before a start, to tell the new run from old ones). */
async function runsOf(ctx: Ctx, specId: string): Promise<Set<string>> {
  const { workers } = await ctx.client.workers.list.query({ recent: 200 });
  return new Set(workers.filter((w) => w.specId === specId).map((w) => w.id));
}

/** The worker a queued start became (polls: the queue, then the spec's new run). */
async function waitForWorker(
  ctx: Ctx,
  specId: string,
  item: QueueItemView,
  before: ReadonlySet<string>,
): Promise<WorkerView> {
  let lastNote = "";
  for (;;) {
    const q = await ctx.client.queue.list.query();
    const waiting = q.queue.find((i) => i.id === item.id);
    if (waiting) {
      const text = `queued at position ${waiting.position} (${waitText(waiting)})${q.paused ? " · the queue is held" : ""}`;
      if (text !== lastNote && !ctx.args.json) note(ctx, text);
      lastNote = text;
    } else {
      const { workers } = await ctx.client.workers.list.query({ recent: 200 });
      const mine = workers.filter((w) => w.specId === specId && !before.has(w.id));
      const active = mine.find((w) => ACTIVE_STATUSES.has(w.status));
      const found = active ?? mine[0];
      if (found) return found;
      throw new CliError(`the queued start of spec ${specId} left the queue without a run`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

const run: Command = async (ctx) => {
  const file = resolve(ctx.io.cwd, one(ctx));
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(
      `cannot read ${one(ctx)}: ${code === "ENOENT" ? "no such file" : (err as Error).message}`,
    );
  }
  let parsed: ReturnType<typeof parseSpecMarkdown>;
  try {
    parsed = parseSpecMarkdown(text, one(ctx));
  } catch (err) {
    if (err instanceof SpecFileError) throw new CliError(err.message);
    throw err;
  }
  const directory = resolve(ctx.io.cwd, ctx.args.project ?? ".");
  const { client } = ctx;
  const { project, created: projectCreated } = await projectFor(ctx, directory);

  const specs = await client.specs.list.query({ projectId: project.id });
  const existing = specs.find((s) => s.title.trim() === parsed.title);
  let specId: string;
  if (existing) {
    const { workers } = await client.workers.list.query({ recent: 0 });
    const active = workers.find((w) => w.specId === existing.id);
    if (active) {
      throw new CliError(
        `spec "${existing.title}" is ${active.status} as worker ${shortId(active.id)}: stop it first (or glm-workers tail ${shortId(active.id)})`,
      );
    }
    const queued = (await client.queue.list.query()).queue.find((i) => i.specId === existing.id);
    if (queued) {
      throw new CliError(
        `spec "${existing.title}" is queued at position ${queued.position}: it starts when a slot frees up`,
      );
    }
    await client.specs.update.mutate({ id: existing.id, content: parsed.content });
    const current = await client.chunks.list.query({ specId: existing.id });
    for (const chunk of current) await client.chunks.remove.mutate({ id: chunk.id });
    for (const chunk of parsed.chunks) {
      await client.chunks.create.mutate({ specId: existing.id, ...chunk });
    }
    specId = existing.id;
  } else {
    const spec = await client.specs.create.mutate({
      projectId: project.id,
      title: parsed.title,
      content: parsed.content,
      chunks: parsed.chunks,
    });
    specId = spec.id;
  }
  const spec = await client.specs.get.query({ id: specId });
  const before = await runsOf(ctx, specId);
  const started = await client.workers.start.mutate({
    specId,
    ...(ctx.args.priority !== undefined ? { priority: ctx.args.priority } : {}),
  });

  const chunkCount = plural(spec.chunks.length, "chunk");
  if (ctx.args.json) {
    printJson(ctx, {
      type: "run",
      project,
      projectCreated,
      spec,
      specCreated: !existing,
      start: started,
    });
  } else {
    const what = existing ? "updated" : "created";
    println(
      ctx,
      `${what} spec ${ctx.paint("bold", spec.title)} (${chunkCount}) in ${projectCreated ? "new " : ""}project ${project.name} · ${project.directory}`,
    );
  }
  let worker: WorkerView;
  if (started.status === "started") worker = started.worker;
  else worker = await waitForWorker(ctx, specId, started.queueItem, before);
  if (!ctx.args.json) println(ctx, `started worker ${ctx.paint("bold", worker.id)}`);
  return tailWorker(ctx, worker);
};

export const COMMAND_HANDLERS: Record<CommandName, Command> = {
  status,
  queue,
  start,
  pause: control("pause", "paused"),
  resume: control("resume", "resumed"),
  stop: control("stop", "stopped"),
  "pause-all": pauseAll,
  "stop-all": stopAll,
  "resume-queue": resumeQueue,
  tail,
  run,
  diff,
  merge,
  discard,
  retry,
};
