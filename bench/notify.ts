import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alertPriority, ConfigSchema, startLocalRedis, type Alert } from '../core/index.js';
import { EmbeddedStore } from '../store/index.js';
import { dispatchKey, NotifyPlanner, notifyingAlerts, startNotifier, type Notifier } from '../analyzers/index.js';

const ROUTED = 50_000;
const DELIVERED = 2_000;

function alertAt(i: number, tag: string): Alert {
  const at = new Date().toISOString();
  return {
    id: `bench-${tag}-${i}`, rule: { id: `rule-${i % 97}`, title: '基准告警 bench alert', level: i % 5 === 0 ? 'critical' : 'high' },
    mlps: ['8.1.4.3 a)'], department: `dept-${i % 116}`, system: `sys-${i}`, mlpsLevel: 1 + (i % 4), priority: alertPriority('high', 1 + (i % 4)),
    status: 'new', timeline: [], firstSeen: at, lastSeen: at, count: 1, sampleEventIds: [],
  };
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};

/** A local webhook that answers 200 and notes when each idempotency key arrived. */
async function receiver() {
  const arrivals = new Map<string, number>();
  let waiting: { count: number; resolve: () => void } | undefined;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      arrivals.set(String(req.headers['idempotency-key'] ?? randomUUID()), performance.now());
      res.writeHead(200).end();
      if (waiting && arrivals.size >= waiting.count) waiting.resolve();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    arrivals,
    until: (count: number) => new Promise<void>((resolve) => (arrivals.size >= count ? resolve() : (waiting = { count, resolve }))),
    reset: () => arrivals.clear(),
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/**
 * Routing: alerts/s through the planner (routes, grouping, rate limit; no I/O). Delivery: alerts written
 * through the notifying alert store (embedded SQLite), queued on BullMQ, sent as signed webhooks to a
 * local receiver, each attempt written to the alert's timeline; latency from the write to the receiver.
 * Baseline: the same number of raw HTTP POSTs to the same receiver at the same concurrency.
 */
export async function benchNotify(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'shouwang-bench-notify-'));
  const envRedis = process.env.SHOUWANG_TEST_REDIS_URL ?? process.env.SHOUWANG_REDIS_URL;
  const local = envRedis ? undefined : await startLocalRedis({ dir: join(dir, 'redis') });
  const redisUrl = envRedis ?? local!.url;
  const hook = await receiver();
  const store = new EmbeddedStore({ path: join(dir, 'bench.db') });
  const concurrency = 8;
  const config = ConfigSchema.parse({
    notify: {
      channels: [{ id: 'hook', type: 'webhook', url: hook.url, secret: 'bench-secret' }],
      routes: [{ id: 'all', channels: ['hook'] }, { id: 'l4', match: { mlpsLevels: [4], minLevel: 'critical' }, channels: ['hook'] }],
      rateLimitPerMinute: 1_000_000, concurrency, escalateAfterMinutes: {},
    },
  }).notify;
  try {
    const planner = new NotifyPlanner({ config });
    const routedAlerts = Array.from({ length: ROUTED }, (_, i) => alertAt(i, 'route'));
    let started = performance.now();
    let dispatches = 0;
    for (const alert of routedAlerts) dispatches += planner.accept(alert).length;
    const routedPerSecond = ROUTED / ((performance.now() - started) / 1000);

    const bodies = Array.from({ length: DELIVERED }, (_, i) => JSON.stringify(alertAt(i, 'raw')));
    started = performance.now();
    const rawLatency: number[] = [];
    let next = 0;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) {
        const i = next++;
        const t = performance.now();
        const res = await fetch(hook.url, { method: 'POST', body: bodies[i], headers: { 'content-type': 'application/json', 'idempotency-key': `raw-${i}` } });
        await res.arrayBuffer();
        rawLatency.push(performance.now() - t);
      }
    }));
    const rawPerSecond = DELIVERED / ((performance.now() - started) / 1000);
    hook.reset();

    const notifier: Notifier = await startNotifier({ config, redis: redisUrl, prefix: `bench-${randomUUID()}`, alerts: store.alerts });
    const alerts = notifyingAlerts(store.alerts, () => notifier);
    const written = new Map<string, number>();
    const deliveredAlerts = Array.from({ length: DELIVERED }, (_, i) => alertAt(i, `d${randomUUID().slice(0, 8)}`));
    started = performance.now();
    // Batches of 50, as the alert sink writes them.
    for (let i = 0; i < deliveredAlerts.length; i += 50) {
      const batch = deliveredAlerts.slice(i, i + 50);
      const at = performance.now();
      for (const alert of batch) written.set(alert.id, at);
      await alerts.upsert(batch);
    }
    const expected = messagesFor(config, deliveredAlerts);
    await hook.until(expected);
    const deliveredPerSecond = DELIVERED / ((performance.now() - started) / 1000);
    // Per alert: its message on route `all` (the key is alert × route × step × channel).
    const latencies = deliveredAlerts.map((alert) => hook.arrivals.get(dispatchKey('alert', 'all', 'hook', 0, alert.id))! - written.get(alert.id)!);
    await notifier.close();

    console.log(`\nnotify: ${ROUTED.toLocaleString('en-US')} alerts routed (planner, ${dispatches} messages), ${DELIVERED.toLocaleString('en-US')} alerts delivered to a local webhook (${expected} messages), concurrency ${concurrency}`);
    console.log(`  routed (planner only)                    ${Math.round(routedPerSecond).toLocaleString('en-US').padStart(10)} alerts/s`);
    console.log(`  raw HTTP POST (baseline)                 ${Math.round(rawPerSecond).toLocaleString('en-US').padStart(10)} posts/s   p50 ${percentile(rawLatency, 50).toFixed(1)} ms  p95 ${percentile(rawLatency, 95).toFixed(1)} ms`);
    console.log(`  store → queue → webhook → timeline       ${Math.round(deliveredPerSecond).toLocaleString('en-US').padStart(10)} alerts/s  p50 ${percentile(latencies, 50).toFixed(1)} ms  p95 ${percentile(latencies, 95).toFixed(1)} ms  (${(deliveredPerSecond / rawPerSecond).toFixed(2)}× baseline)`);
  } finally {
    await hook.close();
    await store.close();
    await local?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** How many messages the alerts make (a fresh planner over the same alerts). */
function messagesFor(config: ConstructorParameters<typeof NotifyPlanner>[0]['config'], alerts: readonly Alert[]): number {
  const planner = new NotifyPlanner({ config });
  return alerts.reduce((n, alert) => n + planner.accept(alert).length, 0);
}
