import { A, useNavigate, useParams } from "@solidjs/router";
import { createResource, createSignal, For, type JSX, Show, Suspense } from "solid-js";
import { SpecForm } from "../components/spec-form.tsx";
import { Badge, EmptyState, ErrorNote, formatTime, PageTitle } from "../components/ui.tsx";
import { pushToast } from "../lib/toast.ts";
import { errorMessage, trpc } from "../lib/trpc.ts";

export function ProjectPage(): JSX.Element {
  const params = useParams<{ id: string }>();
  const navigate = useNavigate();
  const [project] = createResource(
    () => params.id,
    (id) => trpc.projects.get.query({ id }),
  );
  const [specs, { refetch: refetchSpecs }] = createResource(
    () => params.id,
    (projectId) => trpc.specs.list.query({ projectId }),
  );
  const [deleting, setDeleting] = createSignal(false);

  const removeProject = async () => {
    const current = project();
    if (!current) return;
    if (
      !window.confirm(
        `Delete project "${current.name}" with all its specs? Files on disk are not touched.`,
      )
    ) {
      return;
    }
    setDeleting(true);
    try {
      await trpc.projects.remove.mutate({ id: current.id });
      pushToast("success", `Project "${current.name}" deleted`);
      navigate("/");
    } catch (err) {
      pushToast("error", errorMessage(err));
    } finally {
      setDeleting(false);
    }
  };

  return (
    <Suspense fallback={<p class="font-mono text-xs text-zinc-500">loading project…</p>}>
      <Show
        when={!project.error && project()}
        fallback={
          <Show when={project.error}>
            <EmptyState title="Project not available">
              <ErrorNote message={errorMessage(project.error)} />
              <A href="/" class="mt-2 inline-block text-accent underline underline-offset-2">
                Back to projects
              </A>
            </EmptyState>
          </Show>
        }
      >
        {(p) => (
          <>
            <nav aria-label="Breadcrumb" class="mb-2 font-mono text-xs text-zinc-500">
              <A href="/" class="hover:text-accent">
                projects
              </A>{" "}
              / <span class="text-zinc-400">{p().name}</span>
            </nav>
            <div class="flex flex-wrap items-start gap-3">
              <div class="min-w-0 flex-1">
                <PageTitle
                  sub={
                    <>
                      <span class="font-mono break-all">{p().directory}</span>
                      <Show when={p().description}>
                        <span class="mt-1 block text-zinc-400">{p().description}</span>
                      </Show>
                    </>
                  }
                >
                  {p().name}
                </PageTitle>
              </div>
              <button
                type="button"
                class="btn btn-danger"
                onClick={removeProject}
                disabled={deleting()}
              >
                Delete project
              </button>
            </div>

            <div class="grid gap-6 lg:grid-cols-[minmax(0,1fr)_26rem]">
              <section aria-labelledby="specs-heading">
                <h2 id="specs-heading" class="mb-3 font-mono text-sm font-semibold text-zinc-100">
                  Specs
                </h2>
                <Show when={specs.error}>
                  <ErrorNote message={errorMessage(specs.error)} />
                  <button type="button" class="btn mt-2" onClick={() => refetchSpecs()}>
                    Retry
                  </button>
                </Show>
                <Show
                  when={!specs.error && (specs() ?? []).length > 0}
                  fallback={
                    <Show when={!specs.loading && !specs.error}>
                      <EmptyState title="No specs yet">
                        Write one with the form: a title, the markdown spec, and the chunks to run.
                      </EmptyState>
                    </Show>
                  }
                >
                  <ul class="space-y-2" data-testid="spec-list">
                    <For each={specs()}>
                      {(spec) => (
                        <li>
                          <A
                            href={`/specs/${spec.id}`}
                            class="panel group flex flex-wrap items-center gap-x-3 gap-y-1 p-3 transition-colors hover:border-accent/50"
                          >
                            <span class="min-w-0 flex-1 font-mono text-sm break-words text-zinc-100 group-hover:text-accent">
                              {spec.title}
                            </span>
                            <Badge status={spec.status} />
                            <span class="w-full font-mono text-[11px] text-zinc-600">
                              updated {formatTime(spec.updatedAt)}
                            </span>
                          </A>
                        </li>
                      )}
                    </For>
                  </ul>
                </Show>
              </section>
              <aside class="panel h-fit p-4" aria-labelledby="new-spec-heading">
                <h2
                  id="new-spec-heading"
                  class="mb-4 font-mono text-sm font-semibold text-zinc-100"
                >
                  New spec
                </h2>
                <SpecForm projectId={p().id} onCreated={(specId) => navigate(`/specs/${specId}`)} />
              </aside>
            </div>
          </>
        )}
      </Show>
    </Suspense>
  );
}
