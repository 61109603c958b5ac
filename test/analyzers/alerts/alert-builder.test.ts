import { describe, expect, it } from 'vitest';
import { AlertBuilder, mlpsClause, mlpsRefs, readAlertPolicy, type AlertPolicy } from '../../../analyzers/alerts/index.js';
import type { CorrelationHit, Signal } from '../../../analyzers/types.js';
import { RULE_LEVELS } from '../../../core/index.js';
import { parseErrors, ruleDocuments } from '../correlation/rule-documents.js';

const T0 = Date.parse('2026-03-02T08:00:00Z');
const at = (minute: number) => T0 + minute * 60_000;

function ssh(minute: number, event: Record<string, unknown> = {}, eventId = `ev-${minute}`): Signal {
  return {
    rule: { id: 'ssh-brute', title: 'SSH 暴力破解', level: 'high', tags: ['attack.t1110', 'mlps.8.1.4.3', 'mlps.8.1.4.3.a'] },
    eventId,
    time: at(minute),
    event: { shouwang: { system: 'oa', department: 'd-fin', mlps_level: 3 }, user: { name: 'root' }, ...event },
  };
}

describe('MLPS references from tags', () => {
  it('turns tags into clause numbers, with items written as the standard writes them', () => {
    expect(mlpsClause('mlps.8.1.4.3')).toBe('8.1.4.3');
    expect(mlpsClause('mlps.8.1.4.3.a')).toBe('8.1.4.3 a)');
    expect(mlpsClause('MLPS.9.1.10.2.C')).toBe('9.1.10.2 c)');
    expect(mlpsClause('attack.t1110')).toBeUndefined();
    expect(mlpsClause('mlps.a')).toBeUndefined();
    expect(mlpsRefs(['mlps.8.1.4.3.b', 'attack.t1110', 'mlps.7.1.4.3', 'mlps.8.1.4.3.b'])).toEqual(['7.1.4.3', '8.1.4.3 b)']);
  });

  it('keeps only the clauses of the system\'s level when it is known', () => {
    const tags = ['mlps.7.1.4.3', 'mlps.8.1.4.3', 'mlps.9.1.4.3', 'mlps.8.1.5.3', 'mlps.9.1.5.4.g', 'attack.t1110'];
    expect(mlpsRefs(tags, 2)).toEqual(['7.1.4.3']);
    expect(mlpsRefs(tags, 3)).toEqual(['8.1.4.3', '8.1.5.3']);
    expect(mlpsRefs(tags, 4)).toEqual(['9.1.4.3', '9.1.5.4 g)']);
    expect(mlpsRefs(tags, 1)).toEqual([]);
    expect(mlpsRefs(tags)).toHaveLength(5);
  });

  it('cites the clauses of each alert\'s own system level from one builder, and an alert changing its list changes no other', () => {
    const builder = new AlertBuilder();
    const tags = ['mlps.7.1.4.3', 'mlps.8.1.4.3', 'mlps.8.1.4.3.a'];
    const at = (level: unknown, minute: number) => builder.fromSignal({ ...ssh(minute), rule: { ...ssh(0).rule, tags },
      event: { shouwang: { system: `s${minute}`, mlps_level: level } } }).alert.mlps;
    const first = at(3, 1);
    expect(first).toEqual(['8.1.4.3', '8.1.4.3 a)']);
    first.push('changed');
    expect(at(3, 2)).toEqual(['8.1.4.3', '8.1.4.3 a)']);
    expect(at(2, 3)).toEqual(['7.1.4.3']);
    expect(at(2.5, 4)).toEqual(['7.1.4.3', '8.1.4.3', '8.1.4.3 a)']);
    expect(at(undefined, 5)).toEqual(['7.1.4.3', '8.1.4.3', '8.1.4.3 a)']);
  });
});

describe('alert policy', () => {
  const DETECTION = 'detection: {sel: {a: b}, condition: sel}\n';

  it('reads suppress and group_by from the custom shouwang attribute', () => {
    const text = `title: t\nid: r1\n${DETECTION}shouwang:\n  suppress: 30m\n  group_by: [user.name, source.ip]\n`;
    const [doc] = ruleDocuments(text);
    expect(readAlertPolicy(doc!)).toEqual({ suppressMs: 1_800_000, groupBy: ['user.name', 'source.ip'] });
    expect(doc!.custom.shouwang).toEqual({ suppressMs: 1_800_000, groupBy: ['user.name', 'source.ip'] });
    expect(parseErrors(text)).toEqual([]);
  });

  it('reports a bad attribute at parse time with its line and keeps the rule with the defaults', () => {
    const text = `title: t\nid: r1\n${DETECTION}shouwang:\n  suppress: half an hour\n  group_by: user.name\n  mute: true\n`;
    const [doc] = ruleDocuments(text);
    expect(readAlertPolicy(doc!)).toEqual({ suppressMs: 3_600_000 });
    expect(readAlertPolicy(doc!, 60_000)).toEqual({ suppressMs: 60_000 });
    expect(parseErrors(text).map((p) => `${p.ruleId} ${p.line} ${p.message.split(':')[0]}`)).toEqual([
      'r1 5 shouwang.suppress', 'r1 6 shouwang.group_by', 'r1 7 shouwang.mute',
    ]);
  });
});

describe('AlertBuilder', () => {
  const builder = new AlertBuilder({ now: () => new Date('2026-03-02T09:30:00Z') });

  it('builds a graded alert from a signal with system, department, MLPS refs and the event as sample', () => {
    const { alert, key, time, windowEnd } = builder.fromSignal(ssh(5));
    expect(alert).toMatchObject({
      rule: { id: 'ssh-brute', title: 'SSH 暴力破解', level: 'high' },
      mlps: ['8.1.4.3', '8.1.4.3 a)'],
      system: 'oa', department: 'd-fin', mlpsLevel: 3, priority: 12, status: 'new', count: 1,
      firstSeen: '2026-03-02T08:05:00.000Z', lastSeen: '2026-03-02T08:05:00.000Z',
      sampleEventIds: ['ev-5'], groupKey: 'system=oa',
      timeline: [{ at: '2026-03-02T09:30:00.000Z', actor: 'shouwang', action: 'raised' }],
    });
    expect([key, time, windowEnd]).toEqual(['ev-5', at(5), at(60)]);
  });

  it('cites only the clauses of the system\'s level: a level-2 system gets 7.x, never 8.x or 9.x', () => {
    const tags = ['attack.t1110', 'mlps.7.1.4.3', 'mlps.8.1.4.3', 'mlps.9.1.4.3', 'mlps.8.1.5.3', 'mlps.9.1.5.3'];
    const signal = (level: number): Signal => ({
      ...ssh(5), rule: { ...ssh(5).rule, tags }, event: { shouwang: { system: 'oa', department: 'd-fin', mlps_level: level } },
    });
    expect(builder.fromSignal(signal(2)).alert.mlps).toEqual(['7.1.4.3']);
    expect(builder.fromSignal(signal(3)).alert.mlps).toEqual(['8.1.4.3', '8.1.5.3']);
    expect(builder.fromSignal(signal(4)).alert.mlps).toEqual(['9.1.4.3', '9.1.5.3']);
    // No level known (no inventory system): every clause, the reader picks.
    expect(builder.fromSignal({ ...signal(2), event: { host: { name: 'web-01' } } }).alert.mlps).toHaveLength(5);
  });

  it('gives repeats within the suppression window the same id, and a new window a new one', () => {
    const id = (signal: Signal, b = builder) => b.fromSignal(signal).alert.id;
    expect(id(ssh(5))).toBe(id(ssh(59, {}, 'other')));
    expect(id(ssh(5))).not.toBe(id(ssh(61)));
    expect(id(ssh(5))).not.toBe(id(ssh(6, { shouwang: { system: 'hr' } })));
    // Per-rule suppression of 30 minutes splits the hour.
    const policies = new Map<string, AlertPolicy>([['ssh-brute', { suppressMs: 1_800_000 }]]);
    const halfHour = new AlertBuilder({ policies });
    expect(id(ssh(5), halfHour)).toBe(id(ssh(29), halfHour));
    expect(id(ssh(5), halfHour)).not.toBe(id(ssh(31), halfHour));
  });

  it('groups by the host when the event has no system, and by the rule’s group_by fields when set', () => {
    const noSystem = builder.fromSignal({ ...ssh(1), event: { host: { name: 'web-01' } } }).alert;
    expect(noSystem.groupKey).toBe('system=web-01');
    expect(noSystem.system).toBeUndefined();
    expect(noSystem.priority).toBe(4);
    const byUser = new AlertBuilder({ policies: new Map([['ssh-brute', { suppressMs: 3_600_000, groupBy: ['user.name', 'source.ip'] }]]) });
    expect(byUser.fromSignal(ssh(1)).alert.groupKey).toBe('user.name=root; source.ip=-');
  });

  it('grades priority as rule level weight × MLPS level (unknown level counts as 1)', () => {
    const table = RULE_LEVELS.map((level) =>
      [undefined, 1, 2, 3, 4].map((mlps_level) =>
        builder.fromSignal({ ...ssh(0), rule: { ...ssh(0).rule, level }, event: { shouwang: { mlps_level } } }).alert.priority));
    expect(table).toEqual([
      [1, 1, 2, 3, 4],
      [2, 2, 4, 6, 8],
      [3, 3, 6, 9, 12],
      [4, 4, 8, 12, 16],
      [5, 5, 10, 15, 20],
    ]);
  });

  it('builds an alert from a correlation hit: its group, window, level, and the real events behind a chain', () => {
    const inner: CorrelationHit = {
      rule: { id: 'many-fails', title: 'many', level: 'low', tags: [] },
      group: { 'user.name': 'root' }, windowStart: at(1), windowEnd: at(2), value: 2, signals: [ssh(1), ssh(2)],
    };
    const derived: Signal = { rule: inner.rule, eventId: 'derived', time: at(2), event: { 'user.name': 'root' }, from: inner };
    const hit: CorrelationHit = {
      rule: { id: 'fail-then-success', title: '失败后成功', level: 'critical', tags: [] },
      group: { 'user.name': 'root', 'host.name': 'oa-1' }, windowStart: at(1), windowEnd: at(3), value: 2,
      signals: [derived, ssh(3, {}, 'success')],
    };
    const { alert, key, time } = builder.fromHit(hit);
    expect(alert).toMatchObject({
      rule: { id: 'fail-then-success', level: 'critical' }, groupKey: 'host.name=oa-1; user.name=root',
      system: 'oa', mlpsLevel: 3, priority: 15, mlps: ['8.1.4.3', '8.1.4.3 a)'],
      firstSeen: '2026-03-02T08:01:00.000Z', lastSeen: '2026-03-02T08:03:00.000Z', sampleEventIds: ['ev-1', 'ev-2', 'success'],
    });
    expect([key, time]).toEqual([`hit@${at(1)}-${at(3)}`, at(3)]);
  });
});
