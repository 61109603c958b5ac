/**
 * A detection section (plain YAML data) → the typed Detection of rule-tree.ts, with every problem of
 * shape found here, before compiling: what a search identifier is, value types, empty lists and maps,
 * modifier names and their order, the condition's syntax and the identifiers it names. The messages
 * are the ones the compiler gave when it found them itself. What depends on values or on the field
 * mapping and placeholders (regexes, CIDR ranges, numbers, `expand`) is left to the compiler.
 */
import { isPlainObject } from '../../core/index.js';
import { ConditionError, identifiersFor, parseCondition, type ConditionNode } from './condition.js';
import { DetectionError } from './detection-error.js';
import { applyModifiers, ModifierError, MODIFIERS, toItem } from './modifiers.js';
import type { Detection, FieldMatcher, MatchValue, Search } from './rule-tree.js';
import { describeValue } from './describe-value.js';

const CONDITION_KEY = 'condition';

/** Throws DetectionError at the first problem, in the order the compiler met them (searches as written, then the condition). */
export function buildDetection(raw: Record<string, unknown>, base = 'detection'): Detection {
  const identifiers = Object.keys(raw).filter((key) => key !== CONDITION_KEY);
  const searches = new Map<string, Search>();
  for (const name of identifiers) searches.set(name, buildSearch(raw[name], `${base}.${name}`));
  const condition = raw[CONDITION_KEY];
  const conditions: unknown[] = Array.isArray(condition) ? condition : [condition];
  const path = `${base}.${CONDITION_KEY}`;
  if (conditions.length === 0 || conditions.some((c) => typeof c !== 'string' || c.trim() === '')) {
    throw new DetectionError('condition 必须是非空字符串或字符串列表 must be a non-empty string or a list of strings', path);
  }
  const texts = conditions as string[];
  const conditionTrees = texts.map((text) => {
    let tree: ConditionNode;
    try {
      tree = parseCondition(text);
    } catch (error) {
      if (error instanceof ConditionError) throw new DetectionError(`condition: ${error.message} (column ${error.column})`, path, error.column);
      throw error;
    }
    checkIdentifiers(tree, identifiers, path);
    return tree;
  });
  return { searches, condition: texts, conditionTrees, path: base };
}

/** Every identifier the condition names exists, and every `x of pattern` covers at least one. */
function checkIdentifiers(node: ConditionNode, identifiers: readonly string[], path: string): void {
  switch (node.type) {
    case 'and':
    case 'or':
      for (const item of node.items) checkIdentifiers(item, identifiers, path);
      return;
    case 'not':
      checkIdentifiers(node.item, identifiers, path);
      return;
    case 'ref':
      if (!identifiers.includes(node.name)) throw new DetectionError(`condition 引用了不存在的标识符 refers to unknown search identifier "${node.name}"`, path);
      return;
    case 'of':
      if (identifiersFor(node.pattern, identifiers).length === 0) throw new DetectionError(`condition: "${node.pattern}" 没有匹配的标识符 matches no search identifier`, path);
  }
}

function buildSearch(value: unknown, path: string): Search {
  if (isPlainObject(value)) return { type: 'fields', matchers: buildMap(value, path), path };
  if (Array.isArray(value)) {
    if (value.length === 0) throw new DetectionError('搜索标识符为空列表 search identifier is an empty list', path);
    const maps: { matchers: FieldMatcher[]; path: string }[] = [];
    value.forEach((item, i) => {
      if (isPlainObject(item)) maps.push({ matchers: buildMap(item, `${path}[${i}]`), path: `${path}[${i}]` });
    });
    const keywords = matchValues(value.filter((v) => !isPlainObject(v)), path);
    // A keyword is text searched for; a null in a keyword list has nothing to search (the compiler threw on it).
    if (keywords.includes(null)) throw new DetectionError('"keyword" cannot apply to null', path);
    return { type: 'any', keywords, maps, path };
  }
  if (typeof value === 'string' || typeof value === 'number') return { type: 'any', keywords: matchValues([value], path), maps: [], path };
  throw new DetectionError('搜索标识符必须是映射或列表 search identifier must be a map or a list', path);
}

function buildMap(map: Record<string, unknown>, path: string): FieldMatcher[] {
  const entries = Object.entries(map);
  if (entries.length === 0) throw new DetectionError('搜索标识符为空映射 search identifier is an empty map', path);
  return entries.map(([key, value]) => {
    const [field = '', ...modifiers] = key.split('|');
    const keyPath = `${path}.${key}`;
    const list: unknown[] = Array.isArray(value) ? value : [value];
    if (field !== '' && list.length === 0) throw new DetectionError(`${field}: 值列表为空 empty list of values`, keyPath);
    const values = matchValues(list, keyPath);
    checkModifiers(key, field, modifiers, values, keyPath);
    return { field, modifiers, values, path: keyPath };
  });
}

function matchValues(values: readonly unknown[], path: string): MatchValue[] {
  for (const value of values) {
    const ok = typeof value === 'string' || typeof value === 'boolean' || value === null || (typeof value === 'number' && Number.isFinite(value));
    if (!ok) throw new DetectionError(`不支持的值 unsupported value ${describeValue(value)}: expected a string, number, boolean or null`, path);
  }
  return values as MatchValue[];
}

/**
 * Modifier names and their order: the modifiers run on no values, so only how they combine is
 * tested (what a transformation makes of a value, and `expand`'s placeholders, are the compiler's).
 */
function checkModifiers(key: string, field: string, modifiers: readonly string[], values: readonly MatchValue[], path: string): void {
  let mode;
  try {
    ({ mode } = applyModifiers(modifiers, [], { placeholders: {} }));
  } catch (error) {
    if (error instanceof ModifierError) throw new DetectionError(`${key}: ${error.message}`, path);
    throw error;
  }
  if (field === '') {
    if (mode.type !== 'pattern' && mode.type !== 're') throw new DetectionError(`keyword search cannot use "${mode.type}"`, path);
    return;
  }
  const [only] = values;
  if (mode.type === 'exists' && (values.length !== 1 || typeof only !== 'boolean')) {
    throw new DetectionError('exists 需要 true 或 false / exists takes true or false', path);
  }
  // Value types of re, fieldref and comparisons, as written: a transformation in front changes the values, and the compiler judges those.
  if (modifiers.some((name) => MODIFIERS[name] && 'transform' in MODIFIERS[name])) return;
  for (const value of values) {
    if (mode.type === 're' && typeof value !== 'string') throw new DetectionError('re 需要正则表达式字符串 re takes a regular expression string', path);
    if (mode.type === 'fieldref' && typeof value !== 'string') throw new DetectionError('fieldref 需要字段名 fieldref takes a field name', path);
    if (mode.type === 'compare' && !(typeof value === 'number' || (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))))) {
      const item = toItem(value);
      throw new DetectionError(`需要数字 expected a number, got ${describeValue(item?.kind === 'pattern' ? item.raw : item)}`, path);
    }
  }
}
