import { describe, expect, it } from 'vitest';
import { Correlator, compileCorrelation, type CompiledCorrelation } from '../../../analyzers/correlation/index.js';
import type { CorrelationHit, RuleProblem, Signal } from '../../../analyzers/types.js';
import { minutes, ruleDocuments, signal } from './rule-documents.js';

function correlations(text: string): CompiledCorrelation[] {
  const problems: RuleProblem[] = [];
  const compiled = ruleDocuments(text).filter((doc) => doc.kind === 'correlation').map((doc) => compileCorrelation(doc, problems)!);
  expect(problems).toEqual([]);
  return compiled;
}

/** Pushes the signals in the given order, then flushes: every hit, as [rule, group, start, end, value]. */
function run(rules: CompiledCorrelation[], signals: Signal[], latenessMs = 0) {
  const correlator = new Correlator(rules, { latenessMs });
  const hits: CorrelationHit[] = [];
  for (const s of signals) hits.push(...correlator.push(s));
  hits.push(...correlator.flush());
  return {
    correlator,
    hits,
    summary: hits.map((hit) => [hit.rule.id, Object.values(hit.group).join('/'), minutes(hit.windowStart), minutes(hit.windowEnd), hit.value]),
  };
}

const eventCount = (condition: string, timespan = '5m') => correlations(`
title: brute force
id: bf
correlation: {type: event_count, rules: [ssh_fail], group-by: [user.name], timespan: ${timespan}, condition: ${condition}}
`);

const fail = (minute: number, user = 'alice') => signal('ssh_fail', minute, { user: { name: user } });

describe('event_count', () => {
  it('fires once per window: the hit consumes its signals and counting starts afresh', () => {
    const alice = Array.from({ length: 12 }, (_, i) => fail(i / 6));
    const bob = [0, 1, 2, 3].map((m) => fail(m, 'bob'));
    const { summary, hits } = run(eventCount('{gte: 5}'), [...alice, ...bob].sort((a, b) => a.time - b.time));
    expect(summary).toEqual([
      ['bf', 'alice', 0, 4 / 6, 5],
      ['bf', 'alice', 5 / 6, 9 / 6, 5],
    ]);
    expect(hits[0]!.signals.map((s) => s.eventId)).toEqual(alice.slice(0, 5).map((s) => s.eventId));
  });

  it('slides: signals spanning two fixed buckets still meet within the timespan', () => {
    const { summary } = run(eventCount('{gte: 4}'), [0, 4, 4.5, 5.5, 6].map((m) => fail(m)));
    expect(summary).toEqual([['bf', 'alice', 4, 6, 4]]);
  });

  it('counts both ends of the timespan and nothing beyond', () => {
    expect(run(eventCount('{gte: 2}'), [fail(0), fail(5)]).summary).toEqual([['bf', 'alice', 0, 5, 2]]);
    expect(run(eventCount('{gte: 2}'), [fail(0), fail(5.001)]).summary).toEqual([]);
  });

  it('skips signals without the group-by field', () => {
    const { summary } = run(eventCount('{gte: 2}'), [fail(0), signal('ssh_fail', 1, {}), signal('ssh_fail', 2, { user: {} })]);
    expect(summary).toEqual([]);
  });

  it('tests an upper bound over the whole window when it closes', () => {
    const signals = [fail(0), fail(1), fail(0.5, 'bob'), fail(1, 'bob'), fail(2, 'bob'), fail(9, 'carol')];
    const { summary } = run(eventCount('{lt: 3}'), signals.sort((a, b) => a.time - b.time));
    // alice: 2 in [0, 5] → hit; bob: 3 → none; carol's window is still open at the end → tested by flush.
    expect(summary).toEqual([['bf', 'alice', 0, 1, 2], ['bf', 'carol', 9, 9, 1]]);
  });

  it('counts a closing window beyond the sample it keeps', () => {
    const { summary, hits } = run(eventCount('{eq: 30}'), Array.from({ length: 30 }, (_, i) => fail(i / 10)));
    expect(summary).toEqual([['bf', 'alice', 0, 2.9, 30]]);
    expect(hits[0]!.signals).toHaveLength(20);
  });
});

describe('value types', () => {
  it('value_count counts distinct values (a tuple when several fields)', () => {
    const [rule] = correlations(`
title: spray
id: spray
correlation: {type: value_count, rules: [ssh_fail], group-by: [source.ip], timespan: 10m, condition: {field: user.name, gte: 3}}
`);
    const from = (minute: number, user: string) => signal('ssh_fail', minute, { source: { ip: '10.0.0.9' }, user: { name: user } });
    const { summary } = run([rule!], [from(0, 'a'), from(1, 'a'), from(2, 'b'), from(3, 'b'), from(4, 'c'), from(5, 'd')]);
    expect(summary).toEqual([['spray', '10.0.0.9', 0, 4, 3]]);
  });

  it('value_sum adds a numeric field (numeric strings too) and ignores signals without a number', () => {
    const [rule] = correlations(`
title: export
id: export
correlation: {type: value_sum, rules: [select], group-by: [user.name], timespan: 1h, condition: {field: db.rows, gt: 1000}}
`);
    const rows = (minute: number, n: unknown) => signal('select', minute, { user: { name: 'etl' }, db: { rows: n } });
    const { summary } = run([rule!], [rows(0, 400), rows(10, 'x'), rows(20, '500'), rows(70, 200), rows(75, 900)]);
    // 400 + 500 = 900 within the first hour; at 70 the window [10, 70] holds 500 + 200; at 75: [15, 75] holds 500 + 200 + 900.
    expect(summary).toEqual([['export', 'etl', 20, 75, 1600]]);
  });

  it('value_avg is tested on the whole window', () => {
    const [rule] = correlations(`
title: avg
id: avg
correlation: {type: value_avg, rules: [web], group-by: [source.ip], timespan: 1h, condition: {field: bytes, gt: 500}}
`);
    const web = (minute: number, ip: string, bytes: number) => signal('web', minute, { source: { ip }, bytes });
    // a: (900 + 100) / 2 = 500, not above; b: (100 + 950) / 2 = 525 although its first signal alone is below.
    const { summary } = run([rule!], [web(0, 'a', 900), web(0, 'b', 100), web(30, 'a', 100), web(40, 'b', 950), web(90, 'a', 10)]);
    expect(summary).toEqual([['avg', 'b', 0, 40, 525]]);
  });

  it('value_percentile measures the chosen percentile (nearest rank), the median by default', () => {
    const [p90, median] = correlations(`
title: p90
id: p90
correlation: {type: value_percentile, rules: [q], group-by: [db.name], timespan: 1h, condition: {field: ms, gte: 900, percentile: 90}}
---
title: median
id: median
correlation: {type: value_percentile, rules: [q], group-by: [db.name], timespan: 1h, condition: {field: ms, gte: 900}}
`);
    const values = [10, 20, 30, 40, 50, 60, 70, 80, 950, 990];
    const { summary } = run([p90!, median!], values.map((ms, i) => signal('q', i, { db: { name: 'hr' }, ms })));
    expect(summary).toEqual([['p90', 'hr', 0, 9, 950]]);
  });
});

describe('temporal', () => {
  const [unordered, ordered] = correlations(`
title: recon
id: recon
correlation: {type: temporal, rules: [a, b, c], group-by: [host.name], timespan: 5m}
---
title: recon ordered
id: recon-ordered
correlation: {type: temporal_ordered, rules: [a, b, c], group-by: [host.name], timespan: 5m}
`);
  const on = (rule: string, minute: number, host = 'web1') => signal(rule, minute, { host: { name: host } });

  it('temporal needs every rule within the timespan, in any order', () => {
    expect(run([unordered!], [on('c', 0), on('a', 1), on('b', 2)]).summary).toEqual([['recon', 'web1', 0, 2, 3]]);
    expect(run([unordered!], [on('c', 0), on('a', 1), on('b', 6)]).summary).toEqual([]);
    expect(run([unordered!], [on('c', 0), on('a', 1), on('b', 2, 'web2')]).summary).toEqual([]);
  });

  it('temporal_ordered needs them in the listed order, each strictly after the one before', () => {
    expect(run([ordered!], [on('a', 0), on('b', 1), on('c', 2)]).summary).toEqual([['recon-ordered', 'web1', 0, 2, 3]]);
    expect(run([ordered!], [on('c', 0), on('a', 1), on('b', 2)]).summary).toEqual([]);
    expect(run([ordered!], [on('a', 1), on('b', 1), on('c', 2)]).summary).toEqual([]);
    // A later start still fits when the first one has slid out of the window.
    expect(run([ordered!], [on('a', 0), on('a', 3), on('b', 4), on('c', 7)]).summary).toEqual([['recon-ordered', 'web1', 3, 7, 3]]);
  });
});

describe('aliases and chaining', () => {
  it('groups by aliased fields, per referenced rule (the specification’s example)', () => {
    const [rule] = correlations(`
title: error then connection back
id: alias
correlation:
  type: temporal
  rules: [internal_error, new_network_connection]
  group-by: [internal_ip, remote_ip]
  timespan: 10s
  aliases:
    internal_ip: {internal_error: destination.ip, new_network_connection: source.ip}
    remote_ip: {internal_error: source.ip, new_network_connection: destination.ip}
`);
    const error = signal('id-1', 0, { source: { ip: '1.2.3.4' }, destination: { ip: '10.0.0.5' } }, 'internal_error');
    const back = signal('id-2', 0.1, { source: { ip: '10.0.0.5' }, destination: { ip: '1.2.3.4' } }, 'new_network_connection');
    const other = signal('id-2', 0.1, { source: { ip: '10.0.0.6' }, destination: { ip: '1.2.3.4' } }, 'new_network_connection');
    expect(run([rule!], [error, other]).summary).toEqual([]);
    const { hits } = run([rule!], [error, back]);
    expect(hits.map((hit) => hit.group)).toEqual([{ internal_ip: '10.0.0.5', remote_ip: '1.2.3.4' }]);
  });

  // The specification's example: failed logins (a correlation) followed by a successful login.
  const chain = correlations(`
title: Correlation - Multiple Failed Logins Followed by Successful Login
id: b180ead8-d58f-40b2-ae54-c8940995b9b6
correlation:
  type: temporal_ordered
  rules: [multiple_failed_login, successful_login]
  group-by: [User]
  timespan: 10m
level: high
---
title: Multiple failed logons
id: a8418a5a-5fc4-46b5-b23b-6c73beb19d41
name: multiple_failed_login
correlation:
  type: event_count
  rules: [failed_login]
  group-by: [User]
  timespan: 10m
  condition:
    gte: 10
`);
  const failed = (minute: number) => signal('53ba33fd', minute, { User: 'alice', EventID: 4625 }, 'failed_login');
  const success = (minute: number) => signal('4d0a2c83', minute, { User: 'alice', EventID: 4624 }, 'successful_login');

  it('chains: ten failures, then a success within 10 minutes', () => {
    const failures = Array.from({ length: 10 }, (_, i) => failed(i / 2));
    const { summary, hits } = run(chain, [...failures, success(6)]);
    expect(summary).toEqual([
      ['a8418a5a-5fc4-46b5-b23b-6c73beb19d41', 'alice', 0, 4.5, 10],
      ['b180ead8-d58f-40b2-ae54-c8940995b9b6', 'alice', 4.5, 6, 2],
    ]);
    expect(hits[1]!.signals[0]!.from).toBe(hits[0]);
  });

  it('does not chain a success before the failures, or nine failures', () => {
    expect(run(chain, [success(0), ...Array.from({ length: 10 }, (_, i) => failed(1 + i / 2))]).summary).toHaveLength(1);
    expect(run(chain, [...Array.from({ length: 9 }, (_, i) => failed(i / 2)), success(6)]).summary).toEqual([]);
  });
});

describe('lateness', () => {
  const rules = [...eventCount('{gte: 3}', '2m'), ...correlations(`
title: quiet
id: quiet
correlation: {type: event_count, rules: [ssh_fail], group-by: [user.name], timespan: 2m, condition: {lte: 1}}
`)];
  // Three users, signals every 20 s with gaps: several hits of both kinds.
  const inOrder = Array.from({ length: 60 }, (_, i) => fail(i / 3 + (i % 7 === 0 ? 3 : 0), ['alice', 'bob', 'carol'][i % 3]))
    .sort((a, b) => a.time - b.time || (a.eventId < b.eventId ? -1 : 1));

  it('gives the in-order hits when signals arrive out of order within the lateness', () => {
    const expected = run(rules, inOrder, 60_000);
    expect(expected.hits.length).toBeGreaterThan(5);
    // Shuffle within 50 s: swap each signal with one up to two places ahead when they are close.
    const shuffled = [...inOrder];
    for (let i = 0; i + 2 < shuffled.length; i += 3) {
      if (shuffled[i + 2]!.time - shuffled[i]!.time <= 50_000) [shuffled[i], shuffled[i + 2]] = [shuffled[i + 2]!, shuffled[i]!];
    }
    expect(shuffled).not.toEqual(inOrder);
    const late = run(rules, shuffled, 60_000);
    expect(late.correlator.dropped).toBe(0);
    expect(late.summary).toEqual(expected.summary);
    expect(late.hits.map((hit) => hit.signals.map((s) => s.eventId))).toEqual(expected.hits.map((hit) => hit.signals.map((s) => s.eventId)));
  });

  it('drops and counts signals later than the lateness', () => {
    const late: Signal[] = [];
    const correlator = new Correlator(eventCount('{gte: 2}'), { latenessMs: 60_000, onLate: (s) => late.push(s) });
    correlator.push(fail(10));
    const tooLate = fail(8.9);
    expect(correlator.push(fail(9.1))).toEqual([]);
    expect(correlator.push(tooLate)).toEqual([]);
    expect(correlator.dropped).toBe(1);
    expect(late).toEqual([tooLate]);
    expect(correlator.flush().map((hit) => hit.value)).toEqual([2]);
  });

  it('holds hits until the watermark passes them, and advanceTo releases them', () => {
    const correlator = new Correlator(eventCount('{gte: 2}'), { latenessMs: 60_000 });
    expect([...correlator.push(fail(0)), ...correlator.push(fail(0.5))]).toEqual([]);
    expect(correlator.pending).toBe(2);
    expect(correlator.advanceTo(fail(1.6).time).map((hit) => hit.value)).toEqual([2]);
    expect(correlator.pending).toBe(0);
  });

  it('keeps memory bounded: groups leave once their timespan has passed', () => {
    const correlator = new Correlator([...eventCount('{gte: 1000}'), ...eventCount('{lt: 2}')], { latenessMs: 0 });
    for (let i = 0; i < 2000; i += 1) correlator.push(fail(i, `user${i}`));
    expect(correlator.openGroups).toBeLessThan(30);
  });
});
