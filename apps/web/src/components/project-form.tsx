import { createProjectInput } from "@glm-workers/core/schemas";
import { createSignal, type JSX } from "solid-js";
import { validateWith } from "../lib/forms.ts";
import { pushToast } from "../lib/toast.ts";
import { errorMessage, fieldErrors, trpc } from "../lib/trpc.ts";
import type { Project } from "../lib/types.ts";
import { ErrorNote, Field } from "./ui.tsx";

export function ProjectForm(props: { onCreated: (project: Project) => void }): JSX.Element {
  const [name, setName] = createSignal("");
  const [directory, setDirectory] = createSignal("");
  const [description, setDescription] = createSignal("");
  const [errors, setErrors] = createSignal<Record<string, string>>({});
  const [formError, setFormError] = createSignal<string | null>(null);
  const [busy, setBusy] = createSignal(false);

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const input = {
      name: name().trim(),
      directory: directory().trim(),
      ...(description().trim() ? { description: description().trim() } : {}),
    };
    const local = validateWith(createProjectInput, input);
    setErrors(local);
    setFormError(null);
    if (Object.keys(local).length > 0) return;
    setBusy(true);
    try {
      const project = await trpc.projects.create.mutate(input);
      props.onCreated(project);
      setName("");
      setDirectory("");
      setDescription("");
      pushToast("success", `Project "${project.name}" created`);
    } catch (err) {
      const byField = fieldErrors(err);
      setErrors(byField);
      setFormError(Object.keys(byField).length > 0 ? null : errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="space-y-4" onSubmit={submit} noValidate aria-label="Create project">
      <Field
        label="Name"
        name="name"
        value={name()}
        onValue={setName}
        error={errors().name}
        placeholder="my-service"
        required
      />
      <Field
        label="Directory"
        name="directory"
        value={directory()}
        onValue={setDirectory}
        mono
        error={errors().directory}
        placeholder="/home/me/code/my-service"
        hint="An existing directory on this machine; a git repo is recommended."
        required
      />
      <Field
        label="Description"
        name="description"
        rows={3}
        value={description()}
        onValue={setDescription}
        error={errors().description}
        placeholder="optional"
      />
      <ErrorNote message={formError()} />
      <button type="submit" class="btn btn-primary w-full" disabled={busy()}>
        {busy() ? "creating…" : "+ Create project"}
      </button>
    </form>
  );
}
