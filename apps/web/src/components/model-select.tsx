import { createResource, For, type JSX, Show } from "solid-js";
import { loadModels } from "../lib/models.ts";

/**
 * A `<select>` of the server's models. The empty choice (`null`) means "no model of its own":
 * `noneLabel` says what is used then (given the server's default). A current value the server
 * no longer offers stays visible, marked, so it is never silently replaced.
 */
export function ModelSelect(props: {
  id: string;
  value: string | null;
  onChange: (model: string | null) => void;
  noneLabel: (defaultModel: string) => string;
  disabled?: boolean;
  title?: string;
  class?: string;
}): JSX.Element {
  const [choice] = createResource(loadModels);
  // read only when ready: a pending resource would suspend the surrounding page
  const info = () => (choice.state === "ready" ? choice() : undefined);
  const models = () => info()?.models ?? [];
  const stale = () => {
    const value = props.value;
    return value !== null && info() !== undefined && !models().includes(value) ? value : null;
  };
  return (
    <select
      id={props.id}
      class={`input font-mono ${props.class ?? ""}`}
      disabled={props.disabled || info() === undefined}
      title={props.title}
      data-testid="model-select"
      onChange={(e) => {
        props.onChange(e.currentTarget.value || null);
        // controlled: the element shows `value` as the owner has it now (it may have said no)
        e.currentTarget.value = props.value ?? "";
      }}
    >
      <option value="" selected={props.value === null}>
        {info()
          ? props.noneLabel(info()?.defaultModel ?? "")
          : choice.error
            ? "models unavailable"
            : "loading…"}
      </option>
      <Show when={stale()}>
        {(value) => (
          <option value={value()} selected>
            {value()} (not offered)
          </option>
        )}
      </Show>
      <For each={models()}>
        {(model) => (
          <option value={model} selected={model === props.value}>
            {model}
          </option>
        )}
      </For>
    </select>
  );
}
