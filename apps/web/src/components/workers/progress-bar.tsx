import { type JSX, Show } from "solid-js";

interface ProgressBarProps {
  current: number;
  total: number;
  passed: number;
  failed: number;
  label: string;
}

/** `current/total` as a bar, passed (green) and failed (red) chunks as its filled parts. */
export function ProgressBar(props: ProgressBarProps): JSX.Element {
  const total = () => Math.max(props.total, 0);
  const pct = (n: number) => (total() > 0 ? Math.min(100, (n / total()) * 100) : 0);
  const other = () => Math.max(0, props.current - props.passed - props.failed);
  return (
    <div class="min-w-0">
      <div
        role="progressbar"
        aria-label={props.label}
        aria-valuemin={0}
        aria-valuemax={total()}
        aria-valuenow={Math.min(props.current, total())}
        class="flex h-2 w-full overflow-hidden rounded-full bg-panel-2 ring-1 ring-line"
      >
        <span class="h-full bg-accent transition-all" style={{ width: `${pct(props.passed)}%` }} />
        <span class="h-full bg-red-400 transition-all" style={{ width: `${pct(props.failed)}%` }} />
        <span class="h-full bg-accent/40 transition-all" style={{ width: `${pct(other())}%` }} />
      </div>
      <p class="mt-1 flex flex-wrap gap-x-3 font-mono text-[11px] text-zinc-500">
        <span data-testid="worker-progress" class="text-zinc-300">
          {props.current}/{props.total}
        </span>
        <span class="text-emerald-300/90">✓ {props.passed} passed</span>
        <Show when={props.failed > 0} fallback={<span>✗ 0 failed</span>}>
          <span class="text-red-300">✗ {props.failed} failed</span>
        </Show>
      </p>
    </div>
  );
}
