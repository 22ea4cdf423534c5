import { z } from "zod";
import { coerceError } from "../errors.ts";
import { killTree, resumeTree, suspendTree, suspendTreeSettled } from "../process-tree.ts";
import type { ExecutorConfig } from "../protocol.ts";
import { reviewAnswerSchema } from "../review.ts";
import { resolveOpencodeBin } from "./opencode-bin.ts";
import {
  buildOpencodeEnv,
  DEFAULT_OPENCODE_MODEL,
  lazyOpencodeHome,
  prepareRunDirs,
  REVIEWER_AGENT,
  splitModel,
} from "./opencode-env.ts";
import { OpencodeServer } from "./opencode-server.ts";
import { OpencodeTurn, type TurnOutcome } from "./opencode-turn.ts";
import type {
  ExecuteRequest,
  ExecuteResult,
  ExecutionHandle,
  Executor,
  ExecutorEvent,
  ReviewRequest,
} from "./types.ts";
import { failedHandle } from "./types.ts";

/**
 * The real agent: one `opencode serve` per run (started on the first prompt, in the run's
 * worktree) and one session per run in which every chunk, fix chunk included, is the next
 * message, so the agent keeps the spec's conversation. Each review runs in a session of its
 * own as the read-only reviewer agent, asked for a JSON-schema verdict.
 *
 * Pause is a SIGSTOP of the server's whole tree (this run only); the step's time budget stops
 * counting meanwhile, and opencode's own request timeouts are off so nothing is re-sent after a
 * long pause. Abort is `session.abort`, then the tree is ended and verified gone by pid.
 */

export const OPENCODE_LABEL = "opencode (GLM)";

export interface OpencodeExecutorOptions {
  /** Environment the passthrough variables (PATH, LANG, proxies…) are taken from. */
  inheritedEnv?: NodeJS.ProcessEnv;
  /** How often streamed text reaches the log (default 250 ms). */
  flushMs?: number;
}

/** The verdict's JSON schema, from the same zod schema the engine parses it with. */
/** Tools that change files: a reviewer that tries one fails its review (it is refused anyway). */
const WRITING_TOOLS = new Set(["write", "edit", "patch", "multiedit", "apply_patch"]);

const REVIEW_SCHEMA = z.toJSONSchema(reviewAnswerSchema, { io: "input" }) as Record<
  string,
  unknown
>;

function result(partial: Partial<ExecuteResult> & Pick<ExecuteResult, "ok">): ExecuteResult {
  return {
    exitCode: null,
    signal: null,
    timedOut: false,
    aborted: false,
    output: "",
    error: null,
    ...partial,
  };
}

export function createOpencodeExecutor(
  config: ExecutorConfig,
  options: OpencodeExecutorOptions = {},
): Executor {
  const model = splitModel(config.model ?? DEFAULT_OPENCODE_MODEL);
  const inherited = options.inheritedEnv ?? process.env;
  const handles = new Set<ExecutionHandle>();
  let server: Promise<OpencodeServer> | null = null;
  let conversation: string | null = null;
  let turns = 0;
  /** Where opencode's own log lines go: the step that is running. */
  let logTo: ((e: ExecutorEvent) => void) | null = null;
  /** The server process while it starts (before it listens), and whether a pause holds it. */
  let starting: { pid: number; stopped: number[] | null } | null = null;
  let closed = false;
  let closing: Promise<void> | null = null;
  /** The run's server once it listens (until it is gone). */
  let live: OpencodeServer | null = null;

  const home = lazyOpencodeHome(config);

  const startServer = (cwd: string, emit: (e: ExecutorEvent) => void): Promise<OpencodeServer> => {
    const dirs = home.dirs();
    const runDirs = prepareRunDirs(dirs, config.runId ?? cwd);
    const env = buildOpencodeEnv(config, dirs, inherited, runDirs);
    const bin = resolveOpencodeBin(config.opencodeBin);
    const started = Date.now();
    emit({
      type: "log",
      level: "info",
      line: `starting opencode server (${config.model ?? DEFAULT_OPENCODE_MODEL}) in ${cwd}`,
    });
    return OpencodeServer.start({
      bin,
      cwd,
      env,
      onLog: (level, line) => logTo?.({ type: "log", level, line }),
      onSpawn: (pid) => {
        starting = { pid, stopped: null };
        emit({ type: "process", pid });
      },
      held: () => starting?.stopped != null,
    })
      .finally(() => {
        const held = starting?.stopped;
        starting = null;
        // a pause that came during start-up moves over to the running server (see pause())
        if (held) resumeTree(held[0] ?? 0, held);
      })
      .then((s) => {
        live = s;
        emit({
          type: "log",
          level: "info",
          line: `opencode server ready in ${((Date.now() - started) / 1000).toFixed(1)} s (pid ${s.pid})`,
        });
        return s;
      });
  };

  /** The run's server, started on first use (again, with a new conversation, if it died). */
  const ensureServer = async (cwd: string, emit: (e: ExecutorEvent) => void) => {
    if (server) {
      const current = await server.catch(() => null);
      if (current && !current.exited) return current;
      live = null;
      if (current) {
        emit({
          type: "log",
          level: "warn",
          line: "the opencode server is gone; starting a new one (new conversation)",
        });
      }
      conversation = null;
      turns = 0;
    }
    const starting = startServer(cwd, emit);
    server = starting;
    return starting;
  };

  const run = (
    req: ExecuteRequest | ReviewRequest,
    kind: "execute" | "review",
  ): ExecutionHandle => {
    if (closed) return failedHandle("the opencode executor is closed");
    /** What a reviewer tried to change (its tools are refused; trying still fails the review). */
    const attempts: string[] = [];
    const emit = (e: ExecutorEvent) => {
      if (
        kind === "review" &&
        e.type === "tool" &&
        e.status === "started" &&
        WRITING_TOOLS.has(e.name)
      ) {
        attempts.push(`${e.name}${e.detail ? ` ${e.detail}` : ""}`);
      }
      try {
        req.onEvent(e);
      } catch {
        // a throwing listener must not break the stream
      }
    };
    let current: OpencodeServer | null = null;
    let turn: OpencodeTurn | null = null;
    let sessionId: string | null = null;
    let paused = false;
    let aborted: string | null = null;
    let timedOut = false;
    let remaining = req.timeoutMs;
    let activeSince = Date.now();
    let timer: NodeJS.Timeout | null = null;
    let settleEarly: (r: ExecuteResult) => void = () => {};
    const early = new Promise<ExecuteResult>((r) => {
      settleEarly = r;
    });

    const arm = () => {
      if (timer || paused || aborted) return;
      activeSince = Date.now();
      timer = setTimeout(
        () => {
          timer = null;
          timedOut = true;
          void stop(`the agent timed out after ${Math.round(req.timeoutMs / 1000)} s`);
        },
        Math.max(0, remaining),
      );
    };
    const disarm = () => {
      if (!timer) return;
      clearTimeout(timer);
      timer = null;
      remaining -= Date.now() - activeSince;
    };

    /**
     * The whole tree ends (the run cannot go on after this). session.abort is sent but not
     * waited for: opencode took 0.5–0.7 s to answer it, and the tree is ended and verified by
     * pid right after either way (an abort can leave a running tool behind).
     */
    const stop = async (why: string) => {
      disarm();
      const s = current;
      // a server that is still starting is ended as it is
      if (!s && starting) await killTree(starting.pid, { extra: starting.stopped ?? [] });
      if (s && sessionId && !s.paused && !s.exited) {
        void s.client.session.abort({ sessionID: sessionId }).catch(() => {});
      }
      if (s) await s.close();
      turn?.finish(why);
      settleEarly(result({ ok: false, timedOut, aborted: aborted !== null, error: why }));
    };

    const work = async (): Promise<ExecuteResult> => {
      logTo = emit;
      try {
        current = await ensureServer(req.cwd, emit);
      } catch (err) {
        return result({ ok: false, error: coerceError(err).message });
      }
      if (aborted) return result({ ok: false, aborted: true, error: `aborted: ${aborted}` });
      // the step's time budget is the agent's: it starts once the server is up
      arm();
      const s = current;
      if (kind === "execute") {
        if (!conversation) {
          const created = await s.client.session.create({
            title: `glm-workers run ${config.runId ?? ""}`.trim(),
          });
          if (!created.data)
            return result({
              ok: false,
              error: `opencode could not create a session: ${JSON.stringify(created.error)}`,
            });
          conversation = created.data.id;
        }
        sessionId = conversation;
      } else {
        const created = await s.client.session.create({
          title: `review: ${req.chunk.title}`.slice(0, 100),
        });
        if (!created.data)
          return result({
            ok: false,
            error: `opencode could not create a review session: ${JSON.stringify(created.error)}`,
          });
        sessionId = created.data.id;
      }
      const sid = sessionId;
      const prompt =
        kind === "execute" && turns > 0 && "continuation" in req && req.continuation
          ? req.continuation
          : req.prompt;
      const t = new OpencodeTurn(s, sid, emit, {
        ...(options.flushMs !== undefined ? { flushMs: options.flushMs } : {}),
        aborted: () => aborted !== null,
      });
      turn = t;
      await t.send(() =>
        s.client.session.promptAsync({
          sessionID: sid,
          model,
          ...(kind === "review"
            ? {
                agent: REVIEWER_AGENT,
                format: { type: "json_schema", schema: REVIEW_SCHEMA, retryCount: 2 },
              }
            : {}),
          parts: [{ type: "text", text: prompt }],
        }),
      );
      if (kind === "execute") turns++;
      const outcome: TurnOutcome = await t.done;
      if (attempts.length > 0) {
        return result({
          ok: false,
          output: outcome.output,
          error: `the reviewer tried to change files (${attempts.slice(0, 5).join("; ")}); it was refused`,
        });
      }
      const output =
        kind === "review" && outcome.structured !== undefined && outcome.structured !== null
          ? JSON.stringify(outcome.structured)
          : outcome.output;
      return result({
        ok: outcome.ok,
        output,
        exitCode: outcome.ok ? 0 : null,
        timedOut,
        aborted: aborted !== null,
        error: outcome.ok
          ? null
          : (outcome.error ?? (aborted ? `aborted: ${aborted}` : "the agent failed")),
      });
    };

    const settled = Promise.race([
      work().catch((err: unknown) =>
        result({ ok: false, error: `opencode failed: ${coerceError(err).message}` }),
      ),
      early,
    ]).finally(() => {
      disarm();
      if (logTo === emit) logTo = null;
    });

    const handle: ExecutionHandle = {
      get pid() {
        return current?.pid ?? live?.pid ?? starting?.pid;
      },
      result: settled,
      async pause() {
        if (paused || aborted) return;
        paused = true;
        disarm();
        if (current) {
          await current.pause();
        } else if (starting) {
          // still starting: stop the process tree as it is now
          const pids = suspendTree(starting.pid);
          starting.stopped = pids;
          starting.stopped = await suspendTreeSettled(starting.pid, pids);
        }
      },
      async resume() {
        if (!paused) return;
        paused = false;
        if (current) current.resume();
        else if (starting?.stopped) {
          resumeTree(starting.pid, starting.stopped);
          starting.stopped = null;
        }
        arm();
      },
      async abort(reason: string) {
        if (!aborted) {
          aborted = reason;
          await stop(`aborted: ${reason}`);
        }
        await settled;
      },
    };
    handles.add(handle);
    void settled.finally(() => handles.delete(handle));
    return handle;
  };

  return {
    kind: "opencode",
    label: OPENCODE_LABEL,
    execute: (req) => run(req, "execute"),
    review: (req) => run(req, "review"),
    close() {
      closed = true;
      closing ??= (async () => {
        await Promise.all([...handles].map((h) => h.abort("executor closed")));
        const s = await server?.catch(() => null);
        await s?.close();
        home.dispose();
      })();
      return closing;
    },
  };
}
