import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { alertPriority, createMetricsRegistry, startLocalRedis, type Alert, type AlertStatus } from '../../../core/index.js';
import {
  dispatchKey, escalationDispatches, NotifyQueue, startNotifyWorker, type DeliveryAttempt, type Dispatch, type ResolvedChannel,
} from '../../../analyzers/notify/index.js';
import { DIST } from '../../harness/built.js';
import { startReceiver, verifyWebhook, type Received } from './receivers.js';
import { eventually, eventuallyValue } from '../../support/eventually.js';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
});

const dir = mkdtempSync(join(tmpdir(), 'shouwang-notify-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function alert(status: AlertStatus = 'new'): Alert {
  const at = new Date().toISOString();
  return {
    id: `a-${randomUUID()}`, rule: { id: 'r', title: '测试 test', level: 'critical' }, mlps: [], system: 'sys', department: 'dept',
    mlpsLevel: 3, priority: alertPriority('critical', 3), status, timeline: [], firstSeen: at, lastSeen: at, count: 1, sampleEventIds: [],
  };
}

function dispatch(a = alert(), channelId = 'hook'): Dispatch {
  return { key: dispatchKey('alert', 'route', channelId, 0, a.id), kind: 'alert', routeId: 'route', channelId, step: 0, alerts: [a], count: 1 };
}

const hookChannel = (url: string, secret = 'child-secret'): Map<string, ResolvedChannel> => new Map([['hook', { id: 'hook', type: 'webhook', url, secret }]]);

const waitFor = <T>(read: () => Promise<T> | T, ok: (value: T) => boolean, what: string, timeout = 30_000) =>
  eventuallyValue(read, ok, what, { timeout });

function setup(redisUrl: string, attempts = 3) {
  const prefix = `test-${randomUUID()}`;
  const queue = new NotifyQueue({ redis: redisUrl, prefix, attempts, backoffMs: 20 });
  cleanups.push(() => queue.close());
  return { prefix, queue };
}

function worker(options: Parameters<typeof startNotifyWorker>[0]) {
  const w = startNotifyWorker({ lockDuration: 1000, stalledInterval: 500, ...options });
  cleanups.push(() => w.close());
  return w;
}

const keys = (requests: Received[]) => new Set(requests.map((r) => r.headers['idempotency-key']));
const state = async (queue: NotifyQueue, id: string) => (await queue.queue.getJob(id))?.getState();

describe('notification delivery on BullMQ', () => {
  it('queues one job per idempotency key, delivers it once and records the attempt', async () => {
    const receiver = await startReceiver(() => ({ status: 200 }));
    cleanups.push(receiver.close);
    const { prefix, queue } = setup(inject('redisUrl'));
    const d = dispatch();
    await queue.enqueue(d);
    await queue.enqueue(d); // the same alert × route × step × channel again: no second job
    const attempts: DeliveryAttempt[] = [];
    worker({ redis: inject('redisUrl'), prefix, channels: hookChannel(`${receiver.url}/h`), onAttempt: (a) => void attempts.push(a) });
    await waitFor(() => state(queue, d.key), (s) => s === 'completed', 'the job to complete');
    expect(receiver.requests).toHaveLength(1);
    expect(verifyWebhook('child-secret', receiver.requests[0]!)).toBe(true);
    expect(attempts).toMatchObject([{ key: d.key, alertIds: [d.alerts[0]!.id], channel: 'hook', outcome: 'delivered', attempt: 1, step: 0 }]);
    expect(attempts[0]!.latencyMs).toBeGreaterThanOrEqual(0);
    await queue.enqueue(d); // after completion too
    expect(await queue.queue.getJobCounts('wait', 'delayed', 'active')).toEqual({ wait: 0, delayed: 0, active: 0 });
  });

  it('retries with backoff, records each failed attempt, and gives up after the last with one give-up call', async () => {
    let calls = 0;
    const receiver = await startReceiver(() => ({ status: ++calls < 3 ? 503 : 200 }));
    cleanups.push(receiver.close);
    const { prefix, queue } = setup(inject('redisUrl'), 3);
    const good = dispatch();
    await queue.enqueue(good);
    const attempts: DeliveryAttempt[] = [];
    const gaveUp: DeliveryAttempt[] = [];
    const registry = createMetricsRegistry({ defaultMetrics: false });
    worker({ redis: inject('redisUrl'), prefix, channels: hookChannel(`${receiver.url}/h`), onAttempt: (a) => void attempts.push(a), onGiveUp: (a) => void gaveUp.push(a), registry });
    await waitFor(() => state(queue, good.key), (s) => s === 'completed', 'the third try to deliver');
    expect(attempts.map((a) => [a.attempt, a.outcome])).toEqual([[1, 'failed'], [2, 'failed'], [3, 'delivered']]);
    expect(attempts[0]!.error).toMatch(/HTTP 503/);
    expect(gaveUp).toEqual([]);

    const dead = dispatch(alert(), 'gone'); // a channel that is not configured (and never answers)
    await queue.enqueue(dead);
    await waitFor(() => state(queue, dead.key), (s) => s === 'failed', 'the dead job to fail');
    expect(gaveUp).toHaveLength(1);
    expect(gaveUp[0]).toMatchObject({ key: dead.key, attempt: 3, outcome: 'failed' });

    const metric = async (name: string) => (await registry.getSingleMetric(name)!.get()).values;
    expect(await metric('shouwang_notify_attempts_total')).toEqual(expect.arrayContaining([
      expect.objectContaining({ labels: { channel: 'hook', outcome: 'failed' }, value: 2 }),
      expect.objectContaining({ labels: { channel: 'hook', outcome: 'delivered' }, value: 1 }),
      expect.objectContaining({ labels: { channel: 'gone', outcome: 'failed' }, value: 3 }),
    ]));
    expect((await metric('shouwang_notify_delivery_seconds')).find((v) => (v as { metricName?: string }).metricName === 'shouwang_notify_delivery_seconds_count')).toMatchObject({ labels: { channel: 'hook' }, value: 1 });
    await eventually(async () => expect(await metric('shouwang_notify_failed_total')).toEqual([expect.objectContaining({ labels: { channel: 'gone' }, value: 1 })]));
  });

  it('does not send an escalation tier for an alert acknowledged meanwhile, and records the skip', async () => {
    const receiver = await startReceiver(() => ({ status: 200 }));
    cleanups.push(receiver.close);
    const { prefix, queue } = setup(inject('redisUrl'));
    const acked = alert();
    const open = alert();
    const route = { id: 'route', match: {}, channels: ['hook'], toDepartment: false, escalation: [{ channels: ['hook'] }] };
    const step = { step: 1, delayMs: 50, channels: ['hook'] };
    const [dAcked] = escalationDispatches(route, acked, step);
    const [dOpen] = escalationDispatches(route, open, step);
    await queue.enqueue(dAcked!, step.delayMs);
    await queue.enqueue(dOpen!, step.delayMs);
    const statuses = new Map<string, AlertStatus>([[acked.id, 'acknowledged'], [open.id, 'new']]);
    const attempts: DeliveryAttempt[] = [];
    worker({
      redis: inject('redisUrl'), prefix, channels: hookChannel(`${receiver.url}/h`),
      statusOf: async (id) => statuses.get(id), onAttempt: (a) => void attempts.push(a),
    });
    await waitFor(async () => [await state(queue, dAcked!.key), await state(queue, dOpen!.key)], (s) => s.every((x) => x === 'completed'), 'both tiers');
    expect(receiver.requests).toHaveLength(1);
    expect(JSON.parse(receiver.requests[0]!.body)).toMatchObject({ kind: 'escalation', step: 1 });
    expect(attempts.find((a) => a.alertIds[0] === acked.id)).toMatchObject({ outcome: 'skipped', error: 'status acknowledged' });
  });
});

describe('exactly once across a worker kill and a Redis restart', () => {
  // The worker runs the built program (the integration setup rebuilds dist/ when stale).
  const distDir = DIST;

  async function child(redisUrl: string, prefix: string, url: string, mode: 'request' | 'recorded') {
    const proc = spawn(process.execPath, [resolve('test/analyzers/notify/fixtures/notify-worker.mjs'), distDir, redisUrl, prefix, url, mode], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    cleanups.push(() => void proc.kill('SIGKILL'));
    const lines = createInterface({ input: proc.stdout! });
    const seen: string[] = [];
    lines.on('line', (line) => seen.push(line));
    return { proc, seen };
  }

  it('a worker SIGKILLed while the receiver holds the request: the job runs again with the same key, nothing is lost', async () => {
    let first = true;
    const receiver = await startReceiver(() => (first ? ((first = false), 'hold') : { status: 200 }));
    cleanups.push(receiver.close);
    const { prefix, queue } = setup(inject('redisUrl'));
    const d = dispatch();
    await queue.enqueue(d);
    const { proc } = await child(inject('redisUrl'), prefix, `${receiver.url}/h`, 'request');
    await waitFor(() => receiver.requests.length, (n) => n === 1, 'the child to send');
    proc.kill('SIGKILL');
    await once(proc, 'exit');
    expect(await state(queue, d.key)).toBe('active'); // still locked by the dead worker
    const attempts: DeliveryAttempt[] = [];
    worker({ redis: inject('redisUrl'), prefix, channels: hookChannel(`${receiver.url}/h`), onAttempt: (a) => void attempts.push(a) });
    await waitFor(() => state(queue, d.key), (s) => s === 'completed', 'the stalled job to complete');
    // The dead worker cannot know whether its request arrived: the copy carries the same key, so the receiver keeps one.
    expect(receiver.requests).toHaveLength(2);
    expect([...keys(receiver.requests)]).toEqual([d.key]);
    expect(attempts.filter((a) => a.outcome === 'delivered')).toHaveLength(1);
  });

  it('a worker SIGKILLed after delivering but before the job completed: the rerun does not send again', async () => {
    const receiver = await startReceiver(() => ({ status: 200 }));
    cleanups.push(receiver.close);
    const { prefix, queue } = setup(inject('redisUrl'));
    const d = dispatch();
    await queue.enqueue(d);
    const { proc, seen } = await child(inject('redisUrl'), prefix, `${receiver.url}/h`, 'recorded');
    await waitFor(() => seen, (lines) => lines.includes(`delivered ${d.key}`), 'the child to deliver');
    proc.kill('SIGKILL');
    await once(proc, 'exit');
    expect(await state(queue, d.key)).toBe('active');
    const attempts: DeliveryAttempt[] = [];
    worker({ redis: inject('redisUrl'), prefix, channels: hookChannel(`${receiver.url}/h`), onAttempt: (a) => void attempts.push(a) });
    await waitFor(() => state(queue, d.key), (s) => s === 'completed', 'the stalled job to complete');
    expect(receiver.requests).toHaveLength(1);
    expect(attempts).toMatchObject([{ outcome: 'delivered', error: 'already delivered' }]);
  });

  it('carries on through a Redis restart mid-delivery: one message, and later messages flow', async () => {
    const redisDir = join(dir, `redis-${randomUUID()}`);
    let redis = await startLocalRedis({ dir: redisDir });
    cleanups.push(() => redis.stop());
    let first = true;
    const receiver = await startReceiver(() => (first ? ((first = false), 'hold') : { status: 200 }));
    cleanups.push(receiver.close);
    const { prefix, queue } = setup(redis.url);
    const attempts: DeliveryAttempt[] = [];
    worker({ redis: redis.url, prefix, channels: hookChannel(`${receiver.url}/h`), onAttempt: (a) => void attempts.push(a) });
    const d = dispatch();
    await queue.enqueue(d);
    await waitFor(() => receiver.requests.length, (n) => n === 1, 'the worker to send');
    await redis.stop();
    redis = await startLocalRedis({ dir: redisDir, port: redis.port });
    receiver.release();
    await waitFor(() => state(queue, d.key), (s) => s === 'completed', 'the job to complete after the restart');
    const next = dispatch();
    await queue.enqueue(next);
    await waitFor(() => state(queue, next.key), (s) => s === 'completed', 'a new job after the restart');
    expect(receiver.requests.map((r) => r.headers['idempotency-key'])).toEqual([d.key, next.key]);
    expect(attempts.filter((a) => a.outcome === 'delivered').map((a) => a.key)).toEqual([d.key, next.key]);
  });
});
