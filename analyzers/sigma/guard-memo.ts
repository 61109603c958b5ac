/**
 * Logsource conditions (`when` in the field mapping) read a few fields with few distinct values
 * (event.dataset, event.category, process.name…). Their outcomes for every group of a rule set are
 * remembered per distinct tuple of those values, so an event usually costs one lookup instead of
 * one condition per group. Exact: the key holds every value the memoized conditions read.
 */
import { isPlainObject } from '../../core/index.js';
import { sharedGetter, type EventRecord } from './detection.js';

/** Per group: 0 the guard fails, 1 it holds (or there is none), 2 it must be run for this event. */
export const GUARD_FAILS = 0;
export const GUARD_HOLDS = 1;
export const GUARD_RUN = 2;

export interface GuardSource {
  /** The `when` values of the logsource entries the guard joins; none: no guard. */
  whens: readonly unknown[];
  /** The guard itself, run on a cache miss. */
  run(event: EventRecord): boolean;
}

// Enough for the combinations real traffic has; past it the memo starts over rather than grow.
const MAX_ENTRIES = 4096;

/** One level of the memo per field read: plain values, and arrays of one plain value, as Map keys. */
interface Level {
  plain: Map<unknown, Level | Uint8Array>;
  single: Map<unknown, Level | Uint8Array>;
}

const newLevel = (): Level => ({ plain: new Map(), single: new Map() });

export class GuardMemo {
  private readonly reads: ((event: EventRecord) => unknown)[] = [];
  private readonly presenceOnly: boolean[] = [];
  private readonly memoized: boolean[];
  private root = newLevel();
  private entries = 0;
  private readonly direct: Uint8Array;
  private constant: Uint8Array | undefined;

  constructor(private readonly guards: readonly GuardSource[]) {
    const fields = new Map<string, boolean>();
    this.memoized = guards.map(({ whens }) => {
      if (whens.length === 0) return true;
      const read = whens.map(fieldsRead);
      if (read.some((r) => r === undefined)) return false;
      for (const r of read) for (const [path, presence] of r!) fields.set(path, (fields.get(path) ?? true) && presence);
      return true;
    });
    for (const [path, presence] of fields) {
      this.reads.push(sharedGetter(path));
      this.presenceOnly.push(presence);
    }
    this.direct = Uint8Array.from(guards, (g) => (g.whens.length === 0 ? GUARD_HOLDS : GUARD_RUN));
  }

  /** Outcome per group (GUARD_*). The array may be shared: read it, never change it. */
  outcomes(event: EventRecord): Uint8Array {
    let level = this.root;
    const last = this.reads.length - 1;
    // No field read: the outcomes are the same for every event, learned once.
    if (last < 0) return (this.constant ??= this.learn(event, this.root.plain, undefined));
    for (let i = 0; i <= last; i += 1) {
      const value = this.reads[i]!(event);
      let map: Map<unknown, Level | Uint8Array>;
      let key: unknown;
      if (this.presenceOnly[i]) {
        map = level.plain;
        key = value !== undefined;
      } else if (Array.isArray(value)) {
        if (value.length !== 1 || !isPlain(value[0])) return this.direct;
        map = level.single;
        key = value[0];
      } else {
        if (!isPlain(value)) return this.direct;
        map = level.plain;
        key = value;
      }
      const found = map.get(key);
      if (i === last) return (found as Uint8Array | undefined) ?? this.learn(event, map, key);
      if (found === undefined) {
        const next = newLevel();
        map.set(key, next);
        level = next;
      } else {
        level = found as Level;
      }
    }
    return this.direct;
  }

  /** A miss: runs the memoized guards and remembers their outcomes under the key. */
  private learn(event: EventRecord, map: Map<unknown, Level | Uint8Array>, key: unknown): Uint8Array {
    const outcomes = Uint8Array.from(this.guards, (guard, i) =>
      guard.whens.length === 0 ? GUARD_HOLDS : !this.memoized[i] ? GUARD_RUN : guard.run(event) ? GUARD_HOLDS : GUARD_FAILS);
    if (this.entries >= MAX_ENTRIES) {
      this.root = newLevel();
      this.entries = 0;
      return outcomes;
    }
    this.entries += 1;
    map.set(key, outcomes);
    return outcomes;
  }
}

/** Values a Map tells apart exactly as the guards do (strings, numbers, booleans, null, undefined). */
function isPlain(value: unknown): boolean {
  return value === null || (typeof value !== 'object' && typeof value !== 'function');
}

/**
 * Fields a `when` reads, each with whether only its presence matters (`exists`); undefined when it
 * reads what a key cannot hold cheaply (keyword searches over the message, fieldref).
 */
function fieldsRead(when: unknown): Map<string, boolean> | undefined {
  const maps = Array.isArray(when) ? when : [when];
  const fields = new Map<string, boolean>();
  for (const map of maps) {
    if (!isPlainObject(map)) return undefined;
    for (const key of Object.keys(map)) {
      const [field = '', ...modifiers] = key.split('|');
      if (field === '' || modifiers.includes('fieldref')) return undefined;
      const presence = modifiers.length === 1 && modifiers[0] === 'exists';
      fields.set(field, (fields.get(field) ?? true) && presence);
    }
  }
  return fields;
}
