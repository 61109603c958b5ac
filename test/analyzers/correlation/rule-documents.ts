import { LineCounter, isMap, isScalar, parseAllDocuments, type Document, type Node } from 'yaml';
import type { RuleLevel } from '../../../core/index.js';
import { expect } from 'vitest';
import { compileCorrelation, type CompiledCorrelation } from '../../../analyzers/correlation/index.js';
import type { RuleDocument, RuleProblem, Signal } from '../../../analyzers/types.js';

/** RuleDocuments from multi-document YAML, with line lookups: enough for the correlation tests. */
export function ruleDocuments(text: string, file = 'test.yml'): RuleDocument[] {
  const lines = new LineCounter();
  return parseAllDocuments(text, { lineCounter: lines }).map((doc: Document, index) => {
    const body = doc.toJS() as Record<string, unknown>;
    const line = (node: Node | null | undefined) => (node?.range ? lines.linePos(node.range[0]).line : 1);
    const docLine = line(doc.contents as Node);
    return {
      kind: body.correlation ? 'correlation' : body.filter ? 'filter' : 'detection',
      id: typeof body.id === 'string' ? body.id : `${file}#${index}`,
      ...(typeof body.name === 'string' ? { name: body.name } : {}),
      title: String(body.title ?? ''),
      level: (body.level as RuleLevel | undefined) ?? 'medium',
      tags: (body.tags as string[] | undefined) ?? [],
      falsepositives: [],
      body,
      position: { file, line: docLine },
      lineOf(path: string): number {
        let node: unknown = doc.contents;
        let found = docLine;
        for (const part of path.split('.')) {
          if (!isMap(node)) break;
          const pair = node.items.find((item) => isScalar(item.key) && item.key.value === part);
          if (!pair) break;
          found = line(pair.key as Node);
          node = pair.value;
        }
        return found;
      },
    };
  });
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
  const problems: RuleProblem[] = [];
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
