/**
 * A set of single-event rules compiled as a whole: rules are grouped by what their logsource maps
 * to, so an event is only tested against the rules whose logsource condition it meets, and Sigma
 * filters are folded into the rules they name.
 */
import { getField } from '../../core/index.js';
import type { RuleDocument, RuleProblem, RuleRef, Signal } from '../types.js';
import {
  closeEventScope, compileDetection, compileDetectionTest, DetectionError, openEventScope, type Clause, type EventPredicate, type EventRecord,
} from './detection.js';
import { RuleErrors } from './errors.js';
import { loadDefaultMapping, resolveLogsource, type FieldMapping, type Logsource, type LogsourceMapping } from './mapping.js';
import { GUARD_FAILS, GUARD_RUN, GuardMemo } from './guard-memo.js';
import { Prefilter } from './prefilter.js';

export interface CompileOptions {
  /** Default: rules/mappings/default.yaml. Use identityMapping() for raw field names. */
  mapping?: FieldMapping;
  /** Values of `%name%` placeholders for the `expand` modifier. */
  placeholders?: Record<string, string[]>;
  /** The field that holds an event's time for correlation (default `@timestamp`; a dotted path). */
  timeField?: string;
}

export interface CompiledRule {
  ref: RuleRef;
  document: RuleDocument;
  /** The detection, with the filters that name this rule folded in. */
  test: EventPredicate;
  /** Names of the logsource mappings whose conditions an event must meet first. */
  logsources: string[];
}

export interface CompiledRuleSet {
  rules: CompiledRule[];
  problems: RuleProblem[];
  /** The rules the event matches (the same RuleRef objects every time; an empty array is shared). */
  match(event: EventRecord): readonly RuleRef[];
  /**
   * The same, as signals for correlation and alerting; time is the event's time field (`timeOf`). Stored
   * events always have one (the decoders set it); callers reading other events check `timeOf` first,
   * as `rules test` does, because an event without a time gets 0 here.
   */
  matchSignals(event: EventRecord, eventId?: string): Signal[];
  /** The event's time (epoch ms) from the time field: an ISO string or epoch milliseconds; undefined when absent or unreadable. */
  timeOf(event: EventRecord): number | undefined;
}

interface Group {
  guard?: EventPredicate;
  /** In the prefilter's order: it selects them by place. */
  refs: RuleRef[];
  tests: EventPredicate[];
}

const NO_MATCH: readonly RuleRef[] = Object.freeze([]);
const MAX_TIME_MS = 8.64e15;

export function compileRuleSet(documents: readonly RuleDocument[], options: CompileOptions = {}): CompiledRuleSet {
  const mapping = options.mapping ?? loadDefaultMapping();
  const placeholders = options.placeholders ?? {};
  const timeField = options.timeField ?? '@timestamp';
  // `@timestamp` sits at the top; another field may be nested (`event.created`) or written flat.
  const readTime = timeField === '@timestamp' ? (event: EventRecord) => event['@timestamp'] : (event: EventRecord) => event[timeField] ?? getField(event, timeField);
  const problems: RuleProblem[] = [];
  const problem = (doc: RuleDocument, severity: RuleProblem['severity'], message: string, path?: string) =>
    problems.push({ file: doc.position.file, line: path ? doc.lineOf(path) : doc.position.line, severity, message, ruleId: doc.id });

  const contextFor = (logsource: Logsource | undefined) => {
    const resolved = resolveLogsource(mapping, logsource);
    return {
      resolved,
      context: { resolveField: resolved.resolveField, keywordFields: mapping.keywordFields, placeholders, timeOffsetMinutes: mapping.timeOffsetMinutes },
    };
  };

  // Filters first: each one becomes a predicate attached to the rules it names.
  const filtersByRule = new Map<string, { doc: RuleDocument; test: EventPredicate }[]>();
  for (const doc of documents.filter((d) => d.kind === 'filter')) {
    try {
      const test = compileDetectionTest(doc.filter, contextFor(doc.logsource).context).run;
      for (const name of doc.rules) filtersByRule.set(name, [...(filtersByRule.get(name) ?? []), { doc, test }]);
    } catch (error) {
      if (!(error instanceof DetectionError)) throw error;
      problem(doc, 'error', error.message, error.path);
    }
  }

  const compiled: CompiledRule[] = [];
  const needsOf = new Map<CompiledRule, readonly Clause[]>();
  const seen = new Map<string, RuleDocument>();
  const used = new Set<string>();
  for (const doc of documents.filter((d) => d.kind === 'detection')) {
    const earlier = seen.get(doc.id);
    if (earlier) {
      problem(doc, 'error', `id 重复 / duplicate id ${doc.id} (first in ${earlier.position.file}:${earlier.position.line}); skipped`, 'id');
      continue;
    }
    seen.set(doc.id, doc);
    const { resolved, context } = contextFor(doc.logsource);
    let test: EventPredicate;
    let needs: readonly Clause[];
    try {
      ({ run: test, needs } = compileDetectionTest(doc.detection, context));
    } catch (error) {
      if (!(error instanceof DetectionError)) throw error;
      problem(doc, 'error', error.message, error.path);
      continue;
    }
    const filters = [...(filtersByRule.get(doc.id) ?? []), ...(doc.name && doc.name !== doc.id ? filtersByRule.get(doc.name) ?? [] : [])]
      .filter(({ doc: filter }) => {
        if (coversLogsource(filter.logsource, doc.logsource)) return true;
        problem(filter, 'warning', `过滤器的 logsource 与规则 ${doc.id} 不符，未应用 / filter logsource does not fit rule ${doc.id}: not applied`, 'logsource');
        return false;
      });
    for (const name of [doc.id, doc.name]) if (name && filtersByRule.has(name)) used.add(name);
    if (filters.length) {
      const base = test;
      const excluded = filters.map((f) => f.test);
      test = (e) => {
        if (!base(e)) return false;
        for (const exclude of excluded) if (exclude(e)) return false;
        return true;
      };
    }
    const rule: CompiledRule = {
      ref: { id: doc.id, ...(doc.name ? { name: doc.name } : {}), title: doc.title, level: doc.level, tags: doc.tags },
      document: doc,
      test,
      logsources: resolved.entries.filter((e) => e.when !== undefined).map((e) => e.name),
    };
    compiled.push(rule);
    // Filters only take matches away: what the rule needs stays needed.
    needsOf.set(rule, needs);
  }
  for (const [name, filters] of filtersByRule) {
    if (used.has(name)) continue;
    for (const { doc } of filters) problem(doc, 'warning', `过滤器引用的规则不存在 / filter names rule "${name}", which is not loaded`, 'filter.rules');
  }

  const prefilter = new Prefilter();
  const grouped = groupByLogsource(compiled, mapping);
  const guardMemo = new GuardMemo(grouped.map(({ guard, whens }) => ({ whens, run: guard ?? (() => true) })));
  const groups = grouped.map(({ guard, rules }, g): Group => {
    for (const rule of rules) prefilter.add(g, needsOf.get(rule) ?? []);
    return { ...(guard ? { guard } : {}), refs: rules.map((r) => r.ref), tests: rules.map((r) => r.test) };
  });
  prefilter.build();
  const selected = prefilter.selected;
  return {
    rules: compiled,
    problems,
    match(event) {
      let out: RuleRef[] | undefined;
      openEventScope();
      prefilter.nextEvent();
      try {
        const outcomes = guardMemo.outcomes(event);
        for (let g = 0; g < groups.length; g += 1) {
          const outcome = outcomes[g];
          if (outcome === GUARD_FAILS) continue;
          const group = groups[g]!;
          if (outcome === GUARD_RUN && group.guard && !group.guard(event)) continue;
          const count = prefilter.select(g, event);
          const { refs, tests } = group;
          for (let i = 0; i < count; i += 1) {
            const place = selected[i]!;
            if (tests[place]!(event)) (out ??= []).push(refs[place]!);
          }
        }
      } finally {
        closeEventScope();
      }
      return out ?? NO_MATCH;
    },
    matchSignals(event, eventId) {
      const refs = this.match(event);
      if (refs.length === 0) return [];
      const time = this.timeOf(event) ?? 0;
      const id = eventId ?? (typeof event.id === 'string' ? event.id : '');
      return refs.map((rule) => ({ rule, eventId: id, time, event }));
    },
    timeOf(event) {
      const stamp = readTime(event);
      const parsed = typeof stamp === 'string' ? Date.parse(stamp) : typeof stamp === 'number' ? stamp : NaN;
      // Past ±8.64e15 ms there is no Date: such a "time" is not one (it would break every window and printout).
      return Number.isFinite(parsed) && Math.abs(parsed) <= MAX_TIME_MS ? parsed : undefined;
    },
  };
}

/** One group per distinct set of logsource conditions; each condition is compiled once for the set. */
function groupByLogsource(rules: CompiledRule[], mapping: FieldMapping): { guard?: EventPredicate; whens: unknown[]; rules: CompiledRule[] }[] {
  const guards = new Map<string, EventPredicate>();
  const guardOf = (entry: LogsourceMapping): EventPredicate => {
    let guard = guards.get(entry.name);
    if (!guard) {
      try {
        guard = compileDetection({ when: entry.when, condition: 'when' }, {
          resolveField: (name) => [name], keywordFields: mapping.keywordFields, placeholders: {}, timeOffsetMinutes: mapping.timeOffsetMinutes,
        }, `logsources.${entry.name}`);
      } catch (error) {
        if (error instanceof DetectionError) throw RuleErrors.mappingInvalid(`logsource ${entry.name}`, error.message);
        throw error;
      }
      guards.set(entry.name, guard);
    }
    return guard;
  };
  const byKey = new Map<string, { guard?: EventPredicate; whens: unknown[]; rules: CompiledRule[] }>();
  for (const rule of rules) {
    const key = rule.logsources.join('\u0000');
    let group = byKey.get(key);
    if (!group) {
      const entries = rule.logsources.map((name) => mapping.logsources.find((e) => e.name === name)!);
      const tests = entries.map(guardOf);
      const [only] = tests;
      const guard: EventPredicate | undefined = tests.length === 0 ? undefined
        : tests.length === 1 && only ? only
          : (e) => tests.every((t) => t(e));
      group = { ...(guard ? { guard } : {}), whens: entries.map((e) => e.when), rules: [] };
      byKey.set(key, group);
    }
    group.rules.push(rule);
  }
  return [...byKey.values()];
}

/** A filter fits a rule when every logsource key it names has the rule's value. */
function coversLogsource(filter: Logsource | undefined, rule: Logsource | undefined): boolean {
  if (!filter) return true;
  return (['product', 'category', 'service'] as const).every((key) =>
    filter[key] === undefined || filter[key]?.toLowerCase() === rule?.[key]?.toLowerCase());
}

