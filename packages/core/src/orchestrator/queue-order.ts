/**
 * Given the queue rows and a full new order of their ids, returns new priority/addedAt values
 * so that `ORDER BY priority DESC, added_at ASC` yields exactly that order, changing each
 * item's priority only as much as the order requires.
 */
export function reorderPriorities(
  rows: ReadonlyArray<{ id: string; priority: number; addedAt: number }>,
  ids: readonly string[],
): Array<{ id: string; priority: number; addedAt: number }> {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const ordered = ids.map((id) => {
    const row = byId.get(id);
    if (!row) throw new Error(`unknown queue item ${id}`);
    return row;
  });
  const priorities = ordered.map((r) => r.priority);
  // walking from the end, an item never has a lower priority than the one after it
  for (let i = priorities.length - 2; i >= 0; i--) {
    priorities[i] = Math.max(priorities[i] as number, priorities[i + 1] as number);
  }
  const base = Math.min(...rows.map((r) => r.addedAt));
  return ordered.map((r, i) => ({
    id: r.id,
    priority: priorities[i] as number,
    addedAt: base + i,
  }));
}
