import type { CorrelatorChanges } from './correlator.js';

/**
 * The correlation state's big lists as a journal: a brute force keeps minutes of signals in the reorder buffer and
 * their ids in the seen list (tens of MB), and each save changes only a few seconds of them. The first line holds the
 * lists whole, each later line the changes since the line before, in order, as the correlator made them.
 */

/** One line: buffer operations (a signal, its rule by index in `rules` or inline; or the key of one that left), then map sets (a value) and deletes (null). */
interface JournalLine {
  rules: unknown[];
  buffer: (Record<string, unknown> | string)[];
  seen: [string, number | null][];
  early: [string, number | null][];
}

/** The first line of a journal: a snapshot's lists, its signals naming the snapshot's rules. */
export function snapshotLine(rules: unknown[] | undefined, buffer: unknown[], seen: [string, number][], early: [string, number][]): JournalLine {
  return { rules: rules ?? [], buffer: buffer as Record<string, unknown>[], seen, early };
}

/** A later line: the changes taken from the correlator, each rule written once. */
export function changesLine(changes: CorrelatorChanges): JournalLine {
  const rules: unknown[] = [];
  const index = new Map<unknown, number>();
  const buffer = changes.buffer.map((op) => {
    if (typeof op === 'string') return op;
    let at = index.get(op.rule);
    if (at === undefined) {
      at = rules.push(op.rule) - 1;
      index.set(op.rule, at);
    }
    return { ...op, rule: at };
  });
  return { rules, buffer, seen: changes.seen, early: changes.early };
}

/** The lists after `lines`, in order, as a snapshot holds them (buffered signals with their rules inline). Malformed lines throw. */
export function replayJournal(lines: unknown[]): { buffer: Record<string, unknown>[]; seen: [string, number][]; early: [string, number][] } {
  const buffer = new Map<string, Record<string, unknown>>();
  const seen = new Map<string, number>();
  const early = new Map<string, number>();
  for (const value of lines) {
    const line = value as JournalLine;
    if (typeof line !== 'object' || line === null || ![line.rules, line.buffer, line.seen, line.early].every(Array.isArray)) {
      throw new Error('correlation state journal: a line is malformed');
    }
    for (const op of line.buffer) {
      if (typeof op === 'string') {
        buffer.delete(op);
        continue;
      }
      const rule = typeof op?.rule === 'number' ? line.rules[op.rule] : op?.rule;
      const id = (rule as { id?: unknown } | undefined)?.id;
      if (typeof id !== 'string') throw new Error('correlation state journal: a signal names no rule');
      buffer.set(`${id}\u001f${String(op.eventId)}`, { ...op, rule });
    }
    replayMap(seen, line.seen);
    replayMap(early, line.early);
  }
  return { buffer: [...buffer.values()], seen: [...seen], early: [...early] };
}

function replayMap(map: Map<string, number>, ops: unknown[]): void {
  for (const op of ops) {
    if (!Array.isArray(op) || typeof op[0] !== 'string' || !(op[1] === null || Number.isFinite(op[1]))) {
      throw new Error('correlation state journal: an entry is malformed');
    }
    if (op[1] === null) map.delete(op[0]);
    else map.set(op[0], op[1] as number);
  }
}
