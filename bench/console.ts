import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import {
  alertId, alertPriority, createLogger, createMetricsRegistry, parseInventory, RULE_LEVELS,
  type Alert, type AlertStatus, type Inventory, type JobResult, type ShouwangEvent,
} from '../core/index.js';
import { EmbeddedStore } from '../store/index.js';
import { buildApp, hashPassword } from '../console/index.js';

const CACHE_DIR = '/tmp/shouwang-bench-console';
const DEPARTMENTS = 116;
const SYSTEMS = 138;
const ALERTS = 5_000;
const DAYS = 30;
const BATCH = 50_000;
const REQUESTS = 40;
const PASSWORD = 'bench password 守望';
const DAY_MS = 86_400_000;

/** A deterministic pseudo-random sequence, so a cached database and a fresh one hold the same data. */
function random(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

function benchInventory(): Inventory {
  const pad = (n: number) => String(n).padStart(3, '0');
  return parseInventory({
    departments: Array.from({ length: DEPARTMENTS }, (_, i) => ({ id: `dept-${pad(i)}`, name: `部门 ${pad(i)}` })),
    systems: Array.from({ length: SYSTEMS }, (_, i) => ({
      id: `sys-${pad(i)}`, name: `系统 ${pad(i)}`, department: `dept-${pad(i % DEPARTMENTS)}`, mlpsLevel: 2 + (i % 3),
      zone: '政务外网', owner: { name: '运维' }, hosts: [`sys-${pad(i)}-app`, `sys-${pad(i)}-db`],
      backup: { rpo: '1d', rto: '4h', sameCity: { type: 'path', path: `/srv/same/${i}` }, offSite: { type: 'path', path: `/srv/off/${i}` } },
    })),
  }, 'bench');
}

const DATASETS = ['syslog', 'mariadb.audit', 'web.access', 'auditd.log'];
const USERS = ['root', 'admin', 'zhangsan', 'lisi', 'wangwu', 'app'];

function event(inventory: Inventory, n: number, time: number, next: () => number): ShouwangEvent {
  const system = inventory.systems[Math.floor(next() * SYSTEMS)]!;
  const host = system.hosts[n % 2]!;
  const user = USERS[Math.floor(next() * USERS.length)]!;
  const outcome = next() < 0.1 ? 'failure' : 'success';
  return {
    id: `bench-${n}`, '@timestamp': new Date(time).toISOString(),
    message: `${outcome === 'failure' ? 'Failed' : 'Accepted'} password for ${user} from 10.${n % 250}.${(n >> 8) % 250}.${n % 7} port ${1024 + (n % 60000)} ssh2`,
    host: { name: host }, user: { name: user }, event: { dataset: DATASETS[n % DATASETS.length]!, outcome },
    source: { ip: `10.${n % 250}.${(n >> 8) % 250}.${n % 7}` },
    shouwang: { department: system.department, system: system.id, mlps_level: system.mlpsLevel },
  };
}

/** Seeds once per size: events spread over 30 days, alerts, 8 days of daily check runs and drills. */
async function seed(path: string, total: number, inventory: Inventory): Promise<void> {
  const store = new EmbeddedStore({ path });
  try {
    await store.assets.replaceInventory(inventory);
    const next = random(total);
    const end = Date.now();
    const started = Date.now();
    for (let offset = 0; offset < total; offset += BATCH) {
      const batch: ShouwangEvent[] = [];
      for (let n = offset; n < Math.min(total, offset + BATCH); n += 1) {
        batch.push(event(inventory, n, end - DAYS * DAY_MS + Math.floor((n / total) * DAYS * DAY_MS), next));
      }
      await store.events.write(batch);
      if ((offset / BATCH) % 20 === 0) {
        const rate = Math.round((offset + batch.length) / ((Date.now() - started) / 1000));
        console.log(`  seeded ${(offset + batch.length).toLocaleString('en-US')} events (${rate.toLocaleString('en-US')}/s)`);
      }
    }
    const statuses: AlertStatus[] = ['new', 'new', 'new', 'new', 'acknowledged', 'in_progress', 'resolved', 'resolved', 'resolved', 'false_positive'];
    const alerts: Alert[] = [];
    for (let i = 0; i < ALERTS; i += 1) {
      const system = inventory.systems[Math.floor(next() * SYSTEMS)]!;
      const level = RULE_LEVELS[1 + Math.floor(next() * 4)]!;
      const seen = new Date(end - Math.floor(next() * DAYS * DAY_MS)).toISOString();
      alerts.push({
        id: alertId(`rule-${i % 80}`, `${system.id}-${i}`, seen), rule: { id: `rule-${i % 80}`, title: `规则 ${i % 80}`, level },
        mlps: ['8.1.4.3 a)'], department: system.department, system: system.id, mlpsLevel: system.mlpsLevel,
        priority: alertPriority(level, system.mlpsLevel), status: statuses[i % statuses.length]!,
        timeline: [{ at: seen, actor: 'analyzer', action: 'raised' }], firstSeen: seen, lastSeen: seen, count: 1 + (i % 5),
        sampleEventIds: [`bench-${i}`],
      });
    }
    await store.alerts.upsert(alerts);
    const checks = ['presence', 'freshness', 'completeness', 'integrity', 'retention'];
    for (const system of inventory.systems) {
      for (let day = 0; day < 8; day += 1) {
        const finished = new Date(end - day * DAY_MS).toISOString();
        const runId = `run-${system.id}-${day}`;
        for (const site of ['same-city', 'off-site'] as const) {
          for (const check of checks) {
            const status: JobResult['status'] = next() < 0.05 ? 'fail' : next() < 0.1 ? 'warn' : 'pass';
            await store.jobResults.put({
              id: `${runId}-${site}-${check}`, kind: 'backup-check', status, system: system.id, department: system.department, site,
              startedAt: finished, finishedAt: finished, summary: `${check} ${status}`,
              detail: { check, site, runId, ...(check === 'freshness' ? { latestSetTime: new Date(end - day * DAY_MS - 3_600_000).toISOString() } : {}) },
            });
          }
        }
      }
      for (let d = 0; d < 3; d += 1) {
        const finished = new Date(end - d * 30 * DAY_MS).toISOString();
        await store.jobResults.put({
          id: `drill-${system.id}-${d}`, kind: 'restore-drill', status: next() < 0.2 ? 'fail' : 'pass', system: system.id,
          department: system.department, startedAt: finished, finishedAt: finished, summary: 'drill',
          detail: { rto: { targetSeconds: 14_400, achievedSeconds: 600 + Math.floor(next() * 3600), met: true } },
        });
      }
    }
  } finally {
    await store.close();
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function signIn(app: FastifyInstance, username: string): Promise<string> {
  const response = await app.inject({ method: 'POST', url: '/api/session', payload: { username, password: PASSWORD } });
  if (response.statusCode !== 200) throw new Error(`login ${username}: ${response.statusCode} ${response.body}`);
  return String(response.headers['set-cookie']).split(';')[0]!;
}

async function benchAt(total: number): Promise<void> {
  mkdirSync(CACHE_DIR, { recursive: true });
  const path = join(CACHE_DIR, `events-${total}.db`);
  const inventory = benchInventory();
  if (!existsSync(path)) {
    console.log(`\nconsole: seeding ${total.toLocaleString('en-US')} events into ${path} (cached for later runs)`);
    const started = Date.now();
    await seed(path, total, inventory);
    console.log(`  seeded in ${Math.round((Date.now() - started) / 1000)} s`);
  }
  const store = new EmbeddedStore({ path });
  const raw = new Database(path, { readonly: true });
  let app: FastifyInstance | undefined;
  try {
    // A live stream: one fresh event per host, so the sources report as they would in production.
    const now = Date.now();
    await store.events.write(inventory.systems.flatMap((system, i) => system.hosts.map((host, h) => ({
      ...event(inventory, i * 2 + h, now - 60_000, random(i)), id: `live-${now}-${i}-${h}`, host: { name: host },
      shouwang: { department: system.department, system: system.id, mlps_level: system.mlpsLevel },
    }))));
    const hash = await hashPassword(PASSWORD);
    const at = new Date().toISOString();
    for (const [username, role, departments] of [['bench-admin', 'admin', []], ['bench-viewer', 'department_viewer', ['dept-007']]] as const) {
      await store.users.delete(username);
      await store.users.create({
        username, displayName: username, role, departments: [...departments], passwordHash: hash, disabled: false,
        failedLogins: 0, sessionEpoch: 0, createdAt: at, updatedAt: at,
      });
    }
    app = await buildApp({ store, registry: createMetricsRegistry({ defaultMetrics: false }), logger: createLogger({ level: 'silent' }) });
    const admin = await signIn(app, 'bench-admin');
    const viewer = await signIn(app, 'bench-viewer');
    const get = (url: string, cookie?: string) => async () => {
      const response = await app!.inject({ method: 'GET', url, ...(cookie ? { headers: { cookie } } : {}) });
      if (response.statusCode !== 200) throw new Error(`${url}: ${response.statusCode} ${response.body.slice(0, 200)}`);
    };
    const openCount = raw.prepare("SELECT count(*) AS n FROM alerts WHERE status IN ('new', 'acknowledged', 'in_progress')");

    // The first posture call pays for the source-status queries, which are then cached for 60 s.
    const coldStart = performance.now();
    await get('/api/posture', admin)();
    const cold = performance.now() - coldStart;

    const routes: Record<string, () => Promise<unknown>> = {
      'GET /healthz (baseline)': get('/healthz'),
      'raw SQL: count open alerts (baseline)': async () => openCount.get(),
      'GET /api/posture (admin, all 116 departments)': get('/api/posture', admin),
      'GET /api/posture (department viewer)': get('/api/posture', viewer),
      'GET /api/posture/top?limit=10': get('/api/posture/top?limit=10', admin),
      'GET /api/posture/trend?days=30': get('/api/posture/trend?days=30', admin),
      'GET /api/posture/systems/sys-007': get('/api/posture/systems/sys-007', admin),
      'GET /api/alerts (newest 50)': get('/api/alerts', admin),
      'GET /api/alerts?status=new&department=dept-007': get('/api/alerts?status=new&department=dept-007', admin),
      'GET /api/alerts (department viewer)': get('/api/alerts', viewer),
      'GET /api/backup/matrix': get('/api/backup/matrix', admin),
    };
    const samples: Record<string, number[]> = Object.fromEntries(Object.keys(routes).map((name) => [name, []]));
    // Interleaved rounds: a noisy neighbour slows every route alike.
    for (let round = 0; round < REQUESTS; round += 1) {
      for (const [name, run] of Object.entries(routes)) {
        const started = performance.now();
        await run();
        samples[name]!.push(performance.now() - started);
      }
    }
    const count = (raw.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
    console.log(`\nconsole API latency at ${count.toLocaleString('en-US')} stored events (embedded store, ${DEPARTMENTS} departments, ${SYSTEMS} systems, ${ALERTS.toLocaleString('en-US')} alerts; ${REQUESTS} requests each via app.inject)`);
    console.log(`  first GET /api/posture (source statuses not cached yet)  ${cold.toFixed(1)} ms`);
    for (const [name, values] of Object.entries(samples)) {
      console.log(`  ${name.padEnd(52)} p50 ${percentile(values, 50).toFixed(2).padStart(8)} ms   p95 ${percentile(values, 95).toFixed(2).padStart(8)} ms`);
    }
  } finally {
    await app?.close();
    raw.close();
    await store.close();
  }
}

/** `npm run bench -- console`: posture and alert-list latency at 1M (and with SHOUWANG_BENCH_CONSOLE_10M=1, 10M) events. */
export async function benchConsole(): Promise<void> {
  await benchAt(1_000_000);
  if (process.env.SHOUWANG_BENCH_CONSOLE_10M === '1') await benchAt(10_000_000);
}
