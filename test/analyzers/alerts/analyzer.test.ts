import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AlertBuilder, AlertSink, Analyzer, correlationOnlyRules, type SignalMatcher } from '../../../analyzers/alerts/index.js';
import { compileCorrelation } from '../../../analyzers/correlation/index.js';
import type { RuleProblem, RuleRef, Signal } from '../../../analyzers/types.js';
import { EmbeddedStore } from '../../../store/index.js';
import { ruleDocuments } from '../correlation/rule-documents.js';

const T0 = Date.parse('2026-03-02T08:00:00Z');
const RULES: Record<string, RuleRef> = {
  failed_login: { id: 'r-fail', name: 'failed_login', title: '登录失败', level: 'low', tags: ['mlps.8.1.4.1.c'] },
  successful_login: { id: 'r-ok', name: 'successful_login', title: '登录成功', level: 'informational', tags: [] },
  sudo_root: { id: 'r-sudo', name: 'sudo_root', title: 'sudo 提权', level: 'medium', tags: ['mlps.8.1.4.2'] },
};

/** A stand-in for the compiled Sigma rule set: the event names the rule it matches. */
const matcher: SignalMatcher = {
  matchSignals(event, eventId) {
    const rule = RULES[String(event.kind)];
    return rule ? [{ rule, eventId, time: Date.parse(String(event['@timestamp'])), event }] : [];
  },
};

function correlations(generate: boolean) {
  const problems: RuleProblem[] = [];
  const docs = ruleDocuments(`
title: 多次登录失败后成功 Failed logins followed by a success
id: c-chain
level: high
tags: [mlps.8.1.4.1.c]
correlation:
  type: temporal_ordered
  rules: [many_failures, successful_login]
  group-by: [user.name]
  timespan: 10m
---
title: Many failures
id: c-many
name: many_failures
correlation:
  type: event_count
  rules: [failed_login]
  group-by: [user.name]
  timespan: 10m
  condition: {gte: 3}
generate: ${generate}
`);
  const compiled = docs.map((doc) => compileCorrelation(doc, problems)!);
  expect(problems).toEqual([]);
  return compiled;
}

const dir = mkdtempSync(join(tmpdir(), 'shouwang-analyzer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function analyze(generate: boolean, events: [string, number, string][]) {
  const store = new EmbeddedStore({ path: join(dir, `${generate}-${events.length}.db`) });
  const sink = new AlertSink({ store: store.alerts, latenessMs: 60_000 });
  const analyzer = new Analyzer({ rules: matcher, correlations: correlations(generate), builder: new AlertBuilder(), sink, latenessMs: 60_000 });
  const signals: Signal[] = [];
  events.forEach(([kind, minute, user], i) => {
    const event = { kind, '@timestamp': new Date(T0 + minute * 60_000).toISOString(), user: { name: user }, shouwang: { system: 'oa', mlps_level: 3 } };
    signals.push(...analyzer.analyze(event, `ev${i}`));
  });
  await analyzer.flush();
  const alerts = (await store.alerts.search({}, { size: 100 })).items;
  await sink.close();
  await store.close();
  return { signals, alerts: alerts.map((a) => [a.rule.id, a.count, a.groupKey, a.mlps.join(',')]).sort() };
}

const attack: [string, number, string][] = [
  ['failed_login', 0, 'alice'], ['failed_login', 1, 'alice'], ['failed_login', 2, 'alice'],
  ['successful_login', 3, 'alice'], ['sudo_root', 4, 'alice'], ['failed_login', 5, 'bob'],
];

describe('Analyzer', () => {
  it('alerts at the end of a correlation chain; the rules it refers to stay silent (Sigma generate: false)', async () => {
    const { signals, alerts } = await analyze(false, attack);
    expect(signals).toHaveLength(6);
    expect(alerts).toEqual([
      ['c-chain', 1, 'user.name=alice', '8.1.4.1 c)'],
      ['r-sudo', 1, 'system=oa', '8.1.4.2'],
    ]);
  });

  it('lets the referred rules alert too when a correlation says generate: true', async () => {
    const { alerts } = await analyze(true, attack);
    expect(alerts).toEqual([
      ['c-chain', 1, 'user.name=alice', '8.1.4.1 c)'],
      ['r-fail', 4, 'system=oa', '8.1.4.1 c)'],
      ['r-sudo', 1, 'system=oa', '8.1.4.2'],
    ]);
  });

  it('names the silent rules: those referred to without generate', () => {
    expect([...correlationOnlyRules(correlations(false))].sort()).toEqual(['failed_login', 'many_failures', 'successful_login']);
    expect([...correlationOnlyRules(correlations(true))].sort()).toEqual(['many_failures', 'successful_login']);
  });

  it('releases a correlation when later events without signals move event time past the lateness', async () => {
    const store = new EmbeddedStore({ path: join(dir, 'advance.db') });
    const sink = new AlertSink({ store: store.alerts, latenessMs: 60_000 });
    const analyzer = new Analyzer({ rules: matcher, correlations: correlations(false), builder: new AlertBuilder(), sink, latenessMs: 60_000 });
    const event = (kind: string, minute: number) => ({ kind, '@timestamp': new Date(T0 + minute * 60_000).toISOString(), user: { name: 'alice' } });
    for (const [i, [kind, minute]] of [['failed_login', 0], ['failed_login', 1], ['failed_login', 2], ['successful_login', 3]].entries()) {
      analyzer.analyze(event(kind as string, minute as number), `ev${i}`);
    }
    expect(analyzer.correlator.pending).toBeGreaterThan(0);
    analyzer.analyze(event('heartbeat', 5), 'quiet');
    expect(analyzer.correlator.pending).toBe(0);
    await sink.flush();
    expect((await store.alerts.search({ ruleId: ['c-chain'] })).total).toBe(1);
    await sink.close();
    await store.close();
  });
});
