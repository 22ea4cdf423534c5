import { Route, Router } from "@solidjs/router";
import { type JSX, lazy } from "solid-js";
import { Layout } from "./components/layout.tsx";
import { NotFoundPage } from "./pages/not-found.tsx";
import { ProjectPage } from "./pages/project.tsx";
import { ProjectsPage } from "./pages/projects.tsx";
import { SpecPage } from "./pages/spec.tsx";
import { WorkersPage } from "./pages/workers.tsx";

/** The run page carries the diff renderer and highlighter: loaded when first opened. */
const WorkerPage = lazy(() =>
  import("./pages/worker.tsx").then((m) => ({ default: m.WorkerPage })),
);

export function App(): JSX.Element {
  return (
    <Router root={Layout}>
      <Route path="/" component={ProjectsPage} />
      <Route path="/projects/:id" component={ProjectPage} />
      <Route path="/specs/:id" component={SpecPage} />
      <Route path="/workers" component={WorkersPage} />
      <Route path="/workers/:id" component={WorkerPage} />
      <Route path="*404" component={NotFoundPage} />
    </Router>
  );
}
