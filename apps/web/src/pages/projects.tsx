import { A } from "@solidjs/router";
import { createResource, For, type JSX, Show, Suspense } from "solid-js";
import { ProjectForm } from "../components/project-form.tsx";
import { EmptyState, ErrorNote, formatTime, PageTitle } from "../components/ui.tsx";
import { errorMessage, trpc } from "../lib/trpc.ts";
import type { Project } from "../lib/types.ts";

export function ProjectsPage(): JSX.Element {
  const [projects, { mutate, refetch }] = createResource(() => trpc.projects.list.query());

  const added = (project: Project) => {
    mutate((list) => [...(list ?? []), project]);
  };

  return (
    <>
      <PageTitle sub="Each project is a directory the agents work in.">projects</PageTitle>
      <div class="grid gap-6 lg:grid-cols-[minmax(0,1fr)_22rem]">
        <section aria-labelledby="projects-heading">
          <h2 id="projects-heading" class="sr-only">
            All projects
          </h2>
          <Suspense fallback={<p class="font-mono text-xs text-zinc-500">loading projects…</p>}>
            <Show
              when={!projects.error}
              fallback={
                <div class="panel p-4">
                  <ErrorNote message={errorMessage(projects.error)} />
                  <button type="button" class="btn mt-3" onClick={() => refetch()}>
                    Retry
                  </button>
                </div>
              }
            >
              <Show
                when={(projects() ?? []).length > 0}
                fallback={
                  <EmptyState title="No projects yet">
                    Add one with the form: a name and the directory the agents should work in.
                  </EmptyState>
                }
              >
                <ul class="grid gap-3 sm:grid-cols-2" data-testid="project-list">
                  <For each={projects()}>
                    {(project) => (
                      <li>
                        <A
                          href={`/projects/${project.id}`}
                          class="panel group block h-full p-4 transition-colors hover:border-accent/50"
                        >
                          <p class="font-mono text-sm font-semibold break-words text-zinc-100 group-hover:text-accent">
                            {project.name}
                          </p>
                          <p
                            class="mt-1 truncate font-mono text-xs text-zinc-500"
                            title={project.directory}
                          >
                            {project.directory}
                          </p>
                          <Show when={project.description}>
                            <p class="mt-2 line-clamp-2 text-sm text-zinc-400">
                              {project.description}
                            </p>
                          </Show>
                          <p class="mt-3 font-mono text-[11px] text-zinc-600">
                            created {formatTime(project.createdAt)}
                          </p>
                        </A>
                      </li>
                    )}
                  </For>
                </ul>
              </Show>
            </Show>
          </Suspense>
        </section>
        <aside class="panel h-fit p-4" aria-labelledby="new-project-heading">
          <h2 id="new-project-heading" class="mb-4 font-mono text-sm font-semibold text-zinc-100">
            New project
          </h2>
          <ProjectForm onCreated={added} />
        </aside>
      </div>
    </>
  );
}
