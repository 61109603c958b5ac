import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { alertPriority, ConfigSchema, type Alert, type RuleLevel } from '../../../core/index.js';
import { EmbeddedStore } from '../../../store/index.js';
import { NOTIFY_FAILED_RULE, notifyingAlerts, startNotifier, type Notifier } from '../../../analyzers/notify/index.js';
import { startReceiver, verifyWebhook } from './receivers.js';
import { eventuallyValue } from '../../support/eventually.js';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
});
const dir = mkdtempSync(join(tmpdir(), 'shouwang-notifier-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function alert(level: RuleLevel = 'critical', ruleId = 'rule-a'): Alert {
  const at = new Date().toISOString();
  return {
    id: `a-${randomUUID()}`, rule: { id: ruleId, title: '测试告警 test alert', level }, mlps: ['8.1.4.3 a)'], department: 'dept-a', system: `sys-${randomUUID()}`,
    mlpsLevel: 3, priority: alertPriority(level, 3), status: 'new', timeline: [{ at, actor: 'shouwang', action: 'raised' }],
    firstSeen: at, lastSeen: at, count: 1, sampleEventIds: [],
  };
}

const waitFor = <T>(read: () => Promise<T> | T, ok: (value: T) => boolean, what: string, timeout = 30_000) =>
  eventuallyValue(read, ok, what, { timeout });

async function setup(notify: Record<string, unknown>, more: Partial<Parameters<typeof startNotifier>[0]> = {}) {
  const store = new EmbeddedStore({ path: join(dir, `${randomUUID()}.db`) });
  cleanups.push(() => store.close());
  const config = ConfigSchema.parse({ notify }).notify;
  const notifier: Notifier = await startNotifier({
    config, redis: inject('redisUrl'), prefix: `test-${randomUUID()}`, alerts: store.alerts, tickMs: 50, ...more,
  });
  cleanups.push(() => notifier.close());
  return { store, notifier, alerts: notifyingAlerts(store.alerts, () => notifier) };
}

describe('notifier wired to the alert store', () => {
  it('sends a written alert to its route and records the attempt on the alert timeline', async () => {
    const receiver = await startReceiver(() => ({ status: 200 }));
    cleanups.push(receiver.close);
    const { store, alerts } = await setup({
      channels: [{ id: 'hook', type: 'webhook', url: `${receiver.url}/h`, secret: 'wired-secret' }],
      routes: [{ id: 'high-up', match: { minLevel: 'high' }, channels: ['hook'] }],
      consoleUrl: 'https://soc.example.gov.cn',
    });
    const loud = alert('critical');
    const quiet = alert('medium');
    await alerts.upsert([loud, quiet]);
    await waitFor(async () => (await store.alerts.get(loud.id))?.timeline ?? [], (t) => t.some((e) => e.action === 'notify'), 'the timeline entry');
    expect(receiver.requests).toHaveLength(1);
    expect(verifyWebhook('wired-secret', receiver.requests[0]!)).toBe(true);
    expect(JSON.parse(receiver.requests[0]!.body).text).toContain(`https://soc.example.gov.cn/alerts/${loud.id}`);
    const entry = (await store.alerts.get(loud.id))!.timeline.find((e) => e.action === 'notify')!;
    expect(entry).toMatchObject({ actor: 'notify', notification: { channel: 'hook', route: 'high-up', step: 0, kind: 'alert', outcome: 'delivered', attempt: 1 } });
    expect(entry.notification!.latencyMs).toBeGreaterThanOrEqual(0);
    expect((await store.alerts.get(quiet.id))!.timeline.map((e) => e.action)).toEqual(['raised']);
  });

  it('does not send an alert a triage suppression covers, but stores it marked', async () => {
    const receiver = await startReceiver(() => ({ status: 200 }));
    cleanups.push(receiver.close);
    const { store, alerts } = await setup({
      channels: [{ id: 'hook', type: 'webhook', url: `${receiver.url}/h` }],
      routes: [{ id: 'all', channels: ['hook'] }],
    });
    const at = new Date();
    await store.alerts.createSuppression({
      id: `sup-${randomUUID()}`, ruleId: 'rule-scanner', department: 'dept-a', reason: 'known scanner', createdBy: 'officer',
      createdAt: at.toISOString(), expiresAt: new Date(at.getTime() + 86_400_000).toISOString(),
    });
    const scanner = alert('critical', 'rule-scanner');
    const loud = alert('critical', 'rule-other');
    await alerts.upsert([scanner, loud]);
    await waitFor(async () => (await store.alerts.get(loud.id))?.timeline ?? [], (t) => t.some((e) => e.action === 'notify'), 'the loud alert sent');
    await alerts.upsert([{ ...scanner, count: 1 }]);
    // Sent in order through one queue: a message about the scanner would be there by the time a later one is.
    const later = alert('critical', 'rule-later');
    await alerts.upsert([later]);
    await waitFor(async () => (await store.alerts.get(later.id))?.timeline ?? [], (t) => t.some((e) => e.action === 'notify'), 'the later alert sent');
    expect(receiver.requests.map((r) => r.body).join('\n')).not.toContain(scanner.id);
    expect(await store.alerts.get(scanner.id)).toMatchObject({ count: 2, suppressed: { id: expect.stringMatching(/^sup-/) } });
    expect((await store.alerts.get(scanner.id))!.timeline.map((e) => e.action)).toEqual(['raised']);
  });

  it('escalates an unacknowledged alert to the next tier and stops for an acknowledged one', async () => {
    const first = await startReceiver(() => ({ status: 200 }));
    const second = await startReceiver(() => ({ status: 200 }));
    cleanups.push(first.close, second.close);
    const { store, alerts } = await setup({
      channels: [{ id: 'duty', type: 'webhook', url: `${first.url}/h` }, { id: 'chief', type: 'webhook', url: `${second.url}/h` }],
      routes: [{ id: 'r', channels: ['duty'], escalation: [{ channels: ['chief'] }] }],
      escalateAfterMinutes: { critical: 0.02 }, // 1.2 s
    });
    const ignored = alert('critical', 'rule-x');
    const acked = alert('critical', 'rule-y');
    await alerts.upsert([ignored, acked]);
    await waitFor(() => first.requests.length, (n) => n === 2, 'both first notices');
    await store.alerts.update(acked.id, { status: 'acknowledged', actor: 'officer' });
    await waitFor(async () => (await store.alerts.get(acked.id))!.timeline, (t) => t.some((e) => e.notification?.outcome === 'skipped'), 'the skipped tier');
    await waitFor(() => second.requests.length, (n) => n >= 1, 'the escalation');
    expect(second.requests.map((r) => JSON.parse(r.body).alerts[0].id)).toEqual([ignored.id]);
    const notified = async () => (await store.alerts.get(ignored.id))!.timeline.filter((e) => e.action === 'notify');
    expect((await waitFor(notified, (t) => t.length === 2, 'the tier on the timeline')).map((e) => [e.notification!.channel, e.notification!.step, e.notification!.outcome]))
      .toEqual([['duty', 0, 'delivered'], ['chief', 1, 'delivered']]);
  });

  it('sends an escalation tier to the subscribers of when it is due: a user disabled meanwhile gets nothing', async () => {
    const hook = await startReceiver(() => ({ status: 200 }));
    const sms = await startReceiver(() => ({ status: 200 }));
    cleanups.push(hook.close, sms.close);
    const users = [
      { username: 'leaver', role: 'security_officer', departments: ['dept-a'], disabled: false, notifications: { phone: '13900000001', minLevel: 'high' as const, optOut: false } },
      { username: 'stays', role: 'security_officer', departments: ['dept-a'], disabled: false, notifications: { phone: '13900000002', minLevel: 'high' as const, optOut: false } },
    ];
    const { alerts } = await setup({
      channels: [{ id: 'duty', type: 'webhook', url: `${hook.url}/h` }, { id: 'sms', type: 'sms', url: `${sms.url}/sms`, phones: ['13800000000'] }],
      routes: [{ id: 'r', channels: ['duty'], toUsers: true, escalation: [{ channels: ['sms'] }] }],
      escalateAfterMinutes: { critical: 0.02 }, // 1.2 s
    }, { usersOf: () => users });
    await alerts.upsert([alert('critical', 'rule-z')]);
    await waitFor(() => hook.requests.length, (n) => n === 1, 'the first notice');
    users[0]!.disabled = true; // left the office before the tier was due
    await waitFor(() => sms.requests.length, (n) => n === 1, 'the escalation');
    expect(JSON.parse(sms.requests[0]!.body).phones).toEqual(['13800000000', '13900000002']);
  });

  it('raises a system alert when a channel still fails after the last retry, and records every failed attempt', async () => {
    const receiver = await startReceiver(() => ({ status: 500 }));
    cleanups.push(receiver.close);
    const { store, alerts } = await setup({
      channels: [{ id: 'broken', type: 'webhook', url: `${receiver.url}/h` }],
      routes: [{ id: 'r', match: { rules: ['rule-z'] }, channels: ['broken'] }],
      attempts: 2, backoffMs: 20,
    });
    const a = alert('high', 'rule-z');
    await alerts.upsert([a]);
    const page = await waitFor(() => store.alerts.search({ ruleId: [NOTIFY_FAILED_RULE.id] }), (p) => p.items.length === 1, 'the system alert');
    expect(page.items[0]).toMatchObject({ rule: { id: NOTIFY_FAILED_RULE.id, level: 'high' }, groupKey: 'channel=broken' });
    const failed = (await store.alerts.get(a.id))!.timeline.filter((e) => e.action === 'notify');
    expect(failed.map((e) => [e.notification!.attempt, e.notification!.outcome])).toEqual([[1, 'failed'], [2, 'failed']]);
    expect(failed[0]!.notification!.error).toMatch(/HTTP 500/);
  });

  it('does not send the system alert of a failed channel while a suppression covers it, but stores it marked', async () => {
    const broken = await startReceiver(() => ({ status: 500 }));
    const hook = await startReceiver(() => ({ status: 200 }));
    cleanups.push(broken.close, hook.close);
    const { store, alerts } = await setup({
      channels: [{ id: 'broken', type: 'webhook', url: `${broken.url}/h` }, { id: 'hook', type: 'webhook', url: `${hook.url}/h` }],
      routes: [{ id: 'r', match: { rules: ['rule-z'] }, channels: ['broken'] }, { id: 'ops', match: { rules: [NOTIFY_FAILED_RULE.id, 'rule-later'] }, channels: ['hook'] }],
      attempts: 1, backoffMs: 20,
    });
    const at = new Date();
    // The system alert has no department: a city-wide suppression of it (an unscoped officer's).
    await store.alerts.createSuppression({
      id: `sup-${randomUUID()}`, ruleId: NOTIFY_FAILED_RULE.id, groupKey: 'channel=broken', reason: 'channel being replaced', createdBy: 'officer',
      createdAt: at.toISOString(), expiresAt: new Date(at.getTime() + 86_400_000).toISOString(),
    });
    await alerts.upsert([alert('high', 'rule-z')]);
    const page = await waitFor(() => store.alerts.search({ ruleId: [NOTIFY_FAILED_RULE.id] }), (p) => p.items.length === 1, 'the system alert');
    expect(page.items[0]!.suppressed).toBeDefined();
    const later = { ...alert('high', 'rule-later'), department: undefined };
    await alerts.upsert([later]);
    await waitFor(async () => (await store.alerts.get(later.id))?.timeline ?? [], (t) => t.some((e) => e.action === 'notify'), 'the later alert sent');
    expect(hook.requests.map((r) => r.body).join('\n')).not.toContain(page.items[0]!.id);
  });

  it('sends a test message to a channel and refuses an unknown one', async () => {
    const receiver = await startReceiver(() => ({ status: 200 }));
    cleanups.push(receiver.close);
    const { notifier } = await setup({ channels: [{ id: 'hook', type: 'webhook', url: `${receiver.url}/h` }] });
    await notifier.sendTest('hook', 'admin');
    expect(JSON.parse(receiver.requests[0]!.body)).toMatchObject({ kind: 'test' });
    await expect(notifier.sendTest('nope', 'admin')).rejects.toMatchObject({ code: 'SW_ERR_NOTIFY_UNKNOWN_CHANNEL' });
  });
});
