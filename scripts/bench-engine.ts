// Pause-acknowledge and abort latency of the run engine (real threads, real process trees).
// Run: node --import tsx --conditions=@glm-workers/source scripts/bench-engine.ts [runs]
import { measureEngineLatency } from "@glm-workers/core/bench";

const runs = Number(process.argv[2] ?? 10);
const result = await measureEngineLatency({ runs: Number.isInteger(runs) && runs > 0 ? runs : 10 });
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
