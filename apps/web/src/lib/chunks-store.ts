import { onCleanup } from "solid-js";
import { createStore, produce, reconcile, unwrap } from "solid-js/store";
import { moveItem } from "./reorder.ts";
import { pushToast } from "./toast.ts";
import { errorMessage, trpc } from "./trpc.ts";
import type { Chunk } from "./types.ts";

export interface ChunkDraft {
  title: string;
  description: string;
}

export interface ChunksStore {
  readonly chunks: readonly Chunk[];
  /** Replaces the list with the server's truth (after a load or refetch). */
  reset(rows: readonly Chunk[]): void;
  add(draft: ChunkDraft): Promise<boolean>;
  update(id: string, patch: Partial<ChunkDraft>): Promise<boolean>;
  remove(id: string): Promise<boolean>;
  /** Moves the chunk to `toIndex` (clamped) and saves the new order. */
  move(id: string, toIndex: number): Promise<boolean>;
  /**
   * Merges a live change of one chunk (from a run's `chunk_updated` event) into the list.
   * False when the chunk is not in the list (e.g. a fix chunk the run inserted): reload then.
   */
  applyLive(patch: { id: string } & Record<string, unknown>): boolean;
}

/** Chunk fields a run may change, and so the only ones a live patch may touch. */
const LIVE_FIELDS = [
  "status",
  "title",
  "description",
  "order",
  "fixOf",
  "dependencies",
  "outputSummary",
  "error",
  "reviewStatus",
  "reviewFeedback",
  "commitHash",
  "startedAt",
  "completedAt",
] as const satisfies readonly (keyof Chunk)[];

function renumber(rows: Chunk[]): Chunk[] {
  return rows.map((row, order) => (row.order === order ? row : { ...row, order }));
}

/**
 * The chunk list of one spec. Every action updates the store at once, then asks the server;
 * when the server says no, the store goes back to the snapshot taken before the action, an
 * error toast explains why, and `onRejected` lets the page reload the authoritative state.
 * Server calls run one after another so a burst of moves reaches the server in order.
 */
export function createChunksStore(
  specId: () => string,
  initial: readonly Chunk[],
  onRejected?: () => void,
): ChunksStore {
  const [state, setState] = createStore<{ chunks: Chunk[] }>({ chunks: [...initial] });
  let tail: Promise<unknown> = Promise.resolve();
  /** Actions applied locally whose server call has not finished yet. */
  let inFlight = 0;
  let disposed = false;
  let tempSeq = 0;
  onCleanup(() => {
    disposed = true;
  });

  const snapshot = (): Chunk[] => structuredClone(unwrap(state.chunks));
  const setChunks = (rows: Chunk[]) =>
    setState("chunks", reconcile(rows, { key: "id", merge: true }));

  /** Runs `apply` now and `save` in turn; rolls back to the snapshot when `save` throws. */
  function optimistic<T>(
    apply: () => void,
    save: () => Promise<T>,
    commit: (result: T, isLatest: boolean) => void,
  ): Promise<boolean> {
    const before = snapshot();
    apply();
    inFlight++;
    const run = tail.then(async () => {
      try {
        const result = await save();
        if (!disposed) commit(result, inFlight === 1);
        return true;
      } catch (err) {
        if (disposed) return false;
        setChunks(before);
        pushToast("error", errorMessage(err));
        onRejected?.();
        return false;
      } finally {
        inFlight--;
      }
    });
    tail = run;
    return run;
  }

  return {
    get chunks() {
      return state.chunks;
    },
    applyLive(patch) {
      if (!state.chunks.some((c) => c.id === patch.id)) return false;
      const fields: Partial<Chunk> = {};
      for (const key of LIVE_FIELDS) {
        if (patch[key] !== undefined) Object.assign(fields, { [key]: patch[key] });
      }
      setState("chunks", (row) => row.id === patch.id, fields);
      return true;
    },
    reset(rows) {
      setChunks([...rows]);
    },
    add(draft) {
      const tempId = `tmp-${++tempSeq}`;
      const placeholder: Chunk = {
        id: tempId,
        specId: specId(),
        title: draft.title,
        description: draft.description,
        order: state.chunks.length,
        status: "pending",
        outputSummary: null,
        error: null,
        reviewStatus: null,
        reviewFeedback: null,
        dependencies: [],
        fixOf: null,
        commitHash: null,
        startedAt: null,
        completedAt: null,
      };
      return optimistic(
        () => setState("chunks", (rows) => [...rows, placeholder]),
        () =>
          trpc.chunks.create.mutate({
            specId: specId(),
            title: draft.title,
            description: draft.description,
          }),
        (row) => setState("chunks", (rows) => rows.map((r) => (r.id === tempId ? row : r))),
      );
    },
    update(id, patch) {
      return optimistic(
        () =>
          setState(
            "chunks",
            (row) => row.id === id,
            produce((row: Chunk) => {
              Object.assign(row, patch);
            }),
          ),
        () => trpc.chunks.update.mutate({ id, ...patch }),
        (row) => setState("chunks", (r) => r.id === id, row),
      );
    },
    remove(id) {
      return optimistic(
        () => setChunks(renumber(snapshot().filter((r) => r.id !== id))),
        () => trpc.chunks.remove.mutate({ id }),
        () => undefined,
      );
    },
    move(id, toIndex) {
      const from = state.chunks.findIndex((r) => r.id === id);
      const to = Math.max(0, Math.min(state.chunks.length - 1, toIndex));
      if (from < 0 || from === to) return Promise.resolve(true);
      let ids: string[] = [];
      return optimistic(
        () => {
          const rows = moveItem(snapshot(), from, to);
          ids = rows.map((r) => r.id);
          setChunks(renumber(rows));
        },
        () => trpc.chunks.reorder.mutate({ specId: specId(), chunkIds: ids }),
        // A later move may already be shown; the server's answer to this one would undo it.
        (rows, isLatest) => {
          if (isLatest) setChunks([...rows]);
        },
      );
    },
  };
}
