import { describe, expect, it } from 'vitest';
import { alertPriority, ConfigSchema, type Alert, type RuleLevel } from '../../../core/index.js';
import { departmentRecipients, dueEscalations, escalationSteps, NotifyPlanner, routeAlert, type NotifyConfig } from '../../../analyzers/notify/index.js';
import { DepartmentSchema } from '../../../core/index.js';

const T0 = Date.parse('2026-12-07T02:00:00Z'); // 10:00 in Beijing

function notifyConfig(extra: Record<string, unknown> = {}): NotifyConfig {
  return ConfigSchema.parse({
    notify: {
      channels: [{ id: 'hook', type: 'webhook', url: 'http://127.0.0.1:1/h' }, { id: 'mail', type: 'webhook', url: 'http://127.0.0.1:1/m' }],
      routes: [{ id: 'all', channels: ['hook'], escalation: [{ channels: ['mail'] }] }],
      ...extra,
    },
  }).notify;
}

function alert(id: string, level: RuleLevel = 'high', more: Partial<Alert> = {}): Alert {
  const at = new Date(T0).toISOString();
  return {
    id, rule: { id: more.rule?.id ?? 'rule-a', title: '暴力破解 brute force', level }, mlps: ['8.1.4.3 a)'], department: 'dept-a', system: 'sys-a',
    mlpsLevel: 3, priority: alertPriority(level, 3), status: 'new', timeline: [], firstSeen: at, lastSeen: at, count: 1, sampleEventIds: [], ...more,
  };
}

function clock(start = T0) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms), set: (ms: number) => (now = ms) };
}

describe('routing', () => {
  it('matches level, priority, department, MLPS level, rule and tag; every condition must hold', () => {
    const config = notifyConfig({
      routes: [
        { id: 'crit', match: { minLevel: 'critical' }, channels: ['hook'] },
        { id: 'dept-b-l3', match: { departments: ['dept-b'], mlpsLevels: [3, 4] }, channels: ['hook'] },
        { id: 'prio', match: { minPriority: 12 }, channels: ['hook'] },
        { id: 'rule', match: { rules: ['rule-x'] }, channels: ['hook'] },
        { id: 'tag', match: { tags: ['attack.t1110'] }, channels: ['hook'] },
      ],
    });
    const ids = (a: Alert, tags: string[] = []) => routeAlert(config.routes, a, tags).map((r) => r.id);
    expect(ids(alert('1', 'critical'))).toEqual(['crit', 'prio']);
    expect(ids(alert('2', 'medium', { department: 'dept-b' }))).toEqual(['dept-b-l3']);
    expect(ids(alert('3', 'medium', { department: 'dept-b', mlpsLevel: 2, priority: 6 }))).toEqual([]);
    expect(ids(alert('4', 'low', { rule: { id: 'rule-x', title: 'x', level: 'low' } }))).toEqual(['rule']);
    expect(ids(alert('5', 'low'), ['attack.t1110'])).toEqual(['tag']);
    // An alert without a department never matches a department route (no "undefined" wildcard).
    expect(ids(alert('6', 'medium', { department: undefined }))).toEqual([]);
  });
});

describe('NotifyPlanner', () => {
  it('sends the first alert at once and folds a flapping source into one group message with the count', () => {
    const c = clock();
    const planner = new NotifyPlanner({ config: notifyConfig(), now: c.now });
    expect(planner.accept(alert('a1')).map((d) => [d.kind, d.channelId])).toEqual([['alert', 'hook']]);
    let later = 0;
    for (let i = 0; i < 300; i++) {
      c.advance(500);
      later += planner.accept(alert(`a${i + 2}`)).length + planner.tick().length;
    }
    expect(later).toBe(0); // 150 s < the 5 min window
    c.advance(300_000);
    const [group, ...rest] = planner.tick();
    expect(rest).toEqual([]);
    expect(group).toMatchObject({ kind: 'group', channelId: 'hook', count: 300 });
    expect(group!.alerts).toHaveLength(20);
    expect(planner.tick()).toEqual([]);
  });

  it('announces the same alert id once per route; its repeats only count', () => {
    const c = clock();
    const planner = new NotifyPlanner({ config: notifyConfig({ groupWindow: '1m' }), now: c.now });
    expect(planner.accept(alert('same'))).toHaveLength(1);
    c.advance(120_000);
    planner.tick();
    expect(planner.accept(alert('same', 'high', { count: 5 }))).toEqual([]);
  });

  it('gives the same idempotency key to the same alert, route, step and channel, and different keys otherwise', () => {
    const a = new NotifyPlanner({ config: notifyConfig(), now: clock().now }).accept(alert('k'));
    const b = new NotifyPlanner({ config: notifyConfig(), now: clock(T0 + 5000).now }).accept(alert('k'));
    const other = new NotifyPlanner({ config: notifyConfig(), now: clock().now }).accept(alert('k2'));
    expect(a[0]!.key).toBe(b[0]!.key);
    expect(a[0]!.key).not.toBe(other[0]!.key);
    expect(a[0]!.key).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });

  it('holds non-critical alerts in quiet hours (22:00–07:00 +08:00) and lets critical through', () => {
    const c = clock(Date.parse('2026-12-07T15:00:00Z')); // 23:00 Beijing
    const planner = new NotifyPlanner({ config: notifyConfig({ quietHours: { from: '22:00', to: '07:00' } }), now: c.now });
    expect(planner.accept(alert('h1', 'high'))).toEqual([]);
    expect(planner.accept(alert('h2', 'medium', { rule: { id: 'rule-b', title: 'b', level: 'medium' } }))).toEqual([]);
    expect(planner.accept(alert('c1', 'critical', { rule: { id: 'rule-c', title: 'c', level: 'critical' } }))).toHaveLength(1);
    c.set(Date.parse('2026-12-07T22:59:00Z')); // 06:59
    expect(planner.tick().filter((d) => d.kind === 'held')).toEqual([]);
    c.set(Date.parse('2026-12-07T23:00:00Z')); // 07:00
    const held = planner.tick().filter((d) => d.kind === 'held');
    expect(held).toHaveLength(1);
    expect(held[0]).toMatchObject({ count: 2 });
    expect(held[0]!.alerts.map((a) => a.id)).toEqual(['h1', 'h2']);
  });

  it('keeps quiet hours in the configured timeZone when quietHours states no offset (UTC: 23:00 Beijing is 15:00, not quiet)', () => {
    const c = clock(Date.parse('2026-12-07T15:00:00Z'));
    const config = notifyConfig({ quietHours: { from: '22:00', to: '07:00' } });
    expect(new NotifyPlanner({ config, now: c.now, timeZone: 'UTC' }).accept(alert('u1', 'high'))).toHaveLength(1);
    expect(new NotifyPlanner({ config, now: c.now }).accept(alert('u2', 'high'))).toEqual([]);
    // A stated offset wins over the zone.
    const stated = notifyConfig({ quietHours: { from: '22:00', to: '07:00', utcOffset: '+08:00' } });
    expect(new NotifyPlanner({ config: stated, now: c.now, timeZone: 'UTC' }).accept(alert('u3', 'high'))).toEqual([]);
  });

  it('keeps what waits for quiet hours, the digest and open groups across a restart (snapshot → new planner)', () => {
    const c = clock(Date.parse('2026-12-07T15:00:00Z')); // 23:00 Beijing
    const config = notifyConfig({ quietHours: { from: '22:00', to: '07:00' } });
    const before = new NotifyPlanner({ config, now: c.now });
    before.accept(alert('q1', 'high'));
    before.accept(alert('d1', 'low'));
    before.accept(alert('c1', 'critical'));
    before.accept(alert('c2', 'critical'));
    expect(before.dirty).toBe(true);
    const saved = JSON.parse(JSON.stringify(before.snapshot()));
    expect(before.dirty).toBe(false);

    const after = new NotifyPlanner({ config, now: c.now, state: saved });
    c.set(Date.parse('2026-12-07T23:00:00Z')); // 07:00: quiet hours over, the group window long closed
    const due = after.tick();
    expect(due.map((d) => [d.kind, d.count])).toEqual([['group', 1], ['held', 1]]);
    c.set(Date.parse('2026-12-08T00:30:00Z'));
    expect(after.tick().map((d) => [d.kind, d.alerts.map((a) => a.id)])).toEqual([['digest', ['d1']]]);
    // A state from another version, or garbage, starts empty instead of failing.
    expect(new NotifyPlanner({ config, now: c.now, state: { v: 2 } }).tick()).toEqual([]);
    expect(new NotifyPlanner({ config, now: c.now, state: 'garbage' }).tick()).toEqual([]);
  });

  it('sends low levels once a day in the digest at digestAt', () => {
    const c = clock(Date.parse('2026-12-07T01:00:00Z')); // 09:00, after today's 08:30
    const planner = new NotifyPlanner({ config: notifyConfig(), now: c.now });
    for (let i = 0; i < 50; i++) expect(planner.accept(alert(`l${i}`, i % 2 ? 'low' : 'informational'))).toEqual([]);
    c.set(Date.parse('2026-12-08T00:29:00Z'));
    expect(planner.tick()).toEqual([]);
    c.set(Date.parse('2026-12-08T00:30:00Z'));
    const digest = planner.tick();
    expect(digest).toHaveLength(1);
    expect(digest[0]).toMatchObject({ kind: 'digest', count: 50 });
    expect(planner.tick()).toEqual([]);
  });

  it('rate-limits a channel per minute and sends what waited as one held message', () => {
    const c = clock();
    const planner = new NotifyPlanner({ config: notifyConfig({ rateLimitPerMinute: 3 }), now: c.now });
    const sent = Array.from({ length: 10 }, (_, i) => planner.accept(alert(`r${i}`, 'high', { system: `sys-${i}` }))).flat();
    expect(sent).toHaveLength(3);
    c.advance(30_000);
    expect(planner.tick()).toEqual([]);
    c.advance(30_001);
    const held = planner.tick();
    expect(held).toHaveLength(1);
    expect(held[0]).toMatchObject({ kind: 'held', count: 7 });
  });
});

describe('department contacts and on-call', () => {
  const department = DepartmentSchema.parse({
    id: 'dept-a', name: '市大数据局',
    contacts: { emails: ['sec@dept-a.gov.cn'], phones: ['13800000001'] },
    onCall: [
      { name: '夜班 night', phone: '13800000002', email: 'night@dept-a.gov.cn', from: '18:00', to: '08:00' },
      { name: '白班 day', phone: '13800000003', from: '08:00', to: '18:00' },
    ],
  });

  it('adds whoever is on call at that local time to the contacts', () => {
    expect(departmentRecipients(department, Date.parse('2026-12-07T15:00:00Z'))).toEqual({ // 23:00 Beijing
      emails: ['sec@dept-a.gov.cn', 'night@dept-a.gov.cn'], phones: ['13800000001', '13800000002'],
    });
    expect(departmentRecipients(department, Date.parse('2026-12-07T02:00:00Z'))).toEqual({ // 10:00
      emails: ['sec@dept-a.gov.cn'], phones: ['13800000001', '13800000003'],
    });
    expect(departmentRecipients(undefined, T0)).toEqual({ emails: [], phones: [] });
  });

  it('puts them on the messages of routes with toDepartment only, for the alert\'s own department', () => {
    const config = notifyConfig({ routes: [{ id: 'dept', channels: ['hook'], toDepartment: true }, { id: 'plain', channels: ['mail'] }] });
    const asked: (string | undefined)[] = [];
    const planner = new NotifyPlanner({
      config, now: clock().now,
      contactsOf: (id, at) => (asked.push(id), departmentRecipients(id === 'dept-a' ? department : undefined, at)),
    });
    const [dept, plain] = planner.accept(alert('x'));
    expect(dept).toMatchObject({ routeId: 'dept', recipients: { emails: ['sec@dept-a.gov.cn'], phones: ['13800000001', '13800000003'] } });
    expect(plain!.recipients).toBeUndefined();
    expect(planner.accept(alert('y', 'high', { department: 'dept-b', system: 'sys-b' }))[0]!.recipients).toBeUndefined();
    expect(asked).toEqual(['dept-a', 'dept-b']);
  });
});

describe('escalation', () => {
  const config = notifyConfig({
    routes: [{ id: 'all', channels: ['hook'], escalation: [{ channels: ['mail'] }, { channels: ['hook', 'mail'] }] }],
    escalateAfterMinutes: { critical: 10, high: 30 },
  });
  const route = config.routes[0]!;

  it('notifies tier k after k × the level delay while the alert is new; acknowledgement stops it', () => {
    const steps = escalationSteps(route, alert('e', 'critical'), config.escalateAfterMinutes);
    expect(steps.map((s) => [s.step, s.delayMs])).toEqual([[1, 600_000], [2, 1_200_000]]);
    const c = clock();
    const sent = new Set<number>();
    c.advance(599_999);
    expect(dueEscalations(steps, T0, c.now(), 'new', sent)).toEqual([]);
    c.advance(1);
    expect(dueEscalations(steps, T0, c.now(), 'new', sent).map((s) => s.step)).toEqual([1]);
    sent.add(1);
    c.advance(600_000);
    expect(dueEscalations(steps, T0, c.now(), 'acknowledged', sent)).toEqual([]);
    expect(dueEscalations(steps, T0, c.now(), 'in_progress', sent)).toEqual([]);
    expect(dueEscalations(steps, T0, c.now(), 'new', sent).map((s) => s.step)).toEqual([2]);
  });

  it('does not escalate a level without a delay', () => {
    expect(escalationSteps(route, alert('m', 'medium'), config.escalateAfterMinutes)).toEqual([]);
  });
});
