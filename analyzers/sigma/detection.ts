/**
 * Compiles a Sigma `detection` section into one plain function of the event. Field paths, wildcard
 * patterns, regexes, CIDR ranges and lowercase constants are all prepared here; the function that
 * comes out only reads fields and compares.
 */
import { BlockList, isIP } from 'node:net';
import { identifiersFor, type ConditionNode } from './condition.js';
import { DetectionError } from './detection-error.js';
import { buildDetection } from './detection-tree.js';
import {
  applyModifiers, asPattern, ModifierError, toItem, type TimePart, type ValueItem, type ValueMode,
} from './modifiers.js';
import { ANY, compilePattern, type PatternToken, type StringTest } from './pattern.js';
import { backtrackingRisk } from './regex-safety.js';
import type { Detection, FieldMatcher, Search } from './rule-tree.js';

export type EventRecord = Record<string, unknown>;
export type EventPredicate = (event: EventRecord) => boolean;

export interface DetectionContext {
  /** Sigma field name → the event paths it stands for (after field mapping); several mean "any of". */
  resolveField(name: string): readonly string[];
  /** Where keyword searches (lists of plain values) look. */
  keywordFields: readonly string[];
  placeholders: Record<string, string[]>;
  /** Zone of the minute/hour/day/week/month/year modifiers, minutes east of UTC. */
  timeOffsetMinutes: number;
}

export { DetectionError };

/**
 * One text an event must contain for a test to hold: `literal` (lowercase) is a substring of the
 * lowercased text of the field at `path` (of one element, for arrays). Found for many rules at once
 * by the rule set's prefilter (prefilter.ts).
 */
export interface Need {
  path: string;
  literal: string;
}

/** Necessary conditions in conjunctive form: when the test holds, every clause has a need that is met. */
export type Clause = readonly Need[];

/**
 * A compiled test with a rough cost, so AND/OR lists can try cheap tests first, and what it needs
 * (no clauses: nothing known, the test must always run).
 */
interface Test {
  run: EventPredicate;
  cost: number;
  needs: readonly Clause[];
}

const NOTHING_KNOWN: readonly Clause[] = [];

/** A detection compiled for a rule set: the predicate and its necessary conditions. */
export interface DetectionTest {
  run: EventPredicate;
  needs: readonly Clause[];
}

/** Compiles a detection written as plain data (logsource conditions of a mapping, tests): its shape is checked first. */
export function compileDetection(detection: Record<string, unknown>, context: DetectionContext, base = 'detection'): EventPredicate {
  return compileDetectionTest(buildDetection(detection, base), context).run;
}

/** Compiles a parsed detection (rule-tree.ts): shape problems were found at parse time; what is left depends on values and context. */
export function compileDetectionTest(detection: Detection, context: DetectionContext): DetectionTest {
  const compiled = new Map<string, Test>();
  for (const [name, search] of detection.searches) compiled.set(name, compileSearch(search, context));
  const identifiers = [...detection.searches.keys()];
  const path = `${detection.path}.condition`;
  const { run, needs } = anyOf(detection.conditionTrees.map((tree) => compileCondition(tree, compiled, identifiers, path)));
  return { run, needs };
}

function compileCondition(node: ConditionNode, compiled: Map<string, Test>, identifiers: string[], path: string): Test {
  switch (node.type) {
    case 'and':
      return allOf(node.items.map((item) => compileCondition(item, compiled, identifiers, path)));
    case 'or':
      return anyOf(node.items.map((item) => compileCondition(item, compiled, identifiers, path)));
    case 'not': {
      const inner = compileCondition(node.item, compiled, identifiers, path);
      return { run: (e) => !inner.run(e), cost: inner.cost, needs: NOTHING_KNOWN };
    }
    case 'ref': {
      const test = compiled.get(node.name);
      if (!test) throw new DetectionError(`condition 引用了不存在的标识符 refers to unknown search identifier "${node.name}"`, path);
      return test;
    }
    case 'of': {
      const names = identifiersFor(node.pattern, identifiers);
      if (names.length === 0) throw new DetectionError(`condition: "${node.pattern}" 没有匹配的标识符 matches no search identifier`, path);
      const tests = names.map((name) => compiled.get(name)!);
      if (node.count === 'all') return allOf(tests);
      if (node.count === 1) return anyOf(tests);
      const needed = node.count;
      const runs = tests.map((t) => t.run);
      return {
        run: (e) => {
          let hits = 0;
          for (const run of runs) if (run(e) && ++hits >= needed) return true;
          return false;
        },
        cost: tests.reduce((sum, t) => sum + t.cost, 0),
        // At least one of them holds.
        needs: eitherNeeds(tests),
      };
    }
  }
}

function compileSearch(search: Search, context: DetectionContext): Test {
  if (search.type === 'fields') return compileMap(search.matchers, context);
  const maps = search.maps.map((map) => compileMap(map.matchers, context));
  if (search.keywords.length === 0) return anyOf(maps);
  let keywords: Test;
  try {
    keywords = compileKeywords([], search.keywords, context, search.path);
  } catch (error) {
    if (error instanceof ModifierError) throw new DetectionError(error.message, search.path);
    throw error;
  }
  return anyOf([keywords, ...maps]);
}

function compileMap(matchers: readonly FieldMatcher[], context: DetectionContext): Test {
  return allOf(matchers.map(({ field, modifiers, values, path }) => {
    try {
      return field === '' ? compileKeywords(modifiers, values, context, path) : compileField(field, modifiers, values, context, path);
    } catch (error) {
      if (error instanceof ModifierError) throw new DetectionError(`${[field, ...modifiers].join('|')}: ${error.message}`, path);
      throw error;
    }
  }));
}

function toItems(values: unknown[], path: string): ValueItem[] {
  return values.map((value) => {
    const item = toItem(value);
    if (!item) throw new DetectionError(`不支持的值 unsupported value ${JSON.stringify(value)}: expected a string, number, boolean or null`, path);
    return item;
  });
}

function compileField(field: string, modifiers: string[], values: unknown[], context: DetectionContext, path: string): Test {
  if (values.length === 0) throw new DetectionError(`${field}: 值列表为空 empty list of values`, path);
  const { items, mode } = applyModifiers(modifiers, toItems(values, path), context);
  const paths = context.resolveField(field);
  const tests = paths.map((target) => valueTest(target, items, mode, context, path));
  const test = anyOf(tests);
  return mode.neq ? { run: (e) => !test.run(e), cost: test.cost, needs: NOTHING_KNOWN } : test;
}

/** Keywords: the values searched for anywhere in the keyword fields (the message), as substrings. */
function compileKeywords(modifiers: string[], values: unknown[], context: DetectionContext, path: string): Test {
  const { items, mode } = applyModifiers(modifiers, toItems(values, path), context);
  if (mode.type !== 'pattern' && mode.type !== 're') throw new DetectionError(`keyword search cannot use "${mode.type}"`, path);
  const searched = mode.type === 'pattern' && !mode.anchoredByModifier
    ? items.map((item) => {
      const pattern = asPattern(item, 'keyword');
      const tokens = [...pattern.tokens];
      if (tokens[0] !== ANY) tokens.unshift(ANY);
      if (tokens[tokens.length - 1] !== ANY) tokens.push(ANY);
      return { kind: 'pattern' as const, tokens };
    })
    : items;
  const tests = context.keywordFields.map((field) => valueTest(field, searched, mode, context, path));
  const test = anyOf(tests);
  return mode.neq ? { run: (e) => !test.run(e), cost: test.cost, needs: NOTHING_KNOWN } : test;
}

function valueTest(field: string, items: ValueItem[], mode: ValueMode, context: DetectionContext, path: string): Test {
  const get = sharedGetter(field);
  switch (mode.type) {
    case 'exists': {
      const [item] = items;
      if (items.length !== 1 || item?.kind !== 'bool') throw new DetectionError('exists 需要 true 或 false / exists takes true or false', path);
      const expected = item.value;
      return { run: (e) => (get(e) !== undefined) === expected, cost: 1, needs: NOTHING_KNOWN };
    }
    case 're':
      return stringTests(get, items.map((item) => regexTest(item, mode.reFlags, path)), mode.all, false, 20);
    case 'cidr':
      return stringTests(get, items.map((item) => cidrTest(item, path)), mode.all, false, 10);
    case 'fieldref':
      return fieldrefTests(get, items, mode, context, path);
    case 'compare':
      return compareTests(get, items, mode, context.timeOffsetMinutes, path);
    case 'pattern':
      return patternTests(field, get, items, mode);
  }
}

function patternTests(field: string, get: (e: EventRecord) => unknown, items: ValueItem[], mode: ValueMode): Test {
  const absent = items.some((i) => i.kind === 'null');
  const patterns = items.filter((i) => i.kind !== 'null').map((i) => asPattern(i, 'match'));
  const lower = !mode.cased;
  if (patterns.length === 0) return { run: (e) => get(e) == null, cost: 1, needs: NOTHING_KNOWN };
  const matchers = patterns.map((p) => ({ ...compilePattern(p.tokens, !lower), cost: p.tokens.length === 1 ? 2 : p.tokens.length <= 3 ? 3 : 10 }));
  let test: Test;
  if (mode.all) {
    test = stringTests(get, matchers.map((m) => m.test), true, lower, Math.max(...matchers.map((m) => m.cost)));
    // Every value must be found: each one that has a literal is a clause of its own.
    const literals = patterns.map((p) => requiredLiteral(p.tokens, mode.cased));
    test.needs = literals.filter((l): l is string => l !== undefined).map((literal) => [{ path: field, literal }]);
  } else {
    // Plain values on one field are looked up in a Set; the rest are tried one by one.
    const exact = new Set(matchers.filter((m) => m.exact !== undefined).map((m) => m.exact!));
    const others = matchers.filter((m) => m.exact === undefined).sort((a, b) => a.cost - b.cost).map((m) => m.test);
    const only = others[0];
    const one: StringTest = exact.size === 0 && others.length === 1 && only ? only
      : others.length === 0 ? (v) => exact.has(v)
        : (v) => {
          if (exact.has(v)) return true;
          for (const t of others) if (t(v)) return true;
          return false;
        };
    test = stringTests(get, [one], false, lower, others.length ? 3 + others.length : 2);
    // One of the values must be found: one clause, unless a value has no literal to look for.
    const literals = patterns.map((p) => requiredLiteral(p.tokens, mode.cased));
    if (literals.every((l): l is string => l !== undefined)) test.needs = [[...new Set(literals)].map((literal) => ({ path: field, literal }))];
  }
  if (!absent) return test;
  const present = test.run;
  return { run: (e) => get(e) == null || present(e), cost: test.cost, needs: NOTHING_KNOWN };
}

/**
 * The longest literal chunk of a pattern, as the prefilter looks for it: in the lowercased field.
 * Uncased values are compared lowercased, so any chunk will do; a cased chunk is found in the
 * lowercased text too when it is ASCII (lowercasing maps each ASCII character on its own).
 */
function requiredLiteral(tokens: readonly PatternToken[], cased: boolean): string | undefined {
  let best = '';
  for (const token of tokens) if (typeof token === 'string' && token.length > best.length) best = token;
  if (best === '') return undefined;
  if (cased && [...best].some((c) => c.charCodeAt(0) > 0x7f)) return undefined;
  return best.toLowerCase();
}

/** Applies string tests to a field value: text as is, numbers and booleans as text, arrays by any element. */
function stringTests(get: (e: EventRecord) => unknown, tests: StringTest[], all: boolean, lower: boolean, cost: number): Test {
  const [only] = tests;
  const needs = NOTHING_KNOWN;
  if (tests.length === 1 && only) return { run: (e) => anyString(get(e), only, lower), cost, needs };
  if (all) {
    return {
      run: (e) => {
        const value = get(e);
        if (value === undefined) return false;
        for (const t of tests) if (!anyString(value, t, lower)) return false;
        return true;
      },
      cost,
      needs,
    };
  }
  return {
    run: (e) => {
      const value = get(e);
      if (value === undefined) return false;
      for (const t of tests) if (anyString(value, t, lower)) return true;
      return false;
    },
    cost,
    needs,
  };
}

function anyString(value: unknown, test: StringTest, lower: boolean): boolean {
  if (typeof value === 'string') return test(lower ? toLower(value) : value);
  if (typeof value === 'number' || typeof value === 'boolean') return test(String(value));
  if (Array.isArray(value)) {
    for (const element of value) if (anyString(element, test, lower)) return true;
  }
  return false;
}

// Many rules lowercase the same few strings of one event (the message, the command line): a small
// direct-mapped cache keeps the last lowercase per slot. Equal strings have equal lowercase, so a hit
// is always right, and nothing is allocated to look it up.
const CACHE_SLOTS = 32;
const cachedRaw: (string | undefined)[] = new Array<string | undefined>(CACHE_SLOTS).fill(undefined);
const cachedLower: string[] = new Array<string>(CACHE_SLOTS).fill('');

export function toLower(value: string): string {
  const slot = (value.length * 31 + (value.charCodeAt(0) | 0)) & (CACHE_SLOTS - 1);
  if (cachedRaw[slot] === value) return cachedLower[slot]!;
  const lower = value.toLowerCase();
  cachedRaw[slot] = value;
  cachedLower[slot] = lower;
  return lower;
}

// PCRE writes flags inline at the start, `(?i)`; JavaScript takes them as RegExp flags.
const INLINE_FLAGS = /^\(\?([ims]+)\)/;

function regexTest(item: ValueItem, flags: string, path: string): StringTest {
  if (item.kind !== 'pattern' || item.raw === undefined) throw new DetectionError('re 需要正则表达式字符串 re takes a regular expression string', path);
  let source = item.raw;
  let allFlags = flags;
  const inline = INLINE_FLAGS.exec(source);
  if (inline) {
    source = source.slice(inline[0].length);
    for (const flag of inline[1]!) if (!allFlags.includes(flag)) allFlags += flag;
  }
  let regex: RegExp;
  try {
    regex = new RegExp(source, allFlags);
  } catch (error) {
    throw new DetectionError(`无效正则 invalid regular expression ${JSON.stringify(item.raw)}: ${(error as Error).message}`, path);
  }
  const risk = backtrackingRisk(source, allFlags);
  if (risk) {
    throw new DetectionError(
      `正则可能灾难性回溯，拒绝加载 / regex refused, it can backtrack catastrophically (${risk}): ${JSON.stringify(item.raw)}`, path);
  }
  return (v) => regex.test(v);
}

function cidrTest(item: ValueItem, path: string): StringTest {
  const text = item.kind === 'pattern' ? item.raw : undefined;
  const [address = '', prefixText, extra] = (text ?? '').split('/');
  const family = isIP(address);
  const prefix = prefixText === undefined ? (family === 6 ? 128 : 32) : Number(prefixText);
  if (!family || extra !== undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32)) {
    throw new DetectionError(`无效网段 invalid CIDR ${JSON.stringify(text ?? item)}`, path);
  }
  const list = new BlockList();
  list.addSubnet(address, prefix, family === 6 ? 'ipv6' : 'ipv4');
  return (v) => {
    const kind = isIP(v);
    return kind !== 0 && list.check(v, kind === 6 ? 'ipv6' : 'ipv4');
  };
}

function fieldrefTests(get: (e: EventRecord) => unknown, items: ValueItem[], mode: ValueMode, context: DetectionContext, path: string): Test {
  const others = items.flatMap((item) => {
    if (item.kind !== 'pattern' || item.raw === undefined) throw new DetectionError('fieldref 需要字段名 fieldref takes a field name', path);
    return context.resolveField(item.raw).map(sharedGetter);
  });
  const text = (v: unknown) => (typeof v === 'string' ? (mode.cased ? v : v.toLowerCase()) : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined);
  const compare = mode.fieldrefMatch === 'contains' ? (a: string, b: string) => a.includes(b)
    : mode.fieldrefMatch === 'startswith' ? (a: string, b: string) => a.startsWith(b)
      : mode.fieldrefMatch === 'endswith' ? (a: string, b: string) => a.endsWith(b)
        : (a: string, b: string) => a === b;
  const matches = (e: EventRecord, other: (e: EventRecord) => unknown) => {
    const a = text(get(e));
    const b = a === undefined ? undefined : text(other(e));
    return a !== undefined && b !== undefined && compare(a, b);
  };
  return {
    run: mode.all ? (e) => others.every((o) => matches(e, o)) : (e) => others.some((o) => matches(e, o)),
    cost: 3,
    needs: NOTHING_KNOWN,
  };
}

function compareTests(get: (e: EventRecord) => unknown, items: ValueItem[], mode: ValueMode, offsetMinutes: number, path: string): Test {
  const limits = items.map((item) => {
    const n = item.kind === 'number' ? item.value : item.kind === 'pattern' && item.raw !== undefined && item.raw.trim() !== '' ? Number(item.raw) : NaN;
    if (Number.isNaN(n)) throw new DetectionError(`需要数字 expected a number, got ${JSON.stringify(item.kind === 'pattern' ? item.raw : item)}`, path);
    return n;
  });
  const op = mode.compare;
  const holds = (x: number, limit: number) =>
    op === 'lt' ? x < limit : op === 'lte' ? x <= limit : op === 'gt' ? x > limit : op === 'gte' ? x >= limit : x === limit;
  const part = mode.timePart;
  const read = part ? (v: unknown) => timePartOf(v, part, offsetMinutes) : toNumber;
  const check = (value: unknown): boolean => {
    if (Array.isArray(value)) return value.some(check);
    const x = read(value);
    if (Number.isNaN(x)) return false;
    return mode.all ? limits.every((l) => holds(x, l)) : limits.some((l) => holds(x, l));
  };
  return { run: (e) => check(get(e)), cost: part ? 8 : 2, needs: NOTHING_KNOWN };
}

function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '') return Number(value);
  return NaN;
}

/** minute/hour/… of a date (ISO text or epoch milliseconds), in the configured zone. */
function timePartOf(value: unknown, part: TimePart, offsetMinutes: number): number {
  const ms = typeof value === 'number' ? value : typeof value === 'string' ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) return NaN;
  const date = new Date(ms + offsetMinutes * 60_000);
  switch (part) {
    case 'minute': return date.getUTCMinutes();
    case 'hour': return date.getUTCHours();
    case 'day': return date.getUTCDate();
    case 'month': return date.getUTCMonth() + 1;
    case 'year': return date.getUTCFullYear();
    case 'week': return isoWeek(date);
  }
}

function isoWeek(date: Date): number {
  const day = date.getUTCDay() || 7;
  const thursday = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + 4 - day);
  const yearStart = Date.UTC(new Date(thursday).getUTCFullYear(), 0, 1);
  return Math.ceil(((thursday - yearStart) / 86_400_000 + 1) / 7);
}

/**
 * Reads a dotted path from nested objects, the path split once. Where the nesting stops, a literal
 * dotted key (`{"process.name": …}` at the top or at that level) is tried, as core's getField reads
 * them; an event holding both spellings of one field gets the nested one.
 */
export function fieldGetter(path: string): (event: EventRecord) => unknown {
  // Generated per path so every property access has its own constant name: V8 then caches each
  // lookup by shape instead of taking the slow generic path a shared `node[key]` site ends up on.
  const parts = path.split('.');
  const key = (text: string) => JSON.stringify(text);
  const lines = ['let node = e;'];
  parts.forEach((part, i) => {
    if (i === parts.length - 1) {
      lines.push(`const value = node[${key(part)}];`, `return value !== undefined ? value : e[${key(path)}];`);
      return;
    }
    const rest = parts.slice(i).join('.');
    lines.push(
      `const n${i} = node[${key(part)}];`,
      `if (n${i} === null || typeof n${i} !== 'object') { ${i === 0 ? '' : `const l${i} = node[${key(rest)}]; if (l${i} !== undefined) return l${i};`} return e[${key(path)}]; }`,
      `node = n${i};`,
    );
  });
  return new Function('e', lines.join('\n')) as (event: EventRecord) => unknown;
}

/**
 * Within one `match` of a rule set, many rules read the same fields of the same event. Getters are
 * shared per path and remember their last value for the current match scope only (scope 0: off, so
 * predicates used on their own never see a stale value).
 */
let scope = 0;
let lastScope = 0;

/** Starts the scope of one event's match; close it before the next event. */
export function openEventScope(): void {
  lastScope = lastScope >= Number.MAX_SAFE_INTEGER ? 1 : lastScope + 1;
  scope = lastScope;
}

export function closeEventScope(): void {
  scope = 0;
}

const sharedGetters = new Map<string, (event: EventRecord) => unknown>();

export function sharedGetter(path: string): (event: EventRecord) => unknown {
  let getter = sharedGetters.get(path);
  if (!getter) {
    const read = fieldGetter(path);
    let seenScope = 0;
    let seenValue: unknown;
    getter = (e) => {
      if (scope !== 0 && seenScope === scope) return seenValue;
      const value = read(e);
      seenScope = scope;
      seenValue = value;
      return value;
    };
    sharedGetters.set(path, getter);
  }
  return getter;
}

function allOf(tests: Test[]): Test {
  const sorted = [...tests].sort((a, b) => a.cost - b.cost);
  const cost = sorted.reduce((sum, t) => sum + t.cost, 0);
  // All of them hold: every clause of each is necessary.
  const needs = sorted.flatMap((t) => t.needs);
  const [a, b] = sorted;
  if (sorted.length === 1 && a) return a;
  if (sorted.length === 2 && a && b) {
    const ra = a.run;
    const rb = b.run;
    return { run: (e) => ra(e) && rb(e), cost, needs };
  }
  const runs = sorted.map((t) => t.run);
  return {
    run: (e) => {
      for (const run of runs) if (!run(e)) return false;
      return true;
    },
    cost,
    needs,
  };
}

/**
 * What is needed when at least one of the tests holds: one clause joining a clause of each (the
 * first, the shortest), or nothing known when one of them needs nothing.
 */
function eitherNeeds(tests: readonly Test[]): readonly Clause[] {
  const joined: Need[] = [];
  for (const test of tests) {
    if (test.needs.length === 0) return NOTHING_KNOWN;
    let shortest = test.needs[0]!;
    for (const clause of test.needs) if (clause.length < shortest.length) shortest = clause;
    joined.push(...shortest);
  }
  return joined.length ? [joined] : NOTHING_KNOWN;
}

function anyOf(tests: Test[]): Test {
  const sorted = [...tests].sort((a, b) => a.cost - b.cost);
  const cost = sorted.reduce((sum, t) => sum + t.cost, 0);
  const [a, b] = sorted;
  if (sorted.length === 0) return { run: () => false, cost: 0, needs: NOTHING_KNOWN };
  if (sorted.length === 1 && a) return a;
  const needs = eitherNeeds(sorted);
  if (sorted.length === 2 && a && b) {
    const ra = a.run;
    const rb = b.run;
    return { run: (e) => ra(e) || rb(e), cost, needs };
  }
  const runs = sorted.map((t) => t.run);
  return {
    run: (e) => {
      for (const run of runs) if (run(e)) return true;
      return false;
    },
    cost,
    needs,
  };
}
