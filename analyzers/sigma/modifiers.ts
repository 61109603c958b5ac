/**
 * Sigma value modifiers (Sigma 2.1 modifiers appendix) as a lookup table: each one is a
 * transformation of the rule's values (contains, base64, windash…) or sets how the values are
 * compared (re, cidr, lt, hour…). They run once, when a rule is compiled.
 */
import { ANY, parseWildcards, plainText, type PatternToken } from './pattern.js';

/** A rule value on its way through the modifiers. `raw` is the text as written, until a transformation changes it. */
export type ValueItem =
  | { kind: 'pattern'; tokens: PatternToken[]; raw?: string; bytes?: boolean }
  | { kind: 'number'; value: number }
  | { kind: 'bool'; value: boolean }
  | { kind: 'null' };

export type CompareOp = 'lt' | 'lte' | 'gt' | 'gte';
export type TimePart = 'minute' | 'hour' | 'day' | 'week' | 'month' | 'year';

/** How values are compared once the transformations are done. */
export interface ValueMode {
  all: boolean;
  cased: boolean;
  neq: boolean;
  type: 'pattern' | 'exists' | 're' | 'cidr' | 'fieldref' | 'compare';
  reFlags: string;
  compare?: CompareOp;
  timePart?: TimePart;
  /** Set by contains/startswith/endswith/re: keyword searches then keep the value as given. */
  anchoredByModifier: boolean;
  /** With fieldref: how the field compares with the referenced one (`fieldref|endswith`…); equality when absent. */
  fieldrefMatch?: 'contains' | 'startswith' | 'endswith';
}

export class ModifierError extends Error {}

export interface ModifierContext {
  placeholders: Record<string, string[]>;
}

type Transform = (items: ValueItem[], context: ModifierContext) => ValueItem[];
type Modifier = { transform: Transform } | { mode: (mode: ValueMode) => void };

const WINDASH = ['-', '/', '\u2013', '\u2014', '\u2015'];
// As pySigma: a dash that starts a flag (no word character before it, one after).
const WINDASH_AT = /(?<![\w])[-/\u2013\u2014\u2015](?=\w)/g;

export const MODIFIERS: Record<string, Modifier> = {
  contains: { transform: (items) => items.map((i) => wrap(i, true, true)) },
  startswith: { transform: (items) => items.map((i) => wrap(i, false, true)) },
  endswith: { transform: (items) => items.map((i) => wrap(i, true, false)) },
  windash: { transform: (items) => items.flatMap(windash) },
  base64: { transform: (items) => items.map((i) => plain(i, 'base64', (text, bytes) => toBase64(text, bytes))) },
  base64offset: { transform: (items) => items.flatMap(base64offset) },
  utf16le: { transform: (items) => items.map((i) => plain(i, 'utf16le', (t) => utf16(t, 'le'), true)) },
  wide: { transform: (items) => items.map((i) => plain(i, 'wide', (t) => utf16(t, 'le'), true)) },
  utf16be: { transform: (items) => items.map((i) => plain(i, 'utf16be', (t) => utf16(t, 'be'), true)) },
  utf16: { transform: (items) => items.map((i) => plain(i, 'utf16', (t) => '\xff\xfe' + utf16(t, 'le'), true)) },
  expand: { transform: (items, context) => items.flatMap((i) => expand(i, context)) },
  all: { mode: (m) => (m.all = true) },
  cased: { mode: (m) => (m.cased = true) },
  neq: { mode: (m) => (m.neq = true) },
  exists: { mode: (m) => setType(m, 'exists') },
  re: { mode: (m) => { setType(m, 're'); m.anchoredByModifier = true; } },
  i: { mode: (m) => reFlag(m, 'i') },
  m: { mode: (m) => reFlag(m, 'm') },
  s: { mode: (m) => reFlag(m, 's') },
  cidr: { mode: (m) => setType(m, 'cidr') },
  fieldref: { mode: (m) => setType(m, 'fieldref') },
  lt: { mode: (m) => compare(m, 'lt') },
  lte: { mode: (m) => compare(m, 'lte') },
  gt: { mode: (m) => compare(m, 'gt') },
  gte: { mode: (m) => compare(m, 'gte') },
  minute: { mode: (m) => timePart(m, 'minute') },
  hour: { mode: (m) => timePart(m, 'hour') },
  day: { mode: (m) => timePart(m, 'day') },
  week: { mode: (m) => timePart(m, 'week') },
  month: { mode: (m) => timePart(m, 'month') },
  year: { mode: (m) => timePart(m, 'year') },
};

/** Runs the modifiers in the order written; throws ModifierError naming the one that cannot apply. */
export function applyModifiers(names: readonly string[], values: ValueItem[], context: ModifierContext): { items: ValueItem[]; mode: ValueMode } {
  const mode: ValueMode = { all: false, cased: false, neq: false, type: 'pattern', reFlags: '', anchoredByModifier: false };
  let items = values;
  // Placeholders stand for whole values: expanding them first lets `contains|expand` (SigmaHQ writes it) wrap what they hold.
  const ordered = names.includes('expand') ? ['expand', ...names.filter((n) => n !== 'expand')] : names;
  const fieldref = names.includes('fieldref');
  for (const name of ordered) {
    const modifier = MODIFIERS[name];
    if (!modifier) throw new ModifierError(`未知修饰符 unknown modifier "${name}" (known: ${Object.keys(MODIFIERS).join(', ')})`);
    if (fieldref && (name === 'contains' || name === 'startswith' || name === 'endswith')) {
      // `fieldref|endswith`: the value names a field; the comparison, not the name, changes.
      if (mode.fieldrefMatch) throw new ModifierError(`"${name}" cannot follow "${mode.fieldrefMatch}"`);
      mode.fieldrefMatch = name;
      continue;
    }
    if ('transform' in modifier) {
      if (mode.type !== 'pattern') throw new ModifierError(`"${name}" cannot follow "${mode.type}"`);
      items = modifier.transform(items, context);
      if (name === 'contains' || name === 'startswith' || name === 'endswith') mode.anchoredByModifier = true;
    } else {
      modifier.mode(mode);
    }
  }
  return { items, mode };
}

export function toItem(value: unknown): ValueItem | undefined {
  if (typeof value === 'string') return { kind: 'pattern', tokens: parseWildcards(value), raw: value };
  if (typeof value === 'number' && Number.isFinite(value)) return { kind: 'number', value };
  if (typeof value === 'boolean') return { kind: 'bool', value };
  if (value === null) return { kind: 'null' };
  return undefined;
}

/** Numbers and booleans compare as their text, as the field values of most logs are text. */
export function asPattern(item: ValueItem, modifier: string): Extract<ValueItem, { kind: 'pattern' }> {
  if (item.kind === 'pattern') return item;
  if (item.kind === 'number' || item.kind === 'bool') {
    const raw = String(item.value);
    return { kind: 'pattern', tokens: [raw], raw };
  }
  throw new ModifierError(`"${modifier}" cannot apply to null`);
}

function setType(mode: ValueMode, type: ValueMode['type']): void {
  if (mode.type !== 'pattern') throw new ModifierError(`"${type}" cannot be combined with "${mode.type}"`);
  mode.type = type;
}

function reFlag(mode: ValueMode, flag: string): void {
  if (mode.type !== 're') throw new ModifierError(`"${flag}" is a sub-modifier of "re" and must follow it`);
  if (!mode.reFlags.includes(flag)) mode.reFlags += flag;
}

function compare(mode: ValueMode, op: CompareOp): void {
  if (mode.compare) throw new ModifierError(`"${op}" cannot follow "${mode.compare}"`);
  if (mode.type !== 'compare') setType(mode, 'compare');
  mode.compare = op;
}

function timePart(mode: ValueMode, part: TimePart): void {
  if (mode.timePart) throw new ModifierError(`"${part}" cannot follow "${mode.timePart}"`);
  if (mode.type !== 'pattern' && mode.type !== 'compare') throw new ModifierError(`"${part}" cannot be combined with "${mode.type}"`);
  mode.timePart = part;
  // A time part alone compares for equality; lt/gt/… may still follow.
  if (mode.type === 'pattern') mode.type = 'compare';
}

function wrap(item: ValueItem, before: boolean, after: boolean): ValueItem {
  const pattern = asPattern(item, 'contains');
  const tokens = [...pattern.tokens];
  if (before && tokens[0] !== ANY) tokens.unshift(ANY);
  if (after && tokens[tokens.length - 1] !== ANY) tokens.push(ANY);
  return { kind: 'pattern', tokens, ...(pattern.bytes ? { bytes: true } : {}) };
}

/** Encoders work on whole text: a wildcard inside the value would be encoded as a character. */
function plain(item: ValueItem, modifier: string, encode: (text: string, bytes: boolean) => string, toBytes = false): ValueItem {
  const pattern = asPattern(item, modifier);
  const text = plainText(pattern.tokens);
  if (text === undefined) throw new ModifierError(`"${modifier}" cannot encode a value with wildcards`);
  return { kind: 'pattern', tokens: [encode(text, pattern.bytes ?? false)], ...(toBytes ? { bytes: true } : {}) };
}

/** `bytes` strings hold one byte per character (what the utf16 encoders produce); others are UTF-8 text. */
function toBase64(text: string, bytes: boolean): string {
  return Buffer.from(text, bytes ? 'latin1' : 'utf8').toString('base64');
}

function utf16(text: string, order: 'le' | 'be'): string {
  const buffer = Buffer.from(text, 'utf16le');
  if (order === 'be') buffer.swap16();
  return buffer.toString('latin1');
}

/** pySigma's base64offset: the value shifted by 0, 1 and 2 bytes, keeping only the stable middle. */
function base64offset(item: ValueItem): ValueItem[] {
  const pattern = asPattern(item, 'base64offset');
  const text = plainText(pattern.tokens);
  if (text === undefined) throw new ModifierError('"base64offset" cannot encode a value with wildcards');
  const value = Buffer.from(text, pattern.bytes ? 'latin1' : 'utf8');
  const starts = [0, 2, 3];
  const ends = [0, -3, -2];
  const out: ValueItem[] = [];
  for (let shift = 0; shift < 3; shift += 1) {
    const encoded = Buffer.concat([Buffer.alloc(shift, ' '), value]).toString('base64');
    const end = ends[(value.length + shift) % 3]!;
    out.push({ kind: 'pattern', tokens: [encoded.slice(starts[shift]!, end === 0 ? undefined : end)] });
  }
  return out;
}

/** Every combination of the five dash characters at each flag position. */
function windash(item: ValueItem): ValueItem[] {
  const pattern = asPattern(item, 'windash');
  let results: PatternToken[][] = [[]];
  for (const token of pattern.tokens) {
    const variants: PatternToken[] = typeof token === 'string' ? dashVariants(token) : [token];
    results = results.flatMap((prefix) => variants.map((v): PatternToken[] => [...prefix, v]));
  }
  return results.map((tokens) => ({ kind: 'pattern', tokens }));
}

function dashVariants(text: string): string[] {
  const positions = [...text.matchAll(WINDASH_AT)].map((m) => m.index!);
  if (positions.length > 4) throw new ModifierError(`"windash" on a value with ${positions.length} dashes gives too many variants`);
  let variants = [text];
  for (const at of positions) {
    variants = variants.flatMap((v) => WINDASH.map((dash) => v.slice(0, at) + dash + v.slice(at + 1)));
  }
  return variants;
}

/** `%name%` → each value of the placeholder (themselves Sigma patterns); `\%` is a plain percent sign. */
function expand(item: ValueItem, context: ModifierContext): ValueItem[] {
  const pattern = asPattern(item, 'expand');
  const raw = pattern.raw;
  if (raw === undefined) throw new ModifierError('"expand" must come before modifiers that change the value');
  const parts = raw.split(/(?<!\\)(%[^%]+%)/);
  let results = [''];
  for (const part of parts) {
    const name = /^%([^%]+)%$/.exec(part)?.[1];
    if (name === undefined) {
      const text = part.replace(/\\%/g, '%');
      results = results.map((r) => r + text);
      continue;
    }
    const values = context.placeholders[name];
    if (!values) throw new ModifierError(`占位符未定义 placeholder %${name}% has no values (set it in the analyze.placeholders file, the inventory's placeholders, or rules --placeholders)`);
    results = results.flatMap((r) => values.map((v) => r + v));
  }
  return results.map((text) => ({ kind: 'pattern', tokens: parseWildcards(text), raw: text }));
}

