import { expect } from 'vitest';
import { compileCorrelation, type CompiledCorrelation } from '../../../analyzers/correlation/index.js';
import { parseRuleText } from '../../../analyzers/sigma/index.js';
import type { RuleDocument, RuleProblem, Signal } from '../../../analyzers/types.js';

/**
 * The documents of multi-document YAML as parse.ts types them, without Sigma's required keys (title,
 * logsource): enough for the correlation tests. A malformed document is left out; `parseErrors` says why.
 */
export function ruleDocuments(text: string, file = 'test.yml'): RuleDocument[] {
  return parseRuleText(text, file, { strict: false }).documents;
}

/** The errors parse.ts reports for `text` (warnings, such as an id that is not a UUID, left out). */
export function parseErrors(text: string, file = 'test.yml'): RuleProblem[] {
  return parseRuleText(text, file, { strict: false }).problems.filter((p) => p.severity === 'error');
}

let sequence = 0;
/** A signal of rule `rule` (id, and name when given) at minute `minute` past a fixed hour. */
export function signal(rule: string, minute: number, fields: Record<string, unknown> = {}, name?: string): Signal {
  sequence += 1;
  return {
    rule: { id: rule, ...(name ? { name } : {}), title: rule, level: 'medium', tags: [] },
    eventId: `e${sequence}`,
    time: T0 + minute * 60_000,
    event: fields,
  };
}

export const T0 = Date.parse('2026-03-02T08:00:00Z');
export const minutes = (ms: number) => (ms - T0) / 60_000;

/** The correlation documents of `text`, compiled; a problem fails the test. */
export function correlations(text: string): CompiledCorrelation[] {
  const problems: RuleProblem[] = parseErrors(text);
  const compiled = ruleDocuments(text).filter((doc) => doc.kind === 'correlation').map((doc) => compileCorrelation(doc, problems)!);
  expect(problems).toEqual([]);
  return compiled;
}

/** One correlation of each kind over ssh_fail/ssh_ok; `slowGroupBy` lets a test give one a group key of its own. */
export const sampleCorrelations = (slowGroupBy = 'source.ip'): CompiledCorrelation[] => correlations(`
title: brute force
id: bf
correlation: {type: event_count, rules: [ssh_fail], group-by: [source.ip], timespan: 5m, condition: {gte: 10}}
---
title: few
id: few
correlation: {type: event_count, rules: [ssh_fail], group-by: [source.ip], timespan: 5m, condition: {lt: 3}}
---
title: spray
id: spray
correlation: {type: value_count, rules: [ssh_fail], group-by: [source.ip], timespan: 10m, condition: {field: user.name, gte: 3}}
---
title: slow
id: slow
correlation: {type: value_percentile, rules: [ssh_fail], group-by: [${slowGroupBy}], timespan: 5m, condition: {field: ms, gt: 400}}
---
title: success after brute force
id: after
correlation: {type: temporal_ordered, rules: [bf, ssh_ok], group-by: [source.ip], timespan: 30m}
`);
