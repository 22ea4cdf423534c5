// Baseline 2 for dispatch throughput: BullMQ, the usual Node.js job queue, doing the same no-op
// jobs through Redis. Producer (Queue) and consumer (Worker) share this process, as a small
// deployment would run them; every job still makes its full round of Lua scripts in Redis.
import { createRequire } from "node:module";
import { type Job, Queue, Worker } from "bullmq";
import { type BaselineResult, baselineResult } from "./piscina.ts";
import type { RedisServer } from "./redis.ts";

export type { BaselineResult } from "./piscina.ts";

const WARMUP_JOBS = 50;
const BULK_CHUNK = 1000;
let runs = 0;

interface NoopData {
  /** Index into the timing arrays; negative for warm-up jobs. */
  i: number;
}

/**
 * BullMQ 6 loads its Redis driver (ioredis, an optional peer dependency) lazily, so a missing
 * driver only shows up as a connection error deep inside the Queue. Check up front instead.
 */
function assertRedisDriver(): void {
  const here = createRequire(import.meta.url);
  try {
    createRequire(here.resolve("bullmq")).resolve("ioredis");
  } catch {
    throw new Error(
      "the BullMQ baseline needs ioredis (BullMQ 6 no longer bundles it): add `ioredis` to packages/bench dependencies",
    );
  }
}

export async function runBullmqBaseline(opts: {
  jobs: number;
  concurrency: number;
  durable: boolean;
  redis: RedisServer;
  bulk?: boolean;
}): Promise<BaselineResult> {
  const { jobs, concurrency, durable, redis } = opts;
  const bulk = opts.bulk ?? false;
  if (!Number.isInteger(jobs) || jobs < 1) throw new RangeError("jobs must be a positive integer");
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError("concurrency must be a positive integer");
  }
  if (durable !== redis.durable) {
    throw new Error(
      `durable: ${durable} but the Redis server was started with durable: ${redis.durable}`,
    );
  }
  assertRedisDriver();

  const name = `${bulk ? "BullMQ addBulk" : "BullMQ"} (${durable ? "appendfsync always" : "Redis defaults"})`;
  // A fresh queue per run, so runs sharing one Redis never see each other's jobs or counters.
  const queueName = `glm-bench-${process.pid}-${Date.now().toString(36)}-${++runs}`;
  // Connection options rather than client instances: BullMQ opens its own connections (one for
  // the Queue, two for the Worker: commands + the blocking fetch) and closes them with close().
  const connection = { host: redis.host, port: redis.port };

  // Default job options throughout (attempts 1, no delay, removeOnComplete/removeOnFail false:
  // every finished job stays in Redis, as it does for anyone who does not configure otherwise).
  // The Worker's defaults are kept too; none of them puts a timer on the path of a job: a
  // worker blocked on an empty queue is woken by the marker each add writes, not by drainDelay.
  const queue = new Queue<NoopData, NoopData>(queueName, { connection });
  const worker = new Worker<NoopData, NoopData>(queueName, async (job) => job.data, {
    connection,
    concurrency,
  });

  // "Done" is the Worker's own `completed` event: it fires in this process once the job's move to
  // the completed set has returned from Redis. With producer and worker in one process this is
  // what a team would listen to; QueueEvents (a Redis stream read on yet another connection) is
  // for watching jobs from a different process and would only add its own delay on top.
  let onCompleted: (job: Job<NoopData, NoopData>) => void = () => {};
  let onFailure: (err: Error) => void = () => {};
  worker.on("completed", (job) => onCompleted(job));
  worker.on("failed", (job, err) => onFailure(new Error(`job ${job?.id} failed: ${err.message}`)));
  worker.on("error", (err) => onFailure(err));
  queue.on("error", (err) => onFailure(err));

  /** Runs `count` jobs through add/addBulk; resolves with the timing arrays once all are done. */
  const round = (count: number, base: number) =>
    new Promise<{ enqueuedAt: Float64Array; doneAt: Float64Array }>((resolve, reject) => {
      const enqueuedAt = new Float64Array(count);
      const doneAt = new Float64Array(count);
      let finished = 0;
      onFailure = reject;
      onCompleted = (job) => {
        const k = job.data.i - base;
        if (k < 0 || k >= count || doneAt[k] !== 0) return;
        doneAt[k] = performance.now();
        if (++finished === count) resolve({ enqueuedAt, doneAt });
      };
      if (bulk) {
        for (let start = 0; start < count; start += BULK_CHUNK) {
          const end = Math.min(count, start + BULK_CHUNK);
          const batch: { name: string; data: NoopData }[] = [];
          for (let k = start; k < end; k++) batch.push({ name: "noop", data: { i: base + k } });
          const t = performance.now();
          enqueuedAt.fill(t, start, end);
          queue.addBulk(batch).catch(reject);
        }
      } else {
        for (let k = 0; k < count; k++) {
          enqueuedAt[k] = performance.now();
          queue.add("noop", { i: base + k }).catch(reject);
        }
      }
    });

  try {
    await Promise.all([queue.waitUntilReady(), worker.waitUntilReady()]);
    // Warm-up on the same queue: connections open, Lua scripts loaded, worker loop running.
    await round(WARMUP_JOBS, -WARMUP_JOBS);
    const { enqueuedAt, doneAt } = await round(jobs, 0);
    return baselineResult(name, enqueuedAt, doneAt);
  } finally {
    onFailure = () => {};
    await worker.close();
    await queue.close();
  }
}
