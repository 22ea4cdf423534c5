// Starts a spec's run and waits for it to end (exit code 0: completed):
//   GLM_WORKERS_URL=http://127.0.0.1:4317 npx tsx enqueue-and-wait.ts <specId>
import { createGlmWorkersClient } from "@glm-workers/client";

const specId = process.argv[2] ?? "";
const client = createGlmWorkersClient({
  url: process.env.GLM_WORKERS_URL ?? "http://127.0.0.1:4317",
  token: process.env.GLM_WORKERS_TOKEN,
});
const fail = (err: Error) => {
  console.error(err.message); // a TRPCClientError: err.data?.code is NOT_FOUND, CONFLICT…
  process.exit(1);
};
let asked = false; // onStarted runs again after a reconnect: start the run only once
const sub = client.workers.onEvent.subscribe(
  { types: ["worker_progress", "worker_completed", "worker_failed", "worker_stopped"] },
  {
    onStarted: () => {
      if (!asked) client.workers.start.mutate({ specId }).then((r) => console.log(r.status), fail);
      asked = true;
    },
    onData: ({ data: e }) => {
      if (e.specId !== specId) return;
      if (e.type === "worker_progress")
        return console.log(`${e.progress.current}/${e.progress.total}`);
      console.log(e.type === "worker_failed" ? `failed: ${e.error}` : e.type);
      process.exitCode = e.type === "worker_completed" ? 0 : 1;
      sub.unsubscribe();
    },
    onError: fail,
  },
);
