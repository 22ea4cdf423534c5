import type { GlmWorkersClient, RouterOutputs, WorkerEvent } from "../index.ts";
import type { ParsedArgs } from "./args.ts";
import { CliError, trpcCode } from "./errors.ts";
import type { Io, Paint } from "./output.ts";

export type Outputs = RouterOutputs;
export type StartResult = Outputs["workers"]["start"];
export type WorkerView = Outputs["workers"]["get"];
export type QueueItemView = Outputs["queue"]["list"]["queue"][number];
export type { WorkerEvent };
export type WorkerEventType = WorkerEvent["type"];

/** What every command gets: the parsed command line, the client, the terminal. */
export interface Ctx {
  io: Io;
  args: ParsedArgs;
  client: GlmWorkersClient;
  /** Colours for stdout. */
  paint: Paint;
  /** Colours for stderr. */
  paintErr: Paint;
}

/** Writes one JSON document (or one NDJSON line) to stdout. */
export function printJson(ctx: Ctx, value: unknown): void {
  ctx.io.out(`${JSON.stringify(value)}\n`);
}

export function println(ctx: Ctx, text = ""): void {
  ctx.io.out(`${text}\n`);
}

/** A note for a human on stderr (progress, hints): never mixed into `--json` stdout. */
export function note(ctx: Ctx, text: string): void {
  ctx.io.err(`${ctx.paintErr("dim", text)}\n`);
}

const PREFIX = /^[0-9a-z-]{1,35}$/i;

/**
 * The worker an id names: the exact id, else the one recent worker whose id starts with it
 * (status shows 8-character prefixes). Unknown or ambiguous: a CliError naming the id.
 */
export async function resolveWorker(ctx: Ctx, id: string): Promise<WorkerView> {
  const wanted = id.trim();
  try {
    return await ctx.client.workers.get.query({ id: wanted });
  } catch (err) {
    if (trpcCode(err) !== "NOT_FOUND" || !PREFIX.test(wanted)) throw err;
    const { workers } = await ctx.client.workers.list.query({ recent: 200 });
    const matches = workers.filter((w) => w.id.toLowerCase().startsWith(wanted.toLowerCase()));
    if (matches.length === 1 && matches[0]) return matches[0];
    if (matches.length > 1) {
      throw new CliError(
        `worker id ${wanted} is ambiguous: it starts ${matches
          .slice(0, 5)
          .map((w) => w.id)
          .join(", ")}${matches.length > 5 ? ", …" : ""}`,
      );
    }
    throw err;
  }
}

export const ACTIVE_STATUSES: ReadonlySet<string> = new Set(["idle", "running", "paused"]);
