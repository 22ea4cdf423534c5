/**
 * Given the queue rows and a full new order of their ids, returns new priority/addedAt values
 * so that `ORDER BY priority DESC, added_at ASC` yields exactly that order while changing as
 * few priorities as possible: the longest run of items (in the new order) whose priorities
 * already fall keeps them; every other item takes the priority nearest its own that fits
 * between its kept neighbours. Moving the one urgent item to the bottom lowers that item
 * alone; moving an item to the top raises that item alone.
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
  const old = ordered.map((r) => r.priority);
  const keep = longestNonIncreasing(old);
  const next = [...old];
  let upper = Number.POSITIVE_INFINITY; // priority of the previous item (kept or not)
  for (let i = 0; i < next.length; i++) {
    if (keep.has(i)) {
      upper = old[i] as number;
      continue;
    }
    let lower = Number.NEGATIVE_INFINITY; // the next kept item's priority
    for (let j = i + 1; j < next.length; j++) {
      if (keep.has(j)) {
        lower = old[j] as number;
        break;
      }
    }
    const value = Math.min(Math.max(old[i] as number, lower), upper);
    next[i] = value;
    upper = value;
  }
  const base = Math.min(...rows.map((r) => r.addedAt));
  return ordered.map((r, i) => ({ id: r.id, priority: next[i] as number, addedAt: base + i }));
}

/** Indexes of one longest non-increasing subsequence of `values` (O(n log n)). */
function longestNonIncreasing(values: readonly number[]): Set<number> {
  // Work on negated values: a non-increasing run of `values` is a non-decreasing run of these.
  const tails: number[] = []; // index of the smallest tail of each length
  const prev = new Array<number>(values.length).fill(-1);
  const key = (i: number) => -(values[i] as number);
  for (let i = 0; i < values.length; i++) {
    // first length whose tail is greater than key(i) (upper bound keeps equal values)
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (key(tails[mid] as number) <= key(i)) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) prev[i] = tails[lo - 1] as number;
    tails[lo] = i;
  }
  const out = new Set<number>();
  for (let i = tails.at(-1) ?? -1; i >= 0; i = prev[i] as number) out.add(i);
  return out;
}
