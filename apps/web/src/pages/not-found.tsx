import { A } from "@solidjs/router";
import type { JSX } from "solid-js";
import { EmptyState } from "../components/ui.tsx";

export function NotFoundPage(): JSX.Element {
  return (
    <EmptyState title="404 · nothing here">
      <A href="/" class="text-accent underline underline-offset-2">
        Back to projects
      </A>
    </EmptyState>
  );
}
