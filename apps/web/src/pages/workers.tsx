import { A } from "@solidjs/router";
import type { JSX } from "solid-js";
import { EmptyState, PageTitle } from "../components/ui.tsx";
import { activeWorkerCount } from "../lib/live.ts";

/** Placeholder until the live dashboard lands (worker cards, queue, global controls). */
export function WorkersPage(): JSX.Element {
  return (
    <>
      <PageTitle sub={`Active workers: ${activeWorkerCount()}`}>workers</PageTitle>
      <EmptyState title="No workers running">
        Open a spec from a{" "}
        <A href="/" class="text-accent underline underline-offset-2">
          project
        </A>{" "}
        and run it; its worker will show up here with live progress.
      </EmptyState>
    </>
  );
}
