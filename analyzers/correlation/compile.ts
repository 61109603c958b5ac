import { isPlainObject } from '../../core/index.js';
import type { RuleDocument, RuleProblem, RuleRef } from '../types.js';

export const CORRELATION_TYPES = [
  'event_count', 'value_count', 'temporal', 'temporal_ordered', 'value_sum', 'value_avg', 'value_percentile',
] as const;
export type CorrelationType = (typeof CORRELATION_TYPES)[number];

const COMPARISONS = ['gt', 'gte', 'lt', 'lte', 'eq', 'neq'] as const;
type Comparison = (typeof COMPARISONS)[number];
const NEEDS_FIELD = new Set<CorrelationType>(['value_count', 'value_sum', 'value_avg', 'value_percentile']);
const TIMESPAN_UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export interface CompiledCorrelation {
  rule: RuleRef;
  type: CorrelationType;
  /** Referenced rules, by id or name, in the listed order (temporal_ordered needs it). */
  rules: string[];
  /** Group-by names after aliasing; `fieldFor(name, ref)` gives the event field for a referenced rule. */
  groupBy: string[];
  aliases: Record<string, Record<string, string>>;
  timespanMs: number;
  /** The measured value passes when every comparison holds (a range is two comparisons, AND). */
  test: (value: number) => boolean;
  /** value_* types: the field(s) measured; value_count counts distinct tuples of them. */
  fields: string[];
  /** value_percentile: which percentile (0–100) is measured; 50 is the median. */
  percentile: number;
  /**
   * Eager: the value only grows as signals arrive and the condition is a lower bound, so a hit fires
   * as soon as it holds. Otherwise the condition is tested once, when the window closes.
   */
  eager: boolean;
  /** Sigma `generate`: the referenced rules also alert on their own (default: only the correlation). */
  generate: boolean;
  file: string;
  /** Line of `correlation.rules`, for problems found when correlations are linked. */
  line: number;
}

/** Checks a correlation document against the Sigma correlation specification 2.1 and compiles it. */
export function compileCorrelation(doc: RuleDocument, problems: RuleProblem[]): CompiledCorrelation | undefined {
  const before = problems.length;
  const fail = (path: string, message: string) =>
    problems.push({ file: doc.position.file, line: doc.lineOf(path), severity: 'error', message, ruleId: doc.id });
  const section = doc.body.correlation;
  if (!isPlainObject(section)) {
    fail('correlation', 'correlation: expected a map with type, rules, timespan (correlation 需为映射)');
    return undefined;
  }

  const type = section.type;
  if (!CORRELATION_TYPES.includes(type as CorrelationType)) {
    fail('correlation.type', `correlation.type: expected one of ${CORRELATION_TYPES.join(', ')}, got ${JSON.stringify(type)}`);
  }
  const rules = stringList(section.rules);
  if (!rules || rules.length === 0) fail('correlation.rules', 'correlation.rules: expected a non-empty list of rule ids or names');
  else if (new Set(rules).size !== rules.length) fail('correlation.rules', 'correlation.rules: a rule is listed twice');
  const groupBy = section['group-by'] === undefined ? [] : stringList(section['group-by']);
  if (!groupBy) fail('correlation.group-by', 'correlation.group-by: expected a list of field names');

  const timespanMs = parseTimespan(section.timespan);
  if (timespanMs === undefined) {
    fail('correlation.timespan', `correlation.timespan: expected a number and s, m, h, d or w such as 5m or 1h, got ${JSON.stringify(section.timespan)}`);
  }

  const aliases: Record<string, Record<string, string>> = {};
  if (section.aliases !== undefined) {
    if (!isPlainObject(section.aliases)) fail('correlation.aliases', 'correlation.aliases: expected a map alias → {rule name: field}');
    else {
      for (const [alias, mapping] of Object.entries(section.aliases)) {
        const fields = isPlainObject(mapping) ? Object.entries(mapping) : undefined;
        if (!fields || fields.some(([, field]) => typeof field !== 'string')) {
          fail(`correlation.aliases.${alias}`, `correlation.aliases.${alias}: expected a map of rule name → field name`);
          continue;
        }
        const unknown = fields.find(([ref]) => !rules?.includes(ref));
        if (unknown) fail(`correlation.aliases.${alias}`, `correlation.aliases.${alias}: ${unknown[0]} is not one of correlation.rules`);
        aliases[alias] = Object.fromEntries(fields) as Record<string, string>;
      }
    }
  }

  const condition = section.condition;
  const comparisons: [Comparison, number][] = [];
  let fields: string[] = [];
  let percentile = 50;
  if (condition === undefined) {
    if (type !== 'temporal' && type !== 'temporal_ordered') fail('correlation', `correlation.condition: required for ${String(type)}`);
  } else if (!isPlainObject(condition)) {
    fail('correlation.condition', 'correlation.condition: expected a map such as {gte: 5}');
  } else {
    for (const [key, value] of Object.entries(condition)) {
      const where = `correlation.condition.${key}`;
      if (COMPARISONS.includes(key as Comparison)) {
        if (typeof value === 'number' && Number.isFinite(value)) comparisons.push([key as Comparison, value]);
        else fail(where, `${where}: expected a number, got ${JSON.stringify(value)}`);
      } else if (key === 'field') {
        const list = typeof value === 'string' ? [value] : stringList(value);
        if (!list || list.length === 0) fail(where, `${where}: expected a field name or a list of them`);
        else fields = list;
      } else if (key === 'percentile') {
        if (typeof value === 'number' && value >= 0 && value <= 100) percentile = value;
        else fail(where, `${where}: expected a number from 0 to 100`);
      } else {
        fail(where, `${where}: unknown key; expected gt, gte, lt, lte, eq, neq, field or percentile`);
      }
    }
    if (comparisons.length === 0) fail('correlation.condition', 'correlation.condition: needs one of gt, gte, lt, lte, eq, neq');
  }
  if (NEEDS_FIELD.has(type as CorrelationType) && fields.length === 0) {
    fail('correlation.condition', `correlation.condition.field: required for ${String(type)}`);
  }
  if (type !== 'value_count' && fields.length > 1) {
    fail('correlation.condition.field', `correlation.condition.field: ${String(type)} measures one field`);
  }
  const generate = section.generate ?? doc.body.generate ?? false;
  if (typeof generate !== 'boolean') fail('generate', 'generate: expected true or false');

  const lowerBoundsOnly = comparisons.every(([op]) => op === 'gt' || op === 'gte');
  if (type === 'temporal_ordered' && comparisons.length > 0) {
    // Spec: backends must refuse what they cannot honour. "k of the listed rules, in order" is not defined.
    fail('correlation.condition', 'correlation.condition: temporal_ordered needs every listed rule in order; a condition is not supported');
  }
  if (type === 'temporal' && !lowerBoundsOnly) {
    fail('correlation.condition', 'correlation.condition: temporal supports gt/gte (how many of the rules appeared)');
  }
  if (problems.length > before) return undefined;

  const ruleList = rules!;
  if (comparisons.length === 0) comparisons.push(['gte', ruleList.length]);
  const monotone = type === 'event_count' || type === 'value_count' || type === 'value_sum' || type === 'temporal' || type === 'temporal_ordered';
  return {
    rule: { id: doc.id, ...(doc.name ? { name: doc.name } : {}), title: doc.title, level: doc.level, tags: doc.tags },
    type: type as CorrelationType,
    rules: ruleList,
    groupBy: groupBy!,
    aliases,
    timespanMs: timespanMs!,
    test: compileTest(comparisons),
    fields,
    percentile,
    eager: monotone && lowerBoundsOnly,
    generate: generate as boolean,
    file: doc.position.file,
    line: doc.lineOf('correlation.rules'),
  };
}

/**
 * Resolves the references between correlations: a correlation that refers to itself, directly or
 * through others, is reported and left out (it would feed its own hits forever). With `knownRules`
 * (the single-event rules loaded), a reference to nothing loaded is reported as a warning.
 */
export function linkCorrelations(
  correlations: readonly CompiledCorrelation[], problems: RuleProblem[], knownRules?: Iterable<RuleRef>,
): CompiledCorrelation[] {
  const byRef = new Map<string, CompiledCorrelation>();
  for (const c of correlations) {
    byRef.set(c.rule.id, c);
    if (c.rule.name) byRef.set(c.rule.name, c);
  }
  const report = (c: CompiledCorrelation, severity: RuleProblem['severity'], message: string) =>
    problems.push({ file: c.file, line: c.line, severity, message, ruleId: c.rule.id });

  const cyclic = new Set<CompiledCorrelation>();
  const state = new Map<CompiledCorrelation, 'visiting' | 'done'>();
  const visit = (c: CompiledCorrelation, path: CompiledCorrelation[]): void => {
    if (state.get(c) === 'done') return;
    if (state.get(c) === 'visiting') {
      const loop = path.slice(path.indexOf(c));
      for (const member of loop) cyclic.add(member);
      report(c, 'error', `correlation.rules: refers to itself through ${loop.map((m) => m.rule.name ?? m.rule.id).join(' → ')} (循环引用)`);
      return;
    }
    state.set(c, 'visiting');
    for (const ref of c.rules) {
      const next = byRef.get(ref);
      if (next) visit(next, [...path, c]);
    }
    state.set(c, 'done');
  };
  for (const c of correlations) visit(c, []);

  if (knownRules) {
    const known = new Set<string>();
    for (const rule of knownRules) {
      known.add(rule.id);
      if (rule.name) known.add(rule.name);
    }
    for (const c of correlations) {
      const missing = c.rules.filter((ref) => !known.has(ref) && !byRef.has(ref));
      if (missing.length > 0) report(c, 'warning', `correlation.rules: no loaded rule has the id or name ${missing.join(', ')}`);
    }
  }
  return correlations.filter((c) => !cyclic.has(c));
}

/** `5m`, `1h`, `1d` (lowercase, as the spec writes them) into milliseconds. */
export function parseTimespan(value: unknown): number | undefined {
  const match = typeof value === 'string' ? /^(\d+)([smhdw])$/.exec(value) : null;
  if (!match) return undefined;
  const ms = Number(match[1]) * TIMESPAN_UNITS[match[2]!]!;
  return ms > 0 ? ms : undefined;
}

/** The event field a group-by name or measured field reads for a signal of rule `ref` (id or name). */
export function fieldFor(correlation: CompiledCorrelation, name: string, ruleId: string, ruleName: string | undefined): string {
  const alias = correlation.aliases[name];
  if (!alias) return name;
  return (ruleName !== undefined ? alias[ruleName] : undefined) ?? alias[ruleId] ?? name;
}

function compileTest(comparisons: [Comparison, number][]): (value: number) => boolean {
  const checks = comparisons.map(([op, limit]): ((value: number) => boolean) => {
    switch (op) {
      case 'gt': return (value) => value > limit;
      case 'gte': return (value) => value >= limit;
      case 'lt': return (value) => value < limit;
      case 'lte': return (value) => value <= limit;
      case 'eq': return (value) => value === limit;
      case 'neq': return (value) => value !== limit;
    }
  });
  return checks.length === 1 ? checks[0]! : (value) => checks.every((check) => check(value));
}

function stringList(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((item) => typeof item === 'string' && item.length > 0) ? (value as string[]) : undefined;
}
