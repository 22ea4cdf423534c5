import { createMemo, createResource, createSignal, For, type JSX, onCleanup, Show } from "solid-js";
import { errorMessage, trpc } from "../../lib/trpc.ts";
import type { Chunk, RunDiff, RunDiffFile } from "../../lib/types.ts";
import { EmptyState, ErrorNote } from "../ui.tsx";
import { DiffFilePatch } from "./diff-file.tsx";
import { shortHash } from "./landing.ts";

/** True while the viewport is at least `query` wide (follows resizes and rotation). */
function createMedia(query: string): () => boolean {
  const list = window.matchMedia(query);
  const [matches, setMatches] = createSignal(list.matches);
  const onChange = (e: MediaQueryListEvent) => setMatches(e.matches);
  list.addEventListener("change", onChange);
  onCleanup(() => list.removeEventListener("change", onChange));
  return matches;
}

const STATUS_MARK: Record<RunDiffFile["status"], { mark: string; tone: string }> = {
  added: { mark: "A", tone: "text-emerald-300" },
  modified: { mark: "M", tone: "text-amber-300" },
  deleted: { mark: "D", tone: "text-red-300" },
  renamed: { mark: "R", tone: "text-sky-300" },
};

interface DiffViewProps {
  workerId: string;
  /** The run's chunks; those with a commit can be shown on their own. */
  chunks: readonly Chunk[];
  /** The chunk whose commit is shown; null: the whole run. */
  scope: string | null;
  onScope: (chunkId: string | null) => void;
  /** Changes when the diff may have changed (a chunk committed, the run ended or landed). */
  version: string;
}

/** The run's changes: a scope picker (whole run or one chunk), the file list, each file's patch. */
export function DiffView(props: DiffViewProps): JSX.Element {
  const wide = createMedia("(min-width: 768px)");
  const [sideBySide, setSideBySide] = createSignal(false);
  const split = () => wide() && sideBySide();
  const committed = createMemo(() => props.chunks.filter((c) => c.commitHash));
  const [diff] = createResource(
    () => ({ id: props.workerId, chunkId: props.scope, version: props.version }),
    ({ id, chunkId }) => trpc.workers.diff.query(chunkId ? { id, chunkId } : { id }),
  );

  return (
    <section
      aria-labelledby="diff-heading"
      class="panel min-w-0 space-y-3 p-3 sm:p-4"
      data-testid="run-diff"
    >
      <div class="flex flex-wrap items-center gap-x-3 gap-y-2">
        <h2 id="diff-heading" class="font-mono text-sm font-semibold text-zinc-100">
          Changes
        </h2>
        <Show when={!diff.error && diff.latest}>{(d) => <DiffStats diff={d()} />}</Show>
        <div class="flex flex-wrap items-center gap-2 sm:ml-auto">
          <label for="diff-scope" class="font-mono text-[11px] text-zinc-500">
            show
          </label>
          <select
            id="diff-scope"
            class="input w-auto max-w-full py-1 font-mono text-xs"
            value={props.scope ?? ""}
            onChange={(e) => props.onScope(e.currentTarget.value || null)}
          >
            <option value="">the whole run</option>
            <For each={committed()}>
              {(chunk) => (
                <option value={chunk.id}>
                  #{props.chunks.indexOf(chunk) + 1} {chunk.title} ({shortHash(chunk.commitHash)})
                </option>
              )}
            </For>
          </select>
          <Show when={wide()}>
            <fieldset class="flex">
              <legend class="sr-only">Diff layout</legend>
              <button
                type="button"
                class="btn rounded-r-none px-2 py-1 text-[11px]"
                classList={{ "border-accent/70 text-accent": !sideBySide() }}
                aria-pressed={!sideBySide()}
                onClick={() => setSideBySide(false)}
              >
                unified
              </button>
              <button
                type="button"
                class="btn -ml-px rounded-l-none px-2 py-1 text-[11px]"
                classList={{ "border-accent/70 text-accent": sideBySide() }}
                aria-pressed={sideBySide()}
                onClick={() => setSideBySide(true)}
              >
                side by side
              </button>
            </fieldset>
          </Show>
        </div>
      </div>

      <Show when={diff.error}>
        <ErrorNote message={`The diff is not available: ${errorMessage(diff.error)}`} />
      </Show>
      <Show
        when={!diff.error && diff.latest}
        fallback={
          <Show when={!diff.error}>
            <p class="font-mono text-xs text-zinc-500">loading the diff…</p>
          </Show>
        }
      >
        {(d) => <DiffFiles diff={d()} sideBySide={split()} loading={diff.loading} />}
      </Show>
    </section>
  );
}

function DiffStats(props: { diff: RunDiff }): JSX.Element {
  const s = () => props.diff.stats;
  return (
    <span class="font-mono text-[11px] text-zinc-400" data-testid="diff-stats">
      <span class="text-emerald-300">+{s().additions}</span>{" "}
      <span class="text-red-300">−{s().deletions}</span> in {s().files} file
      {s().files === 1 ? "" : "s"}
      <span class="text-zinc-600"> · </span>
      <span class="text-zinc-500" title={`${props.diff.base.commit} → ${props.diff.head.commit}`}>
        {props.diff.base.branch ?? "base"}@{shortHash(props.diff.base.commit)} →{" "}
        {props.diff.head.branch ?? "head"}@{shortHash(props.diff.head.commit)}
      </span>
    </span>
  );
}

function DiffFiles(props: { diff: RunDiff; sideBySide: boolean; loading: boolean }): JSX.Element {
  const anchor = (i: number) => `diff-file-${i}`;
  return (
    <Show
      when={props.diff.files.length > 0}
      fallback={<EmptyState title="No changes">Nothing differs from the base commit.</EmptyState>}
    >
      <div class="space-y-3" classList={{ "opacity-60": props.loading }}>
        <ul
          class="divide-y divide-line rounded-md border border-line font-mono text-xs"
          aria-label="Changed files"
          data-testid="diff-file-list"
        >
          <For each={props.diff.files}>
            {(file, i) => (
              <li class="flex items-center gap-2 px-2 py-1.5" data-testid="diff-file">
                <span
                  class={`w-3 shrink-0 text-center ${STATUS_MARK[file.status].tone}`}
                  title={file.status}
                >
                  {STATUS_MARK[file.status].mark}
                </span>
                <button
                  type="button"
                  class="min-w-0 flex-1 truncate text-left text-zinc-200 hover:text-accent"
                  title={file.oldPath ? `${file.oldPath} → ${file.path}` : file.path}
                  onClick={() =>
                    document.getElementById(anchor(i()))?.scrollIntoView({ block: "start" })
                  }
                >
                  <span data-testid="diff-file-path">{file.path}</span>
                </button>
                <Show
                  when={!file.binary}
                  fallback={<span class="shrink-0 text-zinc-500">binary</span>}
                >
                  <span class="shrink-0 text-emerald-300">+{file.additions}</span>
                  <span class="shrink-0 text-red-300">−{file.deletions}</span>
                </Show>
              </li>
            )}
          </For>
        </ul>
        <Show when={props.diff.truncated}>
          <p class="font-mono text-[11px] text-amber-300">
            Only the first {props.diff.files.length} files are shown.
          </p>
        </Show>
        <For each={props.diff.files}>
          {(file, i) => (
            <div id={anchor(i())} class="min-w-0 scroll-mt-16" data-path={file.path}>
              <DiffFilePatch patch={file.patch} sideBySide={props.sideBySide} />
              <Show when={file.truncated}>
                <p class="mt-1 font-mono text-[11px] text-amber-300">
                  This file's diff is cut short: it is too long to show in full.
                </p>
              </Show>
            </div>
          )}
        </For>
      </div>
    </Show>
  );
}
