import type { CorrelationRule, RuleDocument, RuleProblem, RuleRef } from '../types.js';
import { CORRELATION_TYPES, type Comparison, type CorrelationType } from '../sigma/rule-tree.js';
import { parseTimespan } from '../sigma/timespan.js';

export { CORRELATION_TYPES, parseTimespan, type CorrelationType };

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

/**
 * Compiles a correlation document: parse.ts checked it against the Sigma correlation specification 2.1
 * (its problems are reported there), so only the test is built here. Another kind of document is
 * reported in `problems` and gives undefined.
 */
export function compileCorrelation(doc: RuleDocument, problems: RuleProblem[] = []): CompiledCorrelation | undefined {
  if (doc.kind !== 'correlation') {
    problems.push({ file: doc.position.file, line: doc.position.line, severity: 'error', message: 'correlation: expected a map with type, rules, timespan (correlation 需为映射)', ruleId: doc.id });
    return undefined;
  }
  return compileCorrelationRule(doc);
}

function compileCorrelationRule(doc: CorrelationRule): CompiledCorrelation {
  const { type, rules, groupBy, aliases, timespanMs, fields, percentile, generate } = doc.correlation;
  const comparisons = doc.correlation.comparisons.length ? doc.correlation.comparisons : [['gte', rules.length] as [Comparison, number]];
  const lowerBoundsOnly = comparisons.every(([op]) => op === 'gt' || op === 'gte');
  const monotone = type === 'event_count' || type === 'value_count' || type === 'value_sum' || type === 'temporal' || type === 'temporal_ordered';
  return {
    rule: { id: doc.id, ...(doc.name ? { name: doc.name } : {}), title: doc.title, level: doc.level, tags: doc.tags },
    type,
    rules,
    groupBy,
    aliases,
    timespanMs,
    test: compileTest(comparisons),
    fields,
    percentile,
    eager: monotone && lowerBoundsOnly,
    generate,
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
