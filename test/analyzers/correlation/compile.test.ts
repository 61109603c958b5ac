import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Correlator, compileCorrelation, linkCorrelations } from '../../../analyzers/correlation/index.js';
import type { RuleProblem } from '../../../analyzers/types.js';
import { parseErrors, ruleDocuments } from './rule-documents.js';

const SPEC = join(import.meta.dirname, '../../fixtures/sigma/spec');

/** Parse errors (the specification's checks run at parse time) and what compiling adds. */
function compile(text: string) {
  const problems: RuleProblem[] = parseErrors(text);
  const compiled = ruleDocuments(text).filter((doc) => doc.kind === 'correlation').map((doc) => compileCorrelation(doc, problems));
  return { compiled, problems };
}

describe('compileCorrelation', () => {
  it('compiles every correlation example of the specification’s schema tests', () => {
    const dir = join(SPEC, 'tests/schema/correlation');
    const files = readdirSync(dir);
    expect(files).toHaveLength(8);
    for (const file of files) {
      const { compiled, problems } = compile(readFileSync(join(dir, file), 'utf8'));
      expect(problems, file).toEqual([]);
      expect(compiled[0], file).toMatchObject({ type: file.replace(/(_ecs)?\.yml$/, '') });
    }
  });

  it('reads the measured field, the timespan and a range condition', () => {
    const { compiled: [value], problems } = compile(`
title: Exfiltration
id: c1
correlation:
  type: value_sum
  rules: [website_access]
  group-by: [source.ip]
  timespan: 90m
  condition:
    field: http.request.bytes
    gt: 100
    lte: 200
`);
    expect(problems).toEqual([]);
    expect(value).toMatchObject({ timespanMs: 90 * 60_000, fields: ['http.request.bytes'], eager: false, generate: false });
    expect([100, 101, 200, 201].map((n) => value!.test(n))).toEqual([false, true, true, false]);
  });

  it('tells eager lower-bound correlations from those tested when the window closes', () => {
    const eager = (type: string, condition: string) => compile(`
title: t
correlation: {type: ${type}, rules: [a, b], group-by: [x], timespan: 5m, condition: ${condition}}
`).compiled[0]?.eager;
    expect(eager('event_count', '{gte: 3}')).toBe(true);
    expect(eager('event_count', '{lt: 3}')).toBe(false);
    expect(eager('value_count', '{field: u, gt: 3}')).toBe(true);
    expect(eager('value_avg', '{field: u, gt: 3}')).toBe(false);
    expect(eager('value_percentile', '{field: u, gt: 3, percentile: 95}')).toBe(false);
  });

  it('reports each problem with its line and leaves the rule out (at parse time)', () => {
    const { compiled, problems } = compile(`title: bad
id: bad-1
correlation:
  type: event_counter
  rules: []
  group-by: [user.name]
  timespan: 5 minutes
  condition:
    above: 3
---
title: no field
id: bad-2
correlation:
  type: value_count
  rules: [a]
  timespan: 1h
  condition:
    gte: 3
---
title: ordered with a count
id: bad-3
correlation:
  type: temporal_ordered
  rules: [a, b]
  aliases:
    ip:
      c: source.ip
  timespan: 1h
  condition:
    gte: 1
`);
    expect(compiled).toEqual([]);
    const summary = problems.map((p) => `${p.ruleId}:${p.line}:${p.message.split(':')[0]}`);
    expect(summary).toEqual([
      'bad-1:4:correlation.type',
      'bad-1:5:correlation.rules',
      'bad-1:7:correlation.timespan',
      'bad-1:9:correlation.condition.above',
      'bad-1:8:correlation.condition',
      'bad-2:17:correlation.condition.field',
      'bad-3:26:correlation.aliases.ip',
      'bad-3:29:correlation.condition',
    ]);
    expect(problems.every((p) => p.severity === 'error' && p.file === 'test.yml')).toBe(true);
  });

  it('defaults temporal conditions to all listed rules and keeps generate', () => {
    const { compiled: [temporal], problems } = compile(`
title: recon
correlation: {type: temporal, rules: [a, b, c], group-by: [host.name], timespan: 5m, generate: true}
`);
    expect(problems).toEqual([]);
    expect([2, 3].map((n) => temporal!.test(n))).toEqual([false, true]);
    expect(temporal!.generate).toBe(true);
  });

  it('leaves out correlations that refer to themselves, and warns about references to nothing loaded', () => {
    const { compiled, problems } = compile(`title: a
id: ca
name: loop_a
correlation: {type: event_count, rules: [loop_b], group-by: [u], timespan: 5m, condition: {gte: 1}}
---
title: b
id: cb
name: loop_b
correlation: {type: event_count, rules: [loop_a, base], group-by: [u], timespan: 5m, condition: {gte: 1}}
---
title: ok
id: cc
correlation: {type: event_count, rules: [base, missing], group-by: [u], timespan: 5m, condition: {gte: 1}}
`);
    expect(problems).toEqual([]);
    const linked = linkCorrelations(compiled.map((c) => c!), problems, [{ id: 'r1', name: 'base', title: 'base', level: 'low', tags: [] }]);
    expect(linked.map((c) => c.rule.id)).toEqual(['cc']);
    expect(problems.map((p) => `${p.severity} ${p.ruleId}:${p.line} ${p.message}`)).toEqual([
      'error ca:4 correlation.rules: refers to itself through loop_a → loop_b (循环引用)',
      'warning cc:13 correlation.rules: no loaded rule has the id or name missing',
    ]);
    // The correlator links too: a self-feeding pair never runs.
    const correlator = new Correlator(compiled.map((c) => c!), { latenessMs: 0 });
    const base = { rule: { id: 'r1', name: 'base', title: 'base', level: 'low' as const, tags: [] }, eventId: 'e', time: 1, event: { u: 'x' } };
    correlator.push(base);
    expect(correlator.flush().map((hit) => hit.rule.id)).toEqual(['cc']);
  });
});
