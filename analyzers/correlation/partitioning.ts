import { getField } from '../../core/index.js';
import type { Signal } from '../types.js';
import type { CompiledCorrelation } from './compile.js';
import { groupKeyOf } from './correlator.js';

/*
 * Distributed correlation: which partition a signal goes to. Correlations are taken in units:
 * a correlation on its own is one unit, and correlations chained to each other (one lists another)
 * form one unit, because a chain's hits feed the next correlation inside the same correlator.
 * - A single correlation's signals are spread by their group: partition = hash(rule id, group key),
 *   so every signal of one group (one brute-force source address) meets in one partition.
 * - A chain goes to one partition as a whole (hash of the unit): its correlations may group by
 *   different fields, so no single group key routes them all.
 */

export interface CorrelationUnit {
  /** The smallest rule id in the unit: stable across processes and restarts. */
  id: string;
  correlations: CompiledCorrelation[];
  /** Spread by group key (one correlation) or all in one partition (a chain). */
  spread: boolean;
  /** The event fields the unit's correlations read: a published signal carries only these (and `shouwang`). */
  fields: string[];
}

/** One signal bound for one unit's correlator in one partition. */
export interface RoutedSignal {
  partition: number;
  unit: string;
  signal: Signal;
}

/** The correlations split into units (connected through chaining), in a stable order. */
export function correlationUnits(correlations: readonly CompiledCorrelation[]): CorrelationUnit[] {
  const byRef = new Map<string, CompiledCorrelation>();
  for (const c of correlations) {
    byRef.set(c.rule.id, c);
    if (c.rule.name) byRef.set(c.rule.name, c);
  }
  const parent = new Map<CompiledCorrelation, CompiledCorrelation>(correlations.map((c) => [c, c]));
  const root = (c: CompiledCorrelation): CompiledCorrelation => {
    while (parent.get(c) !== c) c = parent.get(c)!;
    return c;
  };
  for (const c of correlations) {
    for (const ref of c.rules) {
      const other = byRef.get(ref);
      if (other) parent.set(root(other), root(c));
    }
  }
  const groups = new Map<CompiledCorrelation, CompiledCorrelation[]>();
  for (const c of correlations) groups.set(root(c), [...(groups.get(root(c)) ?? []), c]);
  return [...groups.values()].map((members) => {
    const fields = new Set<string>();
    for (const c of members) {
      for (const name of [...c.groupBy, ...c.fields]) [name, ...Object.values(c.aliases[name] ?? {})].forEach((field) => fields.add(field));
    }
    return {
      id: members.map((c) => c.rule.id).sort()[0]!,
      correlations: members,
      spread: members.length === 1,
      fields: [...fields],
    };
  }).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * The partition (0..partitions-1) of a key: 32-bit FNV-1a over its UTF-16 code units, the same in every
 * process and version (changing it would move a running cluster's groups). A tenth of SHA-1's cost here.
 */
export function partitionOf(key: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i += 1) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % partitions;
}

/** Routes signals of single-event rules to the units that correlate them. */
export class SignalRouter {
  readonly #partitions: number;
  /** Rule id or name → the units listing it. */
  readonly #routes = new Map<string, CorrelationUnit[]>();

  constructor(units: readonly CorrelationUnit[], partitions: number) {
    this.#partitions = partitions;
    for (const unit of units) {
      for (const c of unit.correlations) {
        for (const ref of c.rules) {
          const list = this.#routes.get(ref) ?? [];
          if (!list.includes(unit)) list.push(unit);
          this.#routes.set(ref, list);
        }
      }
    }
  }

  /** Whether any correlation counts this rule's signals. */
  routed(rule: Signal['rule']): boolean {
    return this.#routes.has(rule.id) || (rule.name !== undefined && this.#routes.has(rule.name));
  }

  /**
   * Where a signal goes: once per unit that lists its rule (by id or name), to the partition of its
   * group. A signal lacking a group-by field counts for nothing (as in one process) and goes nowhere.
   */
  route(signal: Signal): RoutedSignal[] {
    const units = new Set([...(this.#routes.get(signal.rule.id) ?? []), ...(signal.rule.name ? this.#routes.get(signal.rule.name) ?? [] : [])]);
    const out: RoutedSignal[] = [];
    for (const unit of units) {
      let key = unit.id;
      if (unit.spread) {
        const group = groupKeyOf(unit.correlations[0]!, signal);
        if (group === undefined) continue;
        key = `${unit.id}\u001f${group}`;
      }
      out.push({ partition: partitionOf(key, this.#partitions), unit: unit.id, signal: { ...signal, event: slim(signal.event, unit.fields) } });
    }
    return out;
  }
}

/** What a correlation keeps of an event (as Correlator does): the fields it reads and the shouwang tags. */
function slim(event: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    const value = getField(event, field);
    if (value !== undefined) out[field] = value;
  }
  if (event.shouwang !== undefined) out.shouwang = event.shouwang;
  return out;
}
