/**
 * An exact prefilter for a rule set. Each rule knows texts it cannot match without (detection.ts
 * `needs`: in every clause, some literal must be a substring of a field, lowercased). All literals of
 * one field go into one Aho–Corasick automaton, so a single pass over the field's text tells which of
 * them occur, for every rule at once; a rule is only run when each of its clauses has a literal that
 * occurs. It skips only rules that cannot match, so results are the same with or without it.
 */
import { sharedGetter, toLower, type Clause, type EventRecord } from './detection.js';

/** A rule's clauses as literal ids; an empty list admits every event. */
export type CompiledNeeds = readonly Int32Array[];

export class Prefilter {
  private readonly literalIds = new Map<string, number>();
  private readonly literalsByPath = new Map<string, { literal: string; id: number }[]>();
  private fieldOf = new Int32Array(0);
  private readonly fields: { read: (event: EventRecord) => unknown; scanner: Scanner }[] = [];
  /** Per field: the generation of the event last scanned; per literal: of the event it was last found in. */
  private scanned = new Int32Array(0);
  private found = new Int32Array(0);
  private generation = 0;
  private built = false;

  /** Adds a rule's needs; call before build(). */
  add(needs: readonly Clause[]): CompiledNeeds {
    if (this.built) throw new Error('Prefilter.add after build');
    return needs.map((clause) => Int32Array.from(new Set(clause.map(({ path, literal }) => {
      const key = `${path}\u0000${literal}`;
      let id = this.literalIds.get(key);
      if (id === undefined) {
        id = this.literalIds.size;
        this.literalIds.set(key, id);
        let list = this.literalsByPath.get(path);
        if (!list) this.literalsByPath.set(path, (list = []));
        list.push({ literal, id });
      }
      return id;
    }))));
  }

  build(): void {
    this.built = true;
    this.fieldOf = new Int32Array(this.literalIds.size);
    for (const [path, literals] of this.literalsByPath) {
      for (const { id } of literals) this.fieldOf[id] = this.fields.length;
      this.fields.push({ read: sharedGetter(path), scanner: new Scanner(literals) });
    }
    this.scanned = new Int32Array(this.fields.length);
    this.found = new Int32Array(this.literalIds.size);
  }

  /** Starts a new event: nothing scanned, nothing found. */
  nextEvent(): void {
    if (this.generation === 0x7fffffff) {
      this.generation = 0;
      this.scanned.fill(0);
      this.found.fill(0);
    }
    this.generation += 1;
  }

  /** Whether the event may meet the needs (every clause has a literal that occurs); scans fields on first use. */
  admits(needs: CompiledNeeds, event: EventRecord): boolean {
    const generation = this.generation;
    for (let c = 0; c < needs.length; c += 1) {
      const clause = needs[c]!;
      let met = false;
      for (let i = 0; i < clause.length; i += 1) {
        const id = clause[i]!;
        const field = this.fieldOf[id]!;
        if (this.scanned[field] !== generation) this.scanField(field, event);
        if (this.found[id] === generation) {
          met = true;
          break;
        }
      }
      if (!met) return false;
    }
    return true;
  }

  private scanField(index: number, event: EventRecord): void {
    this.scanned[index] = this.generation;
    const field = this.fields[index]!;
    this.scanValue(field.read(event), field.scanner);
  }

  /** The texts the string tests see (detection.ts anyString), lowercased: strings, numbers and booleans, array elements. */
  private scanValue(value: unknown, scanner: Scanner): void {
    if (typeof value === 'string') scanner.scan(toLower(value), this.found, this.generation);
    else if (typeof value === 'number' || typeof value === 'boolean') scanner.scan(String(value).toLowerCase(), this.found, this.generation);
    else if (Array.isArray(value)) for (const element of value) this.scanValue(element, scanner);
  }
}

/**
 * Aho–Corasick as a full transition table: one column per ASCII code unit, read directly, then one
 * per other code unit the literals use and a last one for every other unit, so the scan is one table
 * lookup per character.
 */
export class Scanner {
  private readonly wide = new Map<number, number>();
  private readonly other: number;
  private readonly width: number;
  private readonly next: Int32Array;
  private readonly outStart: Int32Array;
  private readonly outIds: Int32Array;

  constructor(literals: readonly { literal: string; id: number }[]) {
    for (const { literal } of literals) {
      for (let i = 0; i < literal.length; i += 1) {
        const unit = literal.charCodeAt(i);
        if (unit >= 128 && !this.wide.has(unit)) this.wide.set(unit, 128 + this.wide.size);
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
    this.width = width;
    this.next = next;
    this.outStart = new Int32Array(children.length + 1);
    const flat: number[] = [];
    outputs.forEach((ids, state) => {
      this.outStart[state] = flat.length;
      flat.push(...ids);
    });
    this.outStart[children.length] = flat.length;
    this.outIds = Int32Array.from(flat);
  }

  private column(unit: number): number {
    return unit < 128 ? unit : this.wide.get(unit) ?? this.other;
  }

  /** Marks `found[id] = generation` for every literal that occurs in the text. */
  scan(text: string, found: Int32Array, generation: number): void {
    const { width, next, outStart, outIds } = this;
    let state = 0;
    for (let i = 0; i < text.length; i += 1) {
      const unit = text.charCodeAt(i);
      state = next[state * width + (unit < 128 ? unit : this.column(unit))]!;
      const end = outStart[state + 1]!;
      for (let at = outStart[state]!; at < end; at += 1) found[outIds[at]!] = generation;
    }
  }
}
