// SSE connect/disconnect cycles against GET /api/workers/events during `pnpm load`: each cycle
// opens a fresh TCP connection, waits for the stream's opening comment and then its first
// event, and destroys the socket. Cycles are spread over the load window, a few at a time.
import { request } from "node:http";

export interface SseResult {
  cycles: number;
  /** Request sent → the opening `: connected` comment. */
  openMs: number[];
  /** Request sent → the first whole event (`data:` line). */
  firstEventMs: number[];
  /** Request sent → socket closed after the first event. */
  cycleMs: number[];
  /** Failed cycles by reason (status, timeout, socket error, …). */
  failures: Record<string, number>;
  maxConcurrent: number;
  wallS: number;
}

type CycleOutcome =
  | { ok: true; openMs: number; firstEventMs: number; cycleMs: number }
  | { ok: false; reason: string };

function cycle(url: string, timeoutMs: number): Promise<CycleOutcome> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let openMs = -1;
    let firstEventMs = -1;
    let failure: string | null = null;
    let buf = "";
    const req = request(`${url}/api/workers/events`, {
      agent: false,
      headers: { accept: "text/event-stream" },
    });
    const timer = setTimeout(() => {
      failure ??= openMs < 0 ? "timeout before open" : "timeout before first event";
      req.destroy();
    }, timeoutMs);
    req.on("response", (res) => {
      if (res.statusCode !== 200) {
        failure = `HTTP ${res.statusCode}`;
        req.destroy();
        return;
      }
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buf += chunk;
        const now = performance.now() - t0;
        if (openMs < 0 && buf.includes(": connected")) openMs = now;
        if (firstEventMs < 0 && /(^|\n)data:/.test(buf)) {
          firstEventMs = now;
          if (openMs < 0) openMs = now;
          req.destroy();
        }
      });
      res.on("error", () => {});
    });
    req.on("error", (err: NodeJS.ErrnoException) => {
      // our own destroy after the first event is no failure
      if (firstEventMs < 0) failure ??= `socket ${err.code ?? err.message}`;
    });
    req.on("close", () => {
      clearTimeout(timer);
      if (firstEventMs >= 0 && failure === null)
        resolve({ ok: true, openMs, firstEventMs, cycleMs: performance.now() - t0 });
      else resolve({ ok: false, reason: failure ?? "closed before first event" });
    });
    req.end();
  });
}

/** `cycles` cycles spread evenly over `spreadMs`, at most `concurrency` at once. */
export async function runSseCycles(
  url: string,
  opts: { cycles: number; concurrency: number; spreadMs: number; timeoutMs?: number },
): Promise<SseResult> {
  const out: SseResult = {
    cycles: opts.cycles,
    openMs: [],
    firstEventMs: [],
    cycleMs: [],
    failures: {},
    maxConcurrent: 0,
    wallS: 0,
  };
  const t0 = performance.now();
  const interval = opts.spreadMs / opts.cycles;
  let inFlight = 0;
  let wake: (() => void) | null = null;
  const running: Promise<void>[] = [];
  for (let i = 0; i < opts.cycles; i++) {
    const due = t0 + i * interval - performance.now();
    if (due > 0) await new Promise((r) => setTimeout(r, due));
    while (inFlight >= opts.concurrency) await new Promise<void>((r) => (wake = r));
    inFlight++;
    out.maxConcurrent = Math.max(out.maxConcurrent, inFlight);
    running.push(
      cycle(url, opts.timeoutMs ?? 10_000).then((r) => {
        if (r.ok) {
          out.openMs.push(r.openMs);
          out.firstEventMs.push(r.firstEventMs);
          out.cycleMs.push(r.cycleMs);
        } else out.failures[r.reason] = (out.failures[r.reason] ?? 0) + 1;
        inFlight--;
        const w = wake;
        wake = null;
        w?.();
      }),
    );
  }
  await Promise.all(running);
  out.wallS = (performance.now() - t0) / 1000;
  return out;
}
