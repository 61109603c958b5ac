import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import {
  alertId, alertPriority, createLogger, createMetricsRegistry, parseInventory, RULE_LEVELS,
  type Alert, type AlertStatus, type Inventory, type BackupCheckName, type JobResult, type ShouwangEvent,
} from '../core/index.js';
import { ElasticsearchStore, EmbeddedStore, type Store } from '../store/index.js';
import { startElasticsearch } from '../test/harness/elasticsearch.js';
import { buildApp, hashPassword } from '../console/index.js';

/** SHOUWANG_BENCH_CACHE_DIR keeps a copy apart, e.g. to try a schema migration on the cached database. */
const CACHE_DIR = process.env.SHOUWANG_BENCH_CACHE_DIR ?? '/tmp/shouwang-bench-console';
const DEPARTMENTS = 116;
const SYSTEMS = 138;
const ALERTS = 5_000;
const DAYS = 30;
const BATCH = 50_000;
const REQUESTS = 40;
/** Untimed rounds first: a freshly started node (Elasticsearch's JIT, its caches) is not what a day's use sees. */
const WARM_UP_ROUNDS = 5;
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

function* eventBatches(inventory: Inventory, total: number, next: () => number, end: number): Generator<ShouwangEvent[]> {
  for (let offset = 0; offset < total; offset += BATCH) {
    const batch: ShouwangEvent[] = [];
    for (let n = offset; n < Math.min(total, offset + BATCH); n += 1) {
      batch.push(event(inventory, n, end - DAYS * DAY_MS + Math.floor((n / total) * DAYS * DAY_MS), next));
    }
    yield batch;
  }
}

const RESULTS = SYSTEMS * (8 * 2 * 5 + 3);

/** Events spread over 30 days through `store.events.write`. */
async function seedEvents(store: Store, total: number, inventory: Inventory, end: number): Promise<void> {
  await store.assets.replaceInventory(inventory);
  const next = random(total);
  const started = Date.now();
  let written = 0;
  for (const batch of eventBatches(inventory, total, next, end)) {
    const result = await store.events.write(batch);
    if (result.rejected.length) throw new Error(`seed: ${result.rejected.length} events rejected: ${result.rejected[0]!.reason}`);
    written += batch.length;
    if ((written / BATCH) % 20 === 1) {
      const rate = Math.round(written / ((Date.now() - started) / 1000));
      console.log(`  seeded ${written.toLocaleString('en-US')} events (${rate.toLocaleString('en-US')}/s)`);
    }
  }
}

/** Alerts, 8 days of daily check runs per site and three drills per system (RESULTS job results). */
async function seedAlertsAndResults(store: Store, inventory: Inventory, end: number): Promise<void> {
  const next = random(ALERTS);
  const statuses: AlertStatus[] = ['new', 'new', 'new', 'new', 'acknowledged', 'in_progress', 'resolved', 'resolved', 'resolved', 'false_positive'];
  const alerts: Alert[] = [];
  for (let i = 0; i < ALERTS; i += 1) {
    const system = inventory.systems[Math.floor(next() * SYSTEMS)]!;
    const level = RULE_LEVELS[1 + Math.floor(next() * 4)]!;
    // From the start of the day, so a seeding resumed the same day writes the same alert ids.
    const seen = new Date(Math.floor(end / DAY_MS) * DAY_MS - Math.floor(next() * DAYS * DAY_MS)).toISOString();
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
  const results: JobResult[] = [];
  for (const system of inventory.systems) {
    for (let day = 0; day < 8; day += 1) {
      const finished = new Date(end - day * DAY_MS).toISOString();
      const runId = `run-${system.id}-${day}`;
      for (const site of ['same-city', 'off-site'] as const) {
        for (const check of checks as readonly BackupCheckName[]) {
          const status: JobResult['status'] = next() < 0.05 ? 'fail' : next() < 0.1 ? 'warn' : 'pass';
          results.push({
            id: `${runId}-${site}-${check}`, kind: 'backup-check', status, system: system.id, department: system.department, site,
            startedAt: finished, finishedAt: finished, summary: `${check} ${status}`,
            detail: { check, site, runId, ...(check === 'freshness' ? { latestSetTime: new Date(end - day * DAY_MS - 3_600_000).toISOString() } : {}) },
          });
        }
      }
    }
    for (let d = 0; d < 3; d += 1) {
      const finished = new Date(end - d * 30 * DAY_MS).toISOString();
      results.push({
        id: `drill-${system.id}-${d}`, kind: 'restore-drill', status: next() < 0.2 ? 'fail' : 'pass', system: system.id,
        department: system.department, startedAt: finished, finishedAt: finished, summary: 'drill',
        detail: { rto: { targetSeconds: 14_400, achievedSeconds: 600 + Math.floor(next() * 3600), met: true } },
      });
    }
  }
  // Elasticsearch's put waits for a refresh (about a second): 200 at a time share one.
  for (let i = 0; i < results.length; i += 200) await Promise.all(results.slice(i, i + 200).map((result) => store.jobResults.put(result)));
}

/**
 * The embedded database is seeded through the store's own write path; the store fills its full-text
 * index in chunks after the writes, and the first search waits until it has caught up.
 */
async function seedEmbedded(path: string, total: number, inventory: Inventory): Promise<void> {
  const store = new EmbeddedStore({ path });
  try {
    const end = Date.now();
    await seedEvents(store, total, inventory, end);
    await seedAlertsAndResults(store, inventory, end);
    const started = Date.now();
    await store.events.search({ text: 'seed' }, { size: 1 });
    console.log(`  full-text index caught up in ${Math.round((Date.now() - started) / 1000)} s`);
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

/** A store ready to measure: what it is, its event count, and a raw query to print as the floor. */
interface Target {
  label: string;
  store: Store;
  count(): Promise<number>;
  baseline: { name: string; run(): Promise<unknown> };
}

async function measure(target: Target, inventory: Inventory): Promise<void> {
  const { store } = target;
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
    if (store instanceof ElasticsearchStore) await store.client.indices.refresh({ index: `${store.names.prefix}-*` });
    app = await buildApp({ store, registry: createMetricsRegistry({ defaultMetrics: false }), logger: createLogger({ level: 'silent' }) });
    const admin = await signIn(app, 'bench-admin');
    const viewer = await signIn(app, 'bench-viewer');
    const get = (url: string, cookie?: string) => async () => {
      const response = await app!.inject({ method: 'GET', url, ...(cookie ? { headers: { cookie } } : {}) });
      if (response.statusCode !== 200) throw new Error(`${url}: ${response.statusCode} ${response.body.slice(0, 200)}`);
    };

    // The first posture call pays for the source statuses, which are then cached for 60 s.
    const coldStart = performance.now();
    await get('/api/posture', admin)();
    const cold = performance.now() - coldStart;

    const routes: Record<string, () => Promise<unknown>> = {
      'GET /healthz (baseline)': get('/healthz'),
      [`${target.baseline.name} (baseline)`]: target.baseline.run,
      'GET /api/posture (admin, all 116 departments)': get('/api/posture', admin),
      'GET /api/posture (department viewer)': get('/api/posture', viewer),
      'GET /api/posture/top?limit=10': get('/api/posture/top?limit=10', admin),
      'GET /api/posture/trend?days=30': get('/api/posture/trend?days=30', admin),
      'GET /api/posture/systems/sys-007': get('/api/posture/systems/sys-007', admin),
      'GET /api/alerts (newest 50)': get('/api/alerts', admin),
      'GET /api/alerts?status=new&department=dept-007': get('/api/alerts?status=new&department=dept-007', admin),
      'GET /api/alerts (department viewer)': get('/api/alerts', viewer),
      'GET /api/alerts?sort=count': get('/api/alerts?sort=count', admin),
      'GET /api/alerts/groups?by=rule': get('/api/alerts/groups?by=rule', admin),
      'GET /api/alerts/groups?by=system (department viewer)': get('/api/alerts/groups?by=system', viewer),
      'GET /api/backup/matrix': get('/api/backup/matrix', admin),
      'GET /api/events (newest 50)': get('/api/events', admin),
      'GET /api/events?system=sys-007&filter=user.name:root': get('/api/events?system=sys-007&filter=user.name:root', admin),
      'GET /api/events?q=Failed root&system=sys-007': get(`/api/events?q=${encodeURIComponent('Failed root')}&system=sys-007`, admin),
      // The search box's language: a bare word (a host name: message full text OR the keyword fields) and a field query.
      'GET /api/events?q=sys-007-app (bare word)': get(`/api/events?q=${encodeURIComponent('sys-007-app')}`, admin),
      'GET /api/events?q=user.name:root AND event.outcome:failure': get(`/api/events?q=${encodeURIComponent('user.name:root AND event.outcome:failure')}`, admin),
      'GET /api/events/histogram?q=sys-007-app': get(`/api/events/histogram?q=${encodeURIComponent('sys-007-app')}`, admin),
      'GET /api/events/top?field=user.name&q=sys-007-app': get(`/api/events/top?field=user.name&q=${encodeURIComponent('sys-007-app')}`, admin),
    };
    // SHOUWANG_BENCH_CONSOLE_ONLY=<regex> measures only the routes whose name matches (a quicker look at one change).
    const only = process.env.SHOUWANG_BENCH_CONSOLE_ONLY ? new RegExp(process.env.SHOUWANG_BENCH_CONSOLE_ONLY) : undefined;
    if (only) for (const name of Object.keys(routes)) if (!only.test(name) && !name.endsWith('(baseline)')) delete routes[name];
    const samples: Record<string, number[]> = Object.fromEntries(Object.keys(routes).map((name) => [name, []]));
    for (let round = 0; round < WARM_UP_ROUNDS; round += 1) for (const run of Object.values(routes)) await run();
    // Interleaved rounds: a noisy neighbour slows every route alike.
    for (let round = 0; round < REQUESTS; round += 1) {
      for (const [name, run] of Object.entries(routes)) {
        const started = performance.now();
        await run();
        samples[name]!.push(performance.now() - started);
      }
    }
    const count = await target.count();
    console.log(`\nconsole API latency at ${count.toLocaleString('en-US')} stored events (${target.label}, ${DEPARTMENTS} departments, ${SYSTEMS} systems, ${ALERTS.toLocaleString('en-US')} alerts; ${REQUESTS} requests each via app.inject after ${WARM_UP_ROUNDS} untimed rounds)`);
    console.log(`  first GET /api/posture (source statuses not cached yet)  ${cold.toFixed(1)} ms`);
    for (const [name, values] of Object.entries(samples)) {
      console.log(`  ${name.padEnd(52)} p50 ${percentile(values, 50).toFixed(2).padStart(8)} ms   p95 ${percentile(values, 95).toFixed(2).padStart(8)} ms`);
    }
  } finally {
    await app?.close();
  }
}

async function benchEmbedded(total: number): Promise<void> {
  mkdirSync(CACHE_DIR, { recursive: true });
  const path = join(CACHE_DIR, `events-${total}.db`);
  const inventory = benchInventory();
  if (!existsSync(path)) {
    console.log(`\nconsole: seeding ${total.toLocaleString('en-US')} events into ${path} (cached for later runs)`);
    const started = Date.now();
    // A seeding cut short leaves a .part without its full-text trigger: start it again from nothing.
    for (const leftover of [`${path}.part`, `${path}.part-wal`, `${path}.part-shm`]) rmSync(leftover, { force: true });
    await seedEmbedded(`${path}.part`, total, inventory);
    renameSync(`${path}.part`, path);
    console.log(`  seeded in ${Math.round((Date.now() - started) / 1000)} s`);
  }
  const store = new EmbeddedStore({ path });
  const raw = new Database(path, { readonly: true });
  const openCount = raw.prepare("SELECT count(*) AS n FROM alerts WHERE status IN ('new', 'acknowledged', 'in_progress')");
  try {
    await measure({
      label: 'embedded store', store,
      count: async () => (raw.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n,
      baseline: { name: 'raw SQL: count open alerts', run: async () => openCount.get() },
    }, inventory);
  } finally {
    raw.close();
    await store.close();
  }
}

/** Seeds an index prefix per size once; a cluster that already holds it (SHOUWANG_ELASTICSEARCH_URL) is reused. */
async function benchElasticsearch(url: string, total: number): Promise<void> {
  const inventory = benchInventory();
  const store = await ElasticsearchStore.open({ url, indexPrefix: `bench-console-${total}` });
  const countEvents = async () => {
    await store.client.indices.refresh({ index: store.names.eventsPattern, ignore_unavailable: true, allow_no_indices: true });
    return (await store.client.count({ index: store.names.eventsPattern, ignore_unavailable: true, allow_no_indices: true })).count;
  };
  try {
    const end = Date.now();
    if ((await countEvents()) < total) {
      console.log(`\nconsole: seeding ${total.toLocaleString('en-US')} events into Elasticsearch (${store.names.prefix}-*)`);
      const started = Date.now();
      await seedEvents(store, total, inventory, end);
      console.log(`  seeded in ${Math.round((Date.now() - started) / 1000)} s`);
    }
    if ((await store.client.count({ index: store.names.jobResults })).count < RESULTS) await seedAlertsAndResults(store, inventory, end);
    const open = { terms: { status: ['new', 'acknowledged', 'in_progress'] } };
    await measure({
      label: 'Elasticsearch', store, count: countEvents,
      baseline: { name: 'raw _count: open alerts', run: () => store.client.count({ index: store.names.alerts, query: open }) },
    }, inventory);
  } finally {
    await store.close();
  }
}

/**
 * `npm run bench -- console`: posture and alert-list latency at 1M events (10M with
 * SHOUWANG_BENCH_CONSOLE_10M=1) on the embedded store, and on Elasticsearch when
 * SHOUWANG_ELASTICSEARCH_URL names a cluster (SHOUWANG_BENCH_CONSOLE_ES=1 starts the test node,
 * here with a 4 GB heap and the full JIT rather than the tests' 512 MB and C1, its data kept in the cache dir).
 */
export async function benchConsole(): Promise<void> {
  // SHOUWANG_BENCH_CONSOLE_EVENTS=<n> measures that size only; SHOUWANG_BENCH_CONSOLE_EMBEDDED=0 skips the embedded store.
  const sized = Number(process.env.SHOUWANG_BENCH_CONSOLE_EVENTS ?? 0);
  const sizes = sized > 0 ? [sized] : [1_000_000, ...(process.env.SHOUWANG_BENCH_CONSOLE_10M === '1' ? [10_000_000] : [])];
  if (process.env.SHOUWANG_BENCH_CONSOLE_EMBEDDED !== '0') for (const total of sizes) await benchEmbedded(total);
  const node = !process.env.SHOUWANG_ELASTICSEARCH_URL && process.env.SHOUWANG_BENCH_CONSOLE_ES === '1' ? await startElasticsearch({ jvmArgs: ['-Xms4g', '-Xmx4g'], dataDir: join(CACHE_DIR, 'elasticsearch') }) : undefined;
  const url = process.env.SHOUWANG_ELASTICSEARCH_URL ?? node?.url;
  try {
    if (url) for (const total of sizes) await benchElasticsearch(url, total);
  } finally {
    await node?.stop();
  }
}
