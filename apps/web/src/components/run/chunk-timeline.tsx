import { For, type JSX, Show } from "solid-js";
import { formatDuration } from "../../lib/clock.ts";
import type { Chunk, ChunkUsage, Worker } from "../../lib/types.ts";
import { Badge, EmptyState } from "../ui.tsx";
import { UsageLine } from "../usage.tsx";
import { shortHash } from "./landing.ts";

type StepState = "pending" | "running" | "completed" | "failed" | "cancelled";

/** Where each step of a chunk stands, from the chunk and the run's current step. */
function stepStates(chunk: Chunk, worker: Worker): { executing: StepState; reviewing: StepState } {
  const current = worker.currentChunkId === chunk.id ? worker.currentStep : null;
  switch (chunk.status) {
    case "running":
      return current === "reviewing"
        ? { executing: "completed", reviewing: "running" }
        : { executing: "running", reviewing: "pending" };
    case "completed":
      return { executing: "completed", reviewing: "completed" };
    case "failed":
      return chunk.reviewStatus
        ? { executing: "completed", reviewing: "failed" }
        : { executing: "failed", reviewing: "cancelled" };
    case "cancelled":
      return { executing: "cancelled", reviewing: "cancelled" };
    default:
      return { executing: "pending", reviewing: "pending" };
  }
}

function duration(chunk: Chunk, now: number): string | null {
  if (chunk.startedAt === null) return null;
  const end = chunk.completedAt ?? (chunk.status === "running" ? now : null);
  return end === null ? null : formatDuration(end - chunk.startedAt);
}

interface TimelineProps {
  chunks: readonly Chunk[];
  worker: Worker;
  now: number;
  usage: (chunkId: string) => ChunkUsage | undefined;
  /** Shows the diff of one chunk's commit. */
  onShowDiff: (chunkId: string) => void;
  error?: string | null;
}

/** The chunks of the run in order: status, steps, time taken, review verdict, commit. */
export function ChunkTimeline(props: TimelineProps): JSX.Element {
  const numberOf = (id: string | null) =>
    id === null ? null : props.chunks.findIndex((c) => c.id === id) + 1 || null;
  return (
    <section aria-labelledby="timeline-heading" class="panel p-3 sm:p-4">
      <h2 id="timeline-heading" class="mb-3 font-mono text-sm font-semibold text-zinc-100">
        Chunks
      </h2>
      <Show
        when={props.chunks.length > 0}
        fallback={<EmptyState title={props.error ?? "loading chunks…"} />}
      >
        <ol class="relative space-y-3 border-l border-line pl-4" data-testid="chunk-timeline">
          <For each={props.chunks}>
            {(chunk, i) => (
              <ChunkEntry
                chunk={chunk}
                index={i() + 1}
                fixOf={numberOf(chunk.fixOf)}
                worker={props.worker}
                now={props.now}
                usage={props.usage(chunk.id)}
                onShowDiff={() => props.onShowDiff(chunk.id)}
              />
            )}
          </For>
        </ol>
      </Show>
    </section>
  );
}

const dotTone: Record<string, string> = {
  running: "bg-accent animate-pulse",
  completed: "bg-emerald-500",
  failed: "bg-red-400",
  cancelled: "bg-zinc-700",
  pending: "bg-zinc-600",
};

function ChunkEntry(props: {
  chunk: Chunk;
  index: number;
  fixOf: number | null;
  worker: Worker;
  now: number;
  usage: ChunkUsage | undefined;
  onShowDiff: () => void;
}): JSX.Element {
  const steps = () => stepStates(props.chunk, props.worker);
  const took = () => duration(props.chunk, props.now);
  return (
    <li
      class="relative min-w-0"
      data-testid="timeline-chunk"
      data-chunk-id={props.chunk.id}
      data-status={props.chunk.status}
    >
      <span
        aria-hidden="true"
        class={`absolute top-1.5 -left-[21px] h-2.5 w-2.5 rounded-full ring-4 ring-panel ${dotTone[props.chunk.status] ?? "bg-zinc-600"}`}
      />
      <div class="flex flex-wrap items-center gap-x-2 gap-y-1">
        <span class="font-mono text-[11px] text-zinc-500">#{props.index}</span>
        <h3 class="min-w-0 font-mono text-xs font-semibold break-words text-zinc-100">
          {props.chunk.title}
        </h3>
        <Badge status={props.chunk.status} />
        <Show when={props.fixOf}>
          {(n) => <span class="font-mono text-[10px] text-amber-300">fix of #{n()}</span>}
        </Show>
        <Show when={took()}>
          {(t) => (
            <span class="font-mono text-[11px] text-zinc-500" title="time taken">
              {t()}
            </span>
          )}
        </Show>
        <Show when={props.chunk.commitHash}>
          {(hash) => (
            <button
              type="button"
              class="ml-auto rounded font-mono text-[11px] text-sky-300 underline-offset-2 hover:underline"
              title={`${hash()}: show this commit's diff`}
              aria-label={`Show the diff of chunk ${props.index}, commit ${shortHash(hash())}`}
              data-testid="chunk-commit"
              onClick={() => props.onShowDiff()}
            >
              {shortHash(hash())}
            </button>
          )}
        </Show>
      </div>

      <ul class="mt-1.5 space-y-1 font-mono text-[11px]">
        <li class="flex flex-wrap items-center gap-x-2 gap-y-1">
          <span class="w-14 shrink-0 text-zinc-500">execute</span>
          <Badge status={steps().executing} />
          <Show when={props.usage?.executing}>
            {(u) => <UsageLine usage={u()} testId="chunk-usage-executing" />}
          </Show>
        </li>
        <li class="flex flex-wrap items-center gap-x-2 gap-y-1">
          <span class="w-14 shrink-0 text-zinc-500">review</span>
          <Show when={props.chunk.reviewStatus} fallback={<Badge status={steps().reviewing} />}>
            {(verdict) => (
              <span data-testid="chunk-verdict">
                <Badge status={verdict()} />
              </span>
            )}
          </Show>
          <Show when={props.usage?.reviewing}>
            {(u) => <UsageLine usage={u()} testId="chunk-usage-reviewing" />}
          </Show>
        </li>
      </ul>

      <Show when={props.chunk.reviewFeedback}>
        {(feedback) => (
          <blockquote
            class="mt-1.5 border-l-2 border-sky-400/40 pl-2 text-xs break-words whitespace-pre-wrap text-zinc-400"
            data-testid="chunk-feedback"
          >
            {feedback()}
          </blockquote>
        )}
      </Show>
      <Show when={props.chunk.outputSummary}>
        {(summary) => (
          <p class="mt-1 text-xs break-words text-zinc-500" data-testid="chunk-summary">
            {summary()}
          </p>
        )}
      </Show>
      <Show when={props.chunk.error}>
        {(error) => (
          <p class="mt-1 font-mono text-xs break-words text-red-300" role="alert">
            {error()}
          </p>
        )}
      </Show>
    </li>
  );
}
