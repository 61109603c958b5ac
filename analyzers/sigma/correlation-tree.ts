/**
 * A correlation section (plain YAML data) → the typed Correlation of rule-tree.ts, checked against
 * the Sigma correlation specification 2.1. Every problem is reported (path, message) and the result
 * is undefined then; the compiler (analyzers/correlation/compile.ts) only builds the test.
 */
import { isPlainObject } from '../../core/index.js';
import { COMPARISONS, CORRELATION_TYPES, type Comparison, type Correlation, type CorrelationType } from './rule-tree.js';
import { describeValue } from './describe-value.js';
import { parseTimespan } from './timespan.js';

const NEEDS_FIELD = new Set<CorrelationType>(['value_count', 'value_sum', 'value_avg', 'value_percentile']);

/** `section` is the document's `correlation` value, `topGenerate` its top-level `generate`. */
export function buildCorrelation(section: unknown, topGenerate: unknown, fail: (path: string, message: string) => void): Correlation | undefined {
  let failed = false;
  const report = (path: string, message: string) => {
    failed = true;
    fail(path, message);
  };
  if (!isPlainObject(section)) {
    report('correlation', 'correlation: expected a map with type, rules, timespan (correlation 需为映射)');
    return undefined;
  }

  const type = section.type;
  if (!CORRELATION_TYPES.includes(type as CorrelationType)) {
    report('correlation.type', `correlation.type: expected one of ${CORRELATION_TYPES.join(', ')}, got ${describeValue(type)}`);
  }
  const rules = stringList(section.rules);
  if (!rules || rules.length === 0) report('correlation.rules', 'correlation.rules: expected a non-empty list of rule ids or names');
  else if (new Set(rules).size !== rules.length) report('correlation.rules', 'correlation.rules: a rule is listed twice');
  const groupBy = section['group-by'] === undefined ? [] : stringList(section['group-by']);
  if (!groupBy) report('correlation.group-by', 'correlation.group-by: expected a list of field names');

  const timespanMs = parseTimespan(section.timespan);
  if (timespanMs === undefined) {
    report('correlation.timespan', `correlation.timespan: expected a number and s, m, h, d or w such as 5m or 1h, at most a year, got ${describeValue(section.timespan)}`);
  }

  const aliases: Record<string, Record<string, string>> = {};
  if (section.aliases !== undefined) {
    if (!isPlainObject(section.aliases)) report('correlation.aliases', 'correlation.aliases: expected a map alias → {rule name: field}');
    else {
      for (const [alias, mapping] of Object.entries(section.aliases)) {
        const fields = isPlainObject(mapping) ? Object.entries(mapping) : undefined;
        if (!fields || fields.some(([, field]) => typeof field !== 'string')) {
          report(`correlation.aliases.${alias}`, `correlation.aliases.${alias}: expected a map of rule name → field name`);
          continue;
        }
        const unknown = fields.find(([ref]) => !rules?.includes(ref));
        if (unknown) report(`correlation.aliases.${alias}`, `correlation.aliases.${alias}: ${unknown[0]} is not one of correlation.rules`);
        aliases[alias] = Object.fromEntries(fields) as Record<string, string>;
      }
    }
  }

  const condition = section.condition;
  const comparisons: [Comparison, number][] = [];
  let fields: string[] = [];
  let percentile = 50;
  if (condition === undefined) {
    if (type !== 'temporal' && type !== 'temporal_ordered') report('correlation', `correlation.condition: required for ${String(type)}`);
  } else if (!isPlainObject(condition)) {
    report('correlation.condition', 'correlation.condition: expected a map such as {gte: 5}');
  } else {
    for (const [key, value] of Object.entries(condition)) {
      const where = `correlation.condition.${key}`;
      if (COMPARISONS.includes(key as Comparison)) {
        if (typeof value === 'number' && Number.isFinite(value)) comparisons.push([key as Comparison, value]);
        else report(where, `${where}: expected a number, got ${describeValue(value)}`);
      } else if (key === 'field') {
        const list = typeof value === 'string' ? [value] : stringList(value);
        if (!list || list.length === 0) report(where, `${where}: expected a field name or a list of them`);
        else fields = list;
      } else if (key === 'percentile') {
        if (typeof value === 'number' && value >= 0 && value <= 100) percentile = value;
        else report(where, `${where}: expected a number from 0 to 100`);
      } else {
        report(where, `${where}: unknown key; expected gt, gte, lt, lte, eq, neq, field or percentile`);
      }
    }
    if (comparisons.length === 0) report('correlation.condition', 'correlation.condition: needs one of gt, gte, lt, lte, eq, neq');
  }
  if (NEEDS_FIELD.has(type as CorrelationType) && fields.length === 0) {
    report('correlation.condition', `correlation.condition.field: required for ${String(type)}`);
  }
  if (type !== 'value_count' && fields.length > 1) {
    report('correlation.condition.field', `correlation.condition.field: ${String(type)} measures one field`);
  }
  const generate = section.generate ?? topGenerate ?? false;
  if (typeof generate !== 'boolean') report('generate', 'generate: expected true or false');

  const lowerBoundsOnly = comparisons.every(([op]) => op === 'gt' || op === 'gte');
  if (type === 'temporal_ordered' && comparisons.length > 0) {
    // Spec: backends must refuse what they cannot honour. "k of the listed rules, in order" is not defined.
    report('correlation.condition', 'correlation.condition: temporal_ordered needs every listed rule in order; a condition is not supported');
  }
  if (type === 'temporal' && !lowerBoundsOnly) {
    report('correlation.condition', 'correlation.condition: temporal supports gt/gte (how many of the rules appeared)');
  }
  if (failed) return undefined;
  return {
    type: type as CorrelationType,
    rules: rules!,
    groupBy: groupBy!,
    timespanMs: timespanMs!,
    comparisons,
    fields,
    percentile,
    aliases,
    generate: generate as boolean,
  };
}

function stringList(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((item) => typeof item === 'string' && item.length > 0) ? (value as string[]) : undefined;
}
