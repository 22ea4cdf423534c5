import { useNavigate } from "@solidjs/router";
import { createContext, type JSX, onCleanup, useContext } from "solid-js";
import { createComponent } from "solid-js/web";
import { startRunNotifications } from "./notify.ts";
import { createWorkers } from "./workers-store.ts";
import type { WorkersStore } from "./workers-types.ts";

const WorkersContext = createContext<WorkersStore>();

/**
 * Creates the app's workers store once, for everything below it (the layout wraps all pages,
 * inside the router), and tells the user when a run ends (tab title count, opt-in notification).
 */
export function WorkersProvider(props: { children: JSX.Element }): JSX.Element {
  const store = createWorkers();
  const navigate = useNavigate();
  onCleanup(startRunNotifications({ listen: store.listen, navigate: (href) => navigate(href) }));
  return createComponent(WorkersContext.Provider, {
    value: store,
    get children() {
      return props.children;
    },
  });
}

/** The shared workers store (throws outside `WorkersProvider`). */
export function useWorkers(): WorkersStore {
  const store = useContext(WorkersContext);
  if (!store) throw new Error("useWorkers() needs a <WorkersProvider> above it");
  return store;
}
