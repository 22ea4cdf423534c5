import { afterEach, describe, expect, test } from "vitest";
import { RunPool } from "../src/pool.ts";
import { removeDir, tempDir } from "../src/testkit/index.ts";
import { chunk, Recorder, snapshot } from "./engine-helpers.ts";

const crashWorker = new URL("./fixtures/crash-worker.ts", import.meta.url);
const deafWorker = new URL("./fixtures/deaf-worker.ts", import.meta.url);
const pools: RunPool[] = [];
const dirs: string[] = [];

function newPool(opts: Partial<ConstructorParameters<typeof RunPool>[0]> = {}): RunPool {
  const pool = new RunPool({ maxThreads: 2, ...opts });
  pools.push(pool);
  return pool;
}

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close({ force: true })));
  for (const d of dirs.splice(0)) removeDir(d);
});

function spec(title: string) {
  const dir = tempDir("pool");
  dirs.push(dir);
  const snap = snapshot(dir, [chunk("a", 0)]);
  return { ...snap, spec: { ...snap.spec, title } };
}

describe("RunPool", () => {
  test("a thread that calls process.exit gives a failed result, not a hang", async () => {
    const pool = newPool({ workerFile: crashWorker });
    const rec = new Recorder();
    const result = await pool.start(spec("exit"), rec).result;
    expect(result.outcome).toBe("failed");
    expect(result.error).toMatch(/run thread crashed/);
    expect(rec.of("ready")).toHaveLength(1);
  });

  test("a thread that throws gives a failed result carrying the error", async () => {
    const pool = newPool({ workerFile: crashWorker });
    const result = await pool.start(spec("throw"), new Recorder()).result;
    expect(result).toMatchObject({ outcome: "failed" });
    expect(result.error).toContain("boom in the run thread");
    // the pool still runs the next task on a fresh thread
    const again = await pool.start(spec("throw"), new Recorder()).result;
    expect(again.outcome).toBe("failed");
  });

  test("an invalid snapshot is a failed run reported by the real worker", async () => {
    const pool = newPool();
    const rec = new Recorder();
    const bad = { ...spec("x"), chunks: [{ id: 42 }] } as unknown as ReturnType<typeof spec>;
    const result = await pool.start(bad, rec).result;
    expect(result.outcome).toBe("failed");
    expect(result.error).toContain("invalid run snapshot");
    expect(rec.of("done")).toHaveLength(1);
  });

  test("an abort the thread does not answer is enforced by terminating the thread", async () => {
    const pool = newPool({ workerFile: deafWorker, abortGraceMs: 300 });
    const rec = new Recorder();
    const handle = pool.start(spec("deaf"), rec);
    await rec.waitFor((m) => m.type === "ready");
    await handle.abort("hard stop");
    const result = await handle.result;
    expect(result.outcome).toBe("aborted");
    expect(result.error).toContain("hard stop");
    expect(result.error).toContain("terminated");
  });

  test("setMaxThreads resizes for new runs while running ones go on", async () => {
    const pool = newPool({ maxThreads: 1 });
    const first = pool.start(spec("one"), new Recorder());
    pool.setMaxThreads(3);
    expect(pool.maxThreads).toBe(3);
    const second = pool.start(spec("two"), new Recorder());
    expect(pool.running).toBe(2);
    const [a, b] = await Promise.all([first.result, second.result]);
    expect(a.outcome).toBe("completed");
    expect(b.outcome).toBe("completed");
    expect(() => pool.setMaxThreads(0)).toThrow(RangeError);
  });

  test("close is idempotent and refuses new runs; forceful close aborts running ones", async () => {
    const pool = newPool();
    const handle = pool.start(spec("slow"), new Recorder());
    const closing = pool.close({ force: true });
    expect(pool.close()).toBe(closing);
    await closing;
    expect((await handle.result).outcome).toBe("aborted");
    expect(() => pool.start(spec("late"), new Recorder())).toThrow(/closed/);
  });
});
