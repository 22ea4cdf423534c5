// A live list of a glm-workers server's runs: `<GlmWorkersProvider url="http://127.0.0.1:4317"><LiveWorkers /></GlmWorkersProvider>`
import { GlmWorkersProvider, trpcReact } from "@glm-workers/client/react";

/** Every recent run with its status and progress, refreshed whenever a worker event arrives. */
export function LiveWorkers() {
  const utils = trpcReact.useUtils();
  const list = trpcReact.workers.list.useQuery({ recent: 50 });
  trpcReact.workers.onEvent.useSubscription(
    {
      types: [
        "worker_started",
        "worker_progress",
        "worker_completed",
        "worker_failed",
        "worker_stopped",
      ],
    },
    { onData: () => void utils.workers.list.invalidate() },
  );
  if (list.error) return <p role="alert">{list.error.message}</p>;
  if (!list.data) return <p>Loading…</p>;
  return (
    <ul>
      {list.data.workers.map((w) => (
        <li key={w.id} data-status={w.status}>
          {w.specTitle}: {w.status} ({w.progress.current}/{w.progress.total})
        </li>
      ))}
    </ul>
  );
}

export function App({ url, token }: { url: string; token?: string }) {
  return (
    <GlmWorkersProvider url={url} token={token}>
      <LiveWorkers />
    </GlmWorkersProvider>
  );
}
