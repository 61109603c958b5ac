/**
 * An exact prefilter for a rule set, as an inverted index. Each rule knows texts it cannot match
 * without (detection.ts `needs`: in every clause, some literal must be a substring of a field,
 * lowercased). All literals of one field go into one Aho–Corasick automaton, so a single pass over
 * the field's text tells which of them occur, for every rule at once; each literal found counts
 * towards the clauses that list it, and a rule becomes a candidate when all its clauses are met.
 * An event then costs one pass per field plus the literals it holds, not a check per rule. Only
 * candidates and rules without needs are run, in their order: results are the same without it.
 */
import { sharedGetter, toLower, type Clause, type EventRecord } from './detection.js';

export class Prefilter {
  private readonly literalIds = new Map<string, number>();
  private readonly literalsByPath = new Map<string, { literal: string; id: number }[]>();
  private readonly pathOfLiteral: string[] = [];
  private readonly clausesOfLiteral: number[][] = [];
  private readonly ruleOfClause: number[] = [];
  /** Per rule (numbered in the order added): its group, its place in the group, its clause count. */
  private readonly rules: { group: number; local: number; clauses: number }[] = [];
  private readonly groupSizes: number[] = [];
  private built = false;

  // Built once, read per event.
  private fields: { read: (event: EventRecord) => unknown; scanner: Scanner }[] = [];
  private groupFields: Int32Array[] = [];
  private groupAlways: Int32Array[] = [];
  private groupStart = new Int32Array(0);
  private literalStart = new Int32Array(1);
  private literalClauses = new Int32Array(0);
  private clauseRule = new Int32Array(0);
  private ruleGroup = new Int32Array(0);
  private ruleLocal = new Int32Array(0);
  private ruleClauses = new Int32Array(0);

  // Per event, stamped with the event's generation so nothing is cleared between events.
  private generation = 0;
  private scanned = new Int32Array(0);
  private found = new Int32Array(0);
  private clauseMet = new Int32Array(0);
  private ruleStamp = new Int32Array(0);
  private ruleMet = new Int32Array(0);
  private groupStamp = new Int32Array(0);
  private groupCount = new Int32Array(0);
  /** Candidates in the order their last clause was met, at groupStart[group]. */
  private candidates = new Int32Array(0);
  private hits = new Int32Array(0);
  /** What select() returns: places of the rules to run in a group, ascending. */
  selected = new Int32Array(0);

  /**
   * Adds the next rule of a group (groups numbered from 0; a rule's place in its group is the order
   * it was added in). No clauses: the rule always runs. Call before build().
   */
  add(group: number, needs: readonly Clause[]): void {
    if (this.built) throw new Error('Prefilter.add after build');
    while (this.groupSizes.length <= group) this.groupSizes.push(0);
    const rule = this.rules.length;
    this.rules.push({ group, local: this.groupSizes[group]!, clauses: needs.length });
    this.groupSizes[group]! += 1;
    for (const clause of needs) {
      const id = this.ruleOfClause.length;
      this.ruleOfClause.push(rule);
      for (const literal of new Set(clause.map((need) => this.literalId(need.path, need.literal)))) this.clausesOfLiteral[literal]!.push(id);
    }
  }

  private literalId(path: string, literal: string): number {
    const key = `${path}\u0000${literal}`;
    let id = this.literalIds.get(key);
    if (id === undefined) {
      id = this.literalIds.size;
      this.literalIds.set(key, id);
      this.pathOfLiteral.push(path);
      this.clausesOfLiteral.push([]);
      let list = this.literalsByPath.get(path);
      if (!list) this.literalsByPath.set(path, (list = []));
      list.push({ literal, id });
    }
    return id;
  }

  build(): void {
    this.built = true;
    const fieldOfPath = new Map<string, number>();
    for (const [path, literals] of this.literalsByPath) {
      fieldOfPath.set(path, this.fields.length);
      this.fields.push({ read: sharedGetter(path), scanner: new Scanner(literals) });
    }
    const groups = this.groupSizes.length;
    const fieldSets = Array.from({ length: groups }, () => new Set<number>());
    const always: number[][] = Array.from({ length: groups }, () => []);
    for (const { group, local, clauses } of this.rules) if (clauses === 0) always[group]!.push(local);
    this.clausesOfLiteral.forEach((clauses, literal) => {
      for (const clause of clauses) fieldSets[this.rules[this.ruleOfClause[clause]!]!.group]!.add(fieldOfPath.get(this.pathOfLiteral[literal]!)!);
    });
    this.groupFields = fieldSets.map((set) => Int32Array.from(set));
    this.groupAlways = always.map((list) => Int32Array.from(list));
    this.groupStart = new Int32Array(groups);
    let offset = 0;
    this.groupSizes.forEach((size, group) => {
      this.groupStart[group] = offset;
      offset += size;
    });
    this.literalStart = new Int32Array(this.clausesOfLiteral.length + 1);
    this.clausesOfLiteral.forEach((clauses, literal) => (this.literalStart[literal + 1] = this.literalStart[literal]! + clauses.length));
    this.literalClauses = Int32Array.from(this.clausesOfLiteral.flat());
    this.clauseRule = Int32Array.from(this.ruleOfClause);
    this.ruleGroup = Int32Array.from(this.rules, (r) => r.group);
    this.ruleLocal = Int32Array.from(this.rules, (r) => r.local);
    this.ruleClauses = Int32Array.from(this.rules, (r) => r.clauses);
    this.scanned = new Int32Array(this.fields.length);
    this.found = new Int32Array(this.literalIds.size);
    this.hits = new Int32Array(this.literalIds.size);
    this.clauseMet = new Int32Array(this.ruleOfClause.length);
    this.ruleStamp = new Int32Array(this.rules.length);
    this.ruleMet = new Int32Array(this.rules.length);
    this.groupStamp = new Int32Array(groups);
    this.groupCount = new Int32Array(groups);
    this.candidates = new Int32Array(this.rules.length);
    this.selected = new Int32Array(Math.max(0, ...this.groupSizes));
  }

  /** Starts a new event: nothing scanned, nothing found. */
  nextEvent(): void {
    if (this.generation === 0x7fffffff) {
      this.generation = 0;
      for (const stamps of [this.scanned, this.found, this.clauseMet, this.ruleStamp, this.groupStamp]) stamps.fill(0);
    }
    this.generation += 1;
  }

  /**
   * The rules of a group the event may match, into `selected` (their places, ascending); returns
   * how many. Scans the fields the group's rules look in, those not scanned yet for this event.
   */
  select(group: number, event: EventRecord): number {
    const generation = this.generation;
    const fields = this.groupFields[group]!;
    for (let i = 0; i < fields.length; i += 1) {
      const field = fields[i]!;
      if (this.scanned[field] === generation) continue;
      this.scanned[field] = generation;
      const { read, scanner } = this.fields[field]!;
      this.count(this.scanValue(read(event), scanner, 0));
    }
    const always = this.groupAlways[group]!;
    const found = this.groupStamp[group] === generation ? this.groupCount[group]! : 0;
    const start = this.groupStart[group]!;
    const { candidates, selected } = this;
    // Few candidates: insertion sort, then merge with the rules that always run.
    for (let i = start + 1; i < start + found; i += 1) {
      const value = candidates[i]!;
      let j = i - 1;
      while (j >= start && candidates[j]! > value) {
        candidates[j + 1] = candidates[j]!;
        j -= 1;
      }
      candidates[j + 1] = value;
    }
    let a = 0;
    let c = start;
    let n = 0;
    const end = start + found;
    while (a < always.length || c < end) {
      selected[n++] = c >= end || (a < always.length && always[a]! < candidates[c]!) ? always[a++]! : candidates[c++]!;
    }
    return n;
  }

  /** The texts the string tests see (detection.ts anyString): strings, numbers and booleans, array elements. */
  private scanValue(value: unknown, scanner: Scanner, count: number): number {
    if (typeof value === 'string') return scanner.scanLower(value, this.found, this.generation, this.hits, count);
    if (typeof value === 'number' || typeof value === 'boolean') return scanner.scanLower(String(value), this.found, this.generation, this.hits, count);
    if (Array.isArray(value)) for (const element of value) count = this.scanValue(element, scanner, count);
    return count;
  }

  /** Each literal found meets the clauses that list it; a rule whose clauses are all met becomes a candidate. */
  private count(hits: number): void {
    const generation = this.generation;
    const { literalStart, literalClauses, clauseMet, clauseRule, ruleStamp, ruleMet, ruleClauses } = this;
    for (let h = 0; h < hits; h += 1) {
      const literal = this.hits[h]!;
      const end = literalStart[literal + 1]!;
      for (let k = literalStart[literal]!; k < end; k += 1) {
        const clause = literalClauses[k]!;
        if (clauseMet[clause] === generation) continue;
        clauseMet[clause] = generation;
        const rule = clauseRule[clause]!;
        if (ruleStamp[rule] !== generation) {
          ruleStamp[rule] = generation;
          ruleMet[rule] = 0;
        }
        const met = ruleMet[rule]! + 1;
        ruleMet[rule] = met;
        if (met !== ruleClauses[rule]) continue;
        const group = this.ruleGroup[rule]!;
        if (this.groupStamp[group] !== generation) {
          this.groupStamp[group] = generation;
          this.groupCount[group] = 0;
        }
        const size = this.groupCount[group]!;
        this.candidates[this.groupStart[group]! + size] = this.ruleLocal[rule]!;
        this.groupCount[group] = size + 1;
      }
    }
  }
}

/**
 * Aho–Corasick as a full transition table over lowercase literals: one column per ASCII code unit,
 * read directly (an uppercase letter goes where its lowercase goes, so ASCII text is scanned without
 * lowercasing it), then one per other code unit the literals use and a last one for every other unit.
 */
/**
 * The table is states × columns: a pasted rule with one 20,000-character CJK literal would make it gigabytes.
 * A literal's first code units are enough to prefilter on (text holding the literal holds them), and code units
 * past the first few hundred share the last column; both only let more rules through to their full test.
 */
const SCANNED_UNITS = 64;
const WIDE_COLUMNS = 512;

export class Scanner {
  private readonly wide = new Map<number, number>();
  private readonly other: number;
  private readonly width: number;
  private readonly next: Int32Array;
  private readonly outStart: Int32Array;
  private readonly outIds: Int32Array;
  /** Table offset of the first state that ends a literal. */
  private readonly outputFrom: number;

  /** The literals must be lowercase (`toLowerCase()` of themselves). */
  constructor(all: readonly { literal: string; id: number }[]) {
    const literals = all.map(({ literal, id }) => ({ literal: literal.slice(0, SCANNED_UNITS), id }));
    for (const { literal } of literals) {
      for (let i = 0; i < literal.length; i += 1) {
        const unit = literal.charCodeAt(i);
        if (unit >= 128 && !this.wide.has(unit) && this.wide.size < WIDE_COLUMNS) this.wide.set(unit, 128 + this.wide.size);
      }
    }
    this.other = 128 + this.wide.size;
    const width = this.other + 1;
    // The trie.
    const children: Map<number, number>[] = [new Map()];
    const outputs: number[][] = [[]];
    for (const { literal, id } of literals) {
      let state = 0;
      for (let i = 0; i < literal.length; i += 1) {
        const column = this.column(literal.charCodeAt(i));
        let child = children[state]!.get(column);
        if (child === undefined) {
          child = children.length;
          children.push(new Map());
          outputs.push([]);
          children[state]!.set(column, child);
        }
        state = child;
      }
      outputs[state]!.push(id);
    }
    // Breadth first: each state's fallback is a shorter state, already complete.
    const next = new Int32Array(children.length * width);
    const fail = new Int32Array(children.length);
    const queue: number[] = [];
    for (const [column, child] of children[0]!) {
      next[column] = child;
      queue.push(child);
    }
    for (let head = 0; head < queue.length; head += 1) {
      const state = queue[head]!;
      const fallback = fail[state]!;
      outputs[state]!.push(...outputs[fallback]!);
      for (let column = 0; column < width; column += 1) {
        const child = children[state]!.get(column);
        if (child === undefined) {
          next[state * width + column] = next[fallback * width + column]!;
        } else {
          next[state * width + column] = child;
          fail[child] = next[fallback * width + column]!;
          queue.push(child);
        }
      }
    }
    // ASCII case folding: A–Z move as a–z do (the literals hold no uppercase).
    for (let state = 0; state < children.length; state += 1) {
      for (let unit = 65; unit <= 90; unit += 1) next[state * width + unit] = next[state * width + unit + 32]!;
    }
    // Renumbered so the states that end a literal come last, each entry premultiplied by the width:
    // the scan then reads one table entry per character and tests one bound for output.
    const states = children.length;
    const ends = (state: number) => outputs[state]!.length > 0;
    // The root stays first, where a scan starts.
    const order = [0, ...[...Array(states).keys()].slice(1).filter((state) => !ends(state)), ...[...Array(states).keys()].slice(1).filter(ends)];
    const renamed = new Int32Array(states);
    order.forEach((old, state) => (renamed[old] = state));
    this.width = width;
    this.next = new Int32Array(states * width);
    for (let state = 0; state < states; state += 1) {
      const from = order[state]! * width;
      for (let column = 0; column < width; column += 1) this.next[state * width + column] = renamed[next[from + column]!]! * width;
    }
    const firstEnd = ends(0) ? 0 : order.findIndex(ends);
    this.outputFrom = (firstEnd < 0 ? states : firstEnd) * width;
    this.outStart = new Int32Array(states + 1);
    const flat: number[] = [];
    order.forEach((old, state) => {
      this.outStart[state] = flat.length;
      flat.push(...new Set(outputs[old]));
    });
    this.outStart[states] = flat.length;
    this.outIds = Int32Array.from(flat);
  }

  /** Entries in the transition table (states × columns). */
  get tableSize(): number {
    return this.next.length;
  }

  private column(unit: number): number {
    return unit < 128 ? unit : this.wide.get(unit) ?? this.other;
  }

  /**
   * Finds the literals that occur in `text.toLowerCase()`: each one not yet found in this generation
   * is stamped in `found` and appended to `hits` from `count` on; returns the new count. ASCII text is
   * read as is; text beyond ASCII is lowercased first, as lowercasing it may change its length.
   */
  scanLower(text: string, found: Int32Array, generation: number, hits: Int32Array, count: number): number {
    const { next, outputFrom } = this;
    let at = 0;
    for (let i = 0; i < text.length; i += 1) {
      const unit = text.charCodeAt(i);
      if (unit >= 128) return this.scanWide(toLower(text), found, generation, hits, count);
      at = next[at + unit]!;
      if (at >= outputFrom) count = this.report(at, found, generation, hits, count);
    }
    return count;
  }

  private report(at: number, found: Int32Array, generation: number, hits: Int32Array, count: number): number {
    const state = (at / this.width) | 0;
    const end = this.outStart[state + 1]!;
    for (let k = this.outStart[state]!; k < end; k += 1) {
      const id = this.outIds[k]!;
      if (found[id] === generation) continue;
      found[id] = generation;
      hits[count++] = id;
    }
    return count;
  }

  /** The same over lowercased text with units beyond ASCII (literals already found stay found). */
  private scanWide(text: string, found: Int32Array, generation: number, hits: Int32Array, count: number): number {
    const { next, outputFrom } = this;
    let at = 0;
    for (let i = 0; i < text.length; i += 1) {
      at = next[at + this.column(text.charCodeAt(i))]!;
      if (at >= outputFrom) count = this.report(at, found, generation, hits, count);
    }
    return count;
  }
}
