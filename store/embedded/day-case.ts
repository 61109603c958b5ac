/**
 * The day of `column` (epoch ms) as SQL: a CASE that binary-searches the local midnights `bounds` (ascending; day i is
 * [bounds[i], bounds[i + 1])) and gives the midnight the value's day starts at. About log2(days) comparisons a row: a
 * 90-day trend costs about what one fixed-offset division did, where a join of the days against the rows cost 2–3×.
 * The bounds are inlined (checked to be integers): a bound JS number would be a REAL.
 */
export function dayCase(column: string, bounds: readonly number[]): string {
  if (bounds.length < 2 || !bounds.every(Number.isSafeInteger)) throw new Error(`day bounds must be at least two integers, got ${bounds.length}`);
  const search = (lo: number, hi: number): string => {
    if (hi - lo === 1) return String(bounds[lo]);
    const mid = (lo + hi) >> 1;
    return `CASE WHEN ${column} < ${bounds[mid]} THEN ${search(lo, mid)} ELSE ${search(mid, hi)} END`;
  };
  return search(0, bounds.length - 1);
}
