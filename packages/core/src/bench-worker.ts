import { createInstantExecutor } from "./executors/instant.ts";
import { createRunTask } from "./worker.ts";

/**
 * Piscina worker entry of the benchmarks: the product's run task with the instant executor, so
 * a dispatch benchmark measures the orchestrator, the store and the threads, not an agent.
 * Reached only through `benchWorkerFile()` passed to a RunPool by the bench.
 */
export default createRunTask(() => createInstantExecutor());
