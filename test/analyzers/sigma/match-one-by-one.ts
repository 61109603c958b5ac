import {
  compileDetection, resolveLogsource, type CompiledRuleSet, type EventPredicate, type FieldMapping,
} from '../../../analyzers/index.js';

type Event = Record<string, unknown>;

/** match() without the index: each rule's logsource conditions and test, rule by rule, in match()'s order (rules grouped by logsource). */
export function matchOneByOne(set: CompiledRuleSet, mapping: FieldMapping): (event: Event) => string[] {
  const guards = new Map<string, EventPredicate>();
  const guardOf = (name: string, when: unknown) => {
    let guard = guards.get(name);
    if (!guard) {
      guard = compileDetection({ when, condition: 'when' }, {
        resolveField: (field) => [field], keywordFields: mapping.keywordFields, placeholders: {}, timeOffsetMinutes: mapping.timeOffsetMinutes,
      });
      guards.set(name, guard);
    }
    return guard;
  };
  const groupOrder = new Map<string, number>();
  const rules = set.rules.map((rule) => {
    const key = rule.logsources.join('\u0000');
    if (!groupOrder.has(key)) groupOrder.set(key, groupOrder.size);
    return {
      id: rule.ref.id,
      group: groupOrder.get(key)!,
      test: rule.test,
      guards: resolveLogsource(mapping, rule.document.logsource).entries.filter((e) => e.when !== undefined).map((e) => guardOf(e.name, e.when)),
    };
  });
  const ordered = rules.map((r, i) => ({ r, i })).sort((a, b) => a.r.group - b.r.group || a.i - b.i).map(({ r }) => r);
  return (event) => ordered.filter((r) => r.guards.every((g) => g(event)) && r.test(event)).map((r) => r.id);
}
