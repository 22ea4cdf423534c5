import { type JSX, Show } from "solid-js";

/** Status colours shared by spec, chunk and review badges. */
const badgeTone: Record<string, string> = {
  pending: "border-zinc-600/60 text-zinc-400",
  draft: "border-zinc-600/60 text-zinc-400",
  ready: "border-sky-400/50 text-sky-300",
  running: "border-accent/60 text-accent",
  completed: "border-emerald-600/60 text-emerald-300",
  pass: "border-emerald-600/60 text-emerald-300",
  review: "border-amber-400/50 text-amber-300",
  needs_fix: "border-amber-400/50 text-amber-300",
  failed: "border-red-400/50 text-red-300",
  fail: "border-red-400/50 text-red-300",
  cancelled: "border-zinc-600/60 text-zinc-500 line-through",
  idle: "border-zinc-600/60 text-zinc-400",
  paused: "border-amber-400/60 text-amber-300",
  stopped: "border-zinc-500/60 text-zinc-400",
  queued: "border-sky-400/50 text-sky-300",
};

export function Badge(props: { status: string; label?: string; title?: string }): JSX.Element {
  return (
    <span
      class={`inline-flex items-center gap-1 rounded border px-1.5 py-px font-mono text-[10px] tracking-wide whitespace-nowrap uppercase ${badgeTone[props.status] ?? "border-zinc-600/60 text-zinc-400"}`}
      title={props.title}
      data-status={props.status}
    >
      <Show when={props.status === "running"}>
        <span aria-hidden="true" class="h-1.5 w-1.5 animate-pulse rounded-full bg-accent" />
      </Show>
      {props.label ?? props.status.replace("_", " ")}
    </span>
  );
}

export function EmptyState(props: { title: string; children?: JSX.Element }): JSX.Element {
  return (
    <div class="rounded-lg border border-dashed border-line-strong px-4 py-10 text-center">
      <p class="font-mono text-sm text-zinc-300">{props.title}</p>
      <Show when={props.children}>
        <div class="mt-2 text-sm text-zinc-500">{props.children}</div>
      </Show>
    </div>
  );
}

export function ErrorNote(props: { message: string | null | undefined; id?: string }): JSX.Element {
  return (
    <Show when={props.message}>
      <p id={props.id} role="alert" class="mt-1 font-mono text-xs text-red-300">
        {props.message}
      </p>
    </Show>
  );
}

/** zod messages such as "is required" read better with the field's name in front. */
export function withLabel(label: string, message: string): string {
  return /^[a-z]/.test(message) ? `${label} ${message}` : message;
}

interface FieldProps {
  label: string;
  name: string;
  value: string;
  onValue: (value: string) => void;
  id?: string;
  error?: string | undefined;
  hint?: string;
  placeholder?: string;
  required?: boolean;
  /** Renders a textarea with this many rows instead of an input. */
  rows?: number;
  mono?: boolean;
  class?: string;
}

/** A labelled input or textarea with its error shown under it and wired to aria-describedby. */
export function Field(props: FieldProps): JSX.Element {
  const id = () => props.id ?? `field-${props.name}`;
  const errorId = () => `${id()}-error`;
  const hintId = () => `${id()}-hint`;
  const describedBy = () => (props.error ? errorId() : props.hint ? hintId() : undefined);
  return (
    <div class={props.class}>
      <label class="field-label" for={id()}>
        {props.label}
      </label>
      <Show
        when={props.rows}
        fallback={
          <input
            id={id()}
            name={props.name}
            class={`input ${props.mono ? "font-mono" : ""}`}
            value={props.value}
            onInput={(e) => props.onValue(e.currentTarget.value)}
            placeholder={props.placeholder}
            required={props.required}
            autocomplete="off"
            spellcheck={props.mono ? false : undefined}
            aria-invalid={props.error ? true : undefined}
            aria-describedby={describedBy()}
          />
        }
      >
        {(rows) => (
          <textarea
            id={id()}
            name={props.name}
            class="input font-mono text-xs leading-relaxed"
            rows={rows()}
            value={props.value}
            onInput={(e) => props.onValue(e.currentTarget.value)}
            placeholder={props.placeholder}
            required={props.required}
            aria-invalid={props.error ? true : undefined}
            aria-describedby={describedBy()}
          />
        )}
      </Show>
      <Show when={props.hint && !props.error}>
        <p id={hintId()} class="mt-1 text-xs text-zinc-500">
          {props.hint}
        </p>
      </Show>
      <ErrorNote
        id={errorId()}
        message={props.error ? withLabel(props.label, props.error) : null}
      />
    </div>
  );
}

export function PageTitle(props: { children: JSX.Element; sub?: JSX.Element }): JSX.Element {
  return (
    <div class="mb-6">
      <h1 class="prompt font-mono text-lg font-semibold break-words text-zinc-50 sm:text-xl">
        {props.children}
      </h1>
      <Show when={props.sub}>
        <div class="mt-1 text-sm text-zinc-500">{props.sub}</div>
      </Show>
    </div>
  );
}

export function formatTime(ms: number): string {
  return new Date(ms).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}
