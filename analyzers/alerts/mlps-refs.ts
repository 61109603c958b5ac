const MLPS_TAG = /^mlps\.(\d+(?:\.\d+)+?)(?:\.([a-z]))?$/i;

/**
 * The MLPS clause a rule tag names: `mlps.8.1.4.3` → `8.1.4.3` (the whole control) and
 * `mlps.8.1.4.3.a` → `8.1.4.3 a)` (one item, written as GB/T 22239-2019 numbers items).
 * Tags of other namespaces give undefined.
 */
export function mlpsClause(tag: string): string | undefined {
  const match = MLPS_TAG.exec(tag);
  if (!match) return undefined;
  return match[2] ? `${match[1]} ${match[2].toLowerCase()})` : match[1];
}

/**
 * The MLPS clauses of a rule's tags, sorted and without repeats. With the system's level, only the
 * clauses of that level's chapter (level 2 → 7.x, 3 → 8.x, 4 → 9.x): a rule carries its clause at
 * every level, an alert cites the one its system is graded at. Without a level, all of them.
 */
export function mlpsRefs(tags: readonly string[], mlpsLevel?: number): string[] {
  const chapter = mlpsLevel !== undefined && Number.isInteger(mlpsLevel) ? `${mlpsLevel + 5}.` : undefined;
  const refs = new Set<string>();
  for (const tag of tags) {
    const clause = mlpsClause(tag);
    if (clause && (chapter === undefined || clause.startsWith(chapter))) refs.add(clause);
  }
  return [...refs].sort();
}
