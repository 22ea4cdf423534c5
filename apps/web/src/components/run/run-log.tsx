import { createMemo, createSignal, For, type JSX, Show } from "solid-js";
import type { LogLine } from "../../lib/log-lines.ts";
import type { WorkerLog } from "../../lib/worker-log.ts";
import { LogTail } from "../workers/log-tail.tsx";

const LEVELS = [
  { value: "all", label: "all" },
  { value: "info", label: "info" },
  { value: "warn", label: "warn" },
  { value: "error", label: "error" },
  { value: "tool", label: "tools" },
  { value: "debug", label: "debug" },
] as const;
type LevelFilter = (typeof LEVELS)[number]["value"];

/** Lines of `level` (warn also shows errors) whose text contains `query` (any case). */
export function filterLines(
  lines: readonly LogLine[],
  level: LevelFilter,
  query: string,
): LogLine[] {
  const needle = query.trim().toLowerCase();
  return lines.filter((line) => {
    if (level === "warn" && line.level !== "warn" && line.level !== "error") return false;
    if (level !== "all" && level !== "warn" && line.level !== level) return false;
    return needle === "" || line.text.toLowerCase().includes(needle);
  });
}

/** The run's whole log (as far as the server keeps it), with a level filter and a search. */
export function RunLog(props: { log: WorkerLog; title: string; limit: number }): JSX.Element {
  const [level, setLevel] = createSignal<LevelFilter>("all");
  const [query, setQuery] = createSignal("");
  const shown = createMemo(() => filterLines(props.log.lines(), level(), query()));
  const filtering = () => level() !== "all" || query().trim() !== "";
  const view: WorkerLog = {
    lines: shown,
    loading: () => props.log.loading(),
    error: () =>
      props.log.error() ??
      (filtering() && props.log.lines().length > 0 ? "no line matches the filter" : null),
  };

  return (
    <section aria-labelledby="run-log-heading" class="panel space-y-3 p-3 sm:p-4">
      <div class="flex flex-wrap items-center gap-x-3 gap-y-2">
        <h2 id="run-log-heading" class="font-mono text-sm font-semibold text-zinc-100">
          Log
        </h2>
        <span class="font-mono text-[11px] text-zinc-500" data-testid="run-log-count">
          {filtering()
            ? `${shown().length} of ${props.log.lines().length} lines`
            : `${props.log.lines().length} lines`}
          <Show when={props.log.lines().length >= props.limit}> (the newest)</Show>
        </span>
      </div>
      <div class="flex flex-col gap-2 sm:flex-row sm:items-center">
        <fieldset class="flex flex-wrap gap-1">
          <legend class="sr-only">Log level</legend>
          <For each={LEVELS}>
            {(option) => (
              <button
                type="button"
                class="btn px-2 py-0.5 text-[11px]"
                classList={{ "border-accent/70 text-accent": level() === option.value }}
                aria-pressed={level() === option.value}
                onClick={() => setLevel(option.value)}
              >
                {option.label}
              </button>
            )}
          </For>
        </fieldset>
        <label class="sr-only" for="run-log-search">
          Search the log
        </label>
        <input
          id="run-log-search"
          type="search"
          class="input py-1 font-mono text-xs sm:ml-auto sm:max-w-64"
          placeholder="search the log…"
          autocomplete="off"
          spellcheck={false}
          value={query()}
          onInput={(e) => setQuery(e.currentTarget.value)}
        />
      </div>
      <LogTail
        log={view}
        label={`Log of the run of ${props.title}`}
        class="[&_[role=log]]:h-[28rem] [&_[role=log]]:max-h-[70vh]"
      />
    </section>
  );
}
