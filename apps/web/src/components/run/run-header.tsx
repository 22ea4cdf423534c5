import { A } from "@solidjs/router";
import { type JSX, Show } from "solid-js";
import type { Worker } from "../../lib/types.ts";
import { Badge, formatTime } from "../ui.tsx";
import {
  ChangesLine,
  CurrentStep,
  ExecutorLabel,
  runningFor,
  WorkerUsage,
} from "../workers/worker-card.tsx";
import { runLandedText, shortHash } from "./landing.ts";

/** Label and value of one fact about the run (`dt`/`dd` pairs read well in a screen reader). */
function Fact(props: { label: string; children: JSX.Element; testId?: string }): JSX.Element {
  return (
    <div class="flex min-w-0 flex-col gap-0.5">
      <dt class="text-[10px] tracking-wider text-zinc-500 uppercase">{props.label}</dt>
      <dd class="min-w-0 wrap-anywhere text-zinc-200" data-testid={props.testId}>
        {props.children}
      </dd>
    </div>
  );
}

/** What the run is: spec and project, status, model, branch → base branch, times, usage. */
export function RunHeader(props: { worker: Worker; now: number }): JSX.Element {
  const w = () => props.worker;
  return (
    <header class="mb-6 space-y-3">
      <nav aria-label="Breadcrumb" class="font-mono text-xs break-words text-zinc-500">
        <A href="/" class="hover:text-accent">
          projects
        </A>{" "}
        /{" "}
        <A href={`/projects/${w().projectId}`} class="hover:text-accent">
          {w().projectName}
        </A>{" "}
        /{" "}
        <A href="/workers" class="hover:text-accent">
          workers
        </A>{" "}
        / <span class="text-zinc-400">run {w().id.slice(0, 8)}</span>
      </nav>
      <div class="flex flex-wrap items-start gap-x-3 gap-y-2">
        <h1 class="prompt min-w-0 flex-1 font-mono text-lg font-semibold break-words text-zinc-50 sm:text-xl">
          <A href={`/specs/${w().specId}`} class="hover:text-accent" data-testid="run-spec-link">
            {w().specTitle}
          </A>
        </h1>
        <span class="flex items-center gap-2" data-testid="run-status">
          <Badge status={w().status} />
          <Show when={w().landed}>
            {(landed) => (
              <Badge
                status={landed().how === "discarded" ? "stopped" : "completed"}
                label={landed().how}
              />
            )}
          </Show>
        </span>
      </div>

      <dl class="grid grid-cols-2 gap-x-4 gap-y-2 font-mono text-xs sm:grid-cols-4">
        <Fact label="project">
          <A href={`/projects/${w().projectId}`} class="hover:text-accent">
            {w().projectName}
          </A>
        </Fact>
        <Fact label="model" testId="run-model">
          {w().model ?? "server default"}
        </Fact>
        <Fact label="branch" testId="run-branch">
          <Show when={w().branch} fallback={<span class="text-zinc-500">none (in place)</span>}>
            <span>{w().branch}</span>
            <span class="text-zinc-500"> → </span>
            <span>{w().baseBranch ?? "?"}</span>
          </Show>
        </Fact>
        <Fact label="time">
          <span title={w().startedAt ? `started ${formatTime(w().startedAt ?? 0)}` : undefined}>
            {runningFor(w(), props.now)}
          </span>
        </Fact>
      </dl>

      <div class="flex flex-wrap items-center gap-x-4 gap-y-1 font-mono text-[11px]">
        <ExecutorLabel worker={w()} />
        <Show when={w().baseCommit}>
          {(commit) => (
            <span class="text-zinc-500" title={commit()}>
              from {shortHash(commit())}
            </span>
          )}
        </Show>
        <Show when={w().changes}>{(c) => <ChangesLine changes={c()} />}</Show>
        <WorkerUsage worker={w()} />
      </div>

      <Show when={w().status === "running" || w().status === "paused"}>
        <CurrentStep worker={w()} />
      </Show>
      <Show when={w().error}>
        <p role="alert" class="font-mono text-xs break-words text-red-300">
          error: {w().error}
        </p>
      </Show>
      <Show when={w().landed}>
        {(landed) => (
          <p
            role="status"
            data-testid="run-landed"
            data-how={landed().how}
            class={`rounded-md border px-3 py-2 font-mono text-xs ${
              landed().how === "discarded"
                ? "border-zinc-600/60 bg-panel-2 text-zinc-400"
                : "border-emerald-600/50 bg-emerald-400/5 text-emerald-300"
            }`}
          >
            <span title={landed().commit ?? undefined}>{runLandedText(w())}</span>
            <span class="text-zinc-500"> · {formatTime(landed().at)}</span>
          </p>
        )}
      </Show>
    </header>
  );
}
