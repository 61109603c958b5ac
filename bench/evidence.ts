import { existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { QueueEvents } from 'bullmq';
import yazl from 'yazl';
import { alertId, loadInventory, startLocalRedis, type Alert, type JobResult, type ShouwangEvent } from '../core/index.js';
import { redisConnection } from '../backup/index.js';
import { EmbeddedStore, type Store } from '../store/index.js';
import {
  EVIDENCE_QUEUE, EvidenceQueue, SAMPLE_PER_DATASET, ensureCjkFont, generateSigningKey, startEvidenceWorker, type EvidenceJobProgress,
} from '../evidence/index.js';
import { median } from './measure.js';

const EVENTS = Number(process.env.SHOUWANG_BENCH_EVIDENCE_EVENTS ?? 1_000_000);
const CACHE = process.env.SHOUWANG_BENCH_EVIDENCE_CACHE ?? '/tmp/shouwang-bench-evidence';
const ROUNDS = 3;
/** The seeded events span 200 days up to END; the export covers the whole span. */
const END = Date.parse('2026-10-01T00:00:00.000Z');
const SPAN_MS = 200 * 86_400_000;
const PERIOD = { from: new Date(END - SPAN_MS).toISOString(), to: new Date(END).toISOString() };
const DATASETS = ['system.auth', 'nginx.access', 'mariadb.audit'];
const BATCH = 10_000;

/** Seeds (once, cached under /tmp) the demo inventory, EVENTS events over its 40 systems, alerts and backup results. */
async function seededStore(): Promise<{ store: Store; seconds?: number }> {
  const path = join(CACHE, `store-${EVENTS}.db`);
  if (existsSync(path)) return { store: new EmbeddedStore({ path }) };
  mkdirSync(CACHE, { recursive: true });
  const partial = `${path}.partial`;
  rmSync(partial, { force: true });
  const started = process.hrtime.bigint();
  const store = new EmbeddedStore({ path: partial });
  const inventory = loadInventory('config/inventory.demo.yaml');
  await store.assets.replaceInventory(inventory);
  const systems = inventory.systems;
  for (let start = 0; start < EVENTS; start += BATCH) {
    const batch: ShouwangEvent[] = [];
    for (let i = start; i < Math.min(start + BATCH, EVENTS); i += 1) {
      const system = systems[i % systems.length]!;
      const host = system.hosts[i % Math.max(system.hosts.length, 1)] ?? system.id;
      const dataset = DATASETS[i % DATASETS.length]!;
      batch.push({
        id: `bench-${i}`, '@timestamp': new Date(END - SPAN_MS + Math.floor((i / EVENTS) * SPAN_MS)).toISOString(),
        message: `${dataset} user=u${i % 500} action=login from 10.${i % 250}.0.${i % 200}`,
        event: { dataset, outcome: i % 17 === 0 ? 'failure' : 'success' }, host: { name: host }, user: { name: `u${i % 500}` },
        shouwang: { department: system.department, system: system.id, mlps_level: system.mlpsLevel },
      });
    }
    await store.events.write(batch);
    if (start % 100_000 === 0) process.stdout.write(`  seeding ${start.toLocaleString('en-US')} / ${EVENTS.toLocaleString('en-US')}\r`);
  }
  const alerts: Alert[] = [];
  const results: JobResult[] = [];
  systems.forEach((system, s) => {
    for (let n = 0; n < 50; n += 1) {
      const raised = new Date(END - SPAN_MS + n * 3.9 * 86_400_000 + s * 60_000).toISOString();
      const acked = new Date(Date.parse(raised) + (n + 1) * 600_000).toISOString();
      alerts.push({
        id: alertId('bench-rule', system.id, raised), rule: { id: 'bench-rule', title: 'SSH 暴力破解 / SSH brute force', level: 'high' }, mlps: ['8.1.4.4 f)'],
        department: system.department, system: system.id, mlpsLevel: system.mlpsLevel, priority: 4 * system.mlpsLevel,
        status: n % 5 === 0 ? 'new' : 'resolved',
        timeline: n % 5 === 0 ? [{ at: raised, actor: 'shouwang', action: 'raised' }]
          : [{ at: raised, actor: 'shouwang', action: 'raised' }, { at: acked, actor: 'officer', action: 'status', from: 'new', to: 'resolved' }],
        firstSeen: raised, lastSeen: raised, count: 1, sampleEventIds: [],
      });
    }
    if (!system.backup) return;
    for (let day = 0; day < 200; day += 7) {
      const at = new Date(END - SPAN_MS + day * 86_400_000).toISOString();
      for (const site of ['same-city', 'off-site'] as const) {
        results.push({
          id: `bench-${system.id}-${site}-${day}`, kind: 'backup-check', status: day % 49 === 0 ? 'fail' : 'pass', system: system.id, department: system.department,
          site, startedAt: at, finishedAt: at, summary: 'freshness', detail: { check: 'freshness', site, ageSeconds: 3600, rpoSeconds: system.backup.rpo },
        });
      }
      if (day % 28 === 0) {
        results.push({
          id: `bench-${system.id}-drill-${day}`, kind: 'restore-drill', status: 'pass', system: system.id, department: system.department,
          startedAt: at, finishedAt: at, summary: 'drill', detail: { rto: { targetSeconds: system.backup.rto, achievedSeconds: 600, met: 600 <= system.backup.rto } },
        });
      }
    }
  });
  await store.alerts.upsert(alerts);
  for (const result of results) await store.jobResults.put(result);
  await store.close();
  renameSync(partial, path);
  for (const suffix of ['-wal', '-shm']) rmSync(`${partial}${suffix}`, { force: true });
  return { store: new EmbeddedStore({ path }), seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

/** The floor: the same records the bundle carries, read from the store and zipped with yazl — no statuses, PDF, tables, digests or signature. */
async function readAndZip(store: Store, out: string): Promise<number> {
  const inventory = await store.assets.getInventory();
  const zip = new yazl.ZipFile();
  const ndjson = (records: readonly unknown[]) => Buffer.from(records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  const alerts: Alert[] = [];
  const results: JobResult[] = [];
  for (const system of inventory.systems) {
    const filters = { 'shouwang.system': system.id };
    const samples: ShouwangEvent[] = [];
    for (const dataset of await store.events.countBy({ ...PERIOD, filters }, 'event.dataset', 1000)) {
      samples.push(...(await store.events.search({ ...PERIOD, filters: { ...filters, 'event.dataset': dataset.key } }, { size: SAMPLE_PER_DATASET, order: 'desc' })).items);
    }
    zip.addBuffer(ndjson(samples), `evidence/audit-samples/${system.id}.ndjson`);
    for (let after: string | undefined, first = true; first || after; first = false) {
      const page = await store.alerts.search({ ...PERIOD, system: [system.id] }, { size: 1000, ...(after ? { after } : {}) });
      alerts.push(...page.items);
      after = page.next;
    }
    for (const kind of ['backup-check', 'restore-drill']) {
      results.push(...(await store.jobResults.search({ ...PERIOD, kind, system: system.id }, { size: 1000 })).items);
    }
  }
  zip.addBuffer(ndjson(alerts), 'evidence/alerts.ndjson');
  zip.addBuffer(ndjson(results), 'evidence/backup-results.ndjson');
  zip.addBuffer(ndjson((await store.audit.list(PERIOD, { size: 1000 })).items), 'evidence/console-audit.ndjson');
  zip.end();
  await new Promise<void>((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c)).on('error', reject).on('end', () => {
      writeFileSync(out, Buffer.concat(chunks));
      resolve();
    });
  });
  return statSync(out).size;
}

/**
 * `bench/evidence`: an evidence export of all 40 demo systems over 1M events, run as a BullMQ job
 * with progress, next to the floor of reading the same records and zipping them.
 */
export async function benchEvidence(): Promise<void> {
  const seeded = await seededStore();
  const { store } = seeded;
  const range = await store.events.range();
  console.log(`\nevidence export: ${range.count.toLocaleString('en-US')} events, 40 systems, period ${PERIOD.from} – ${PERIOD.to}`
    + (seeded.seconds ? ` (seeded in ${seeded.seconds.toFixed(1)} s, cached in ${CACHE})` : ` (cached store from ${CACHE})`));
  const dir = join(CACHE, 'run');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const redis = await startLocalRedis({ dir: join(dir, 'redis') });
  const prefix = `bench-${process.pid}`;
  const queue = new EvidenceQueue({ redis: redis.url, prefix });
  const fontFile = await ensureCjkFont();
  const worker = startEvidenceWorker({ redis: redis.url, prefix, store, dataDir: dir, key: generateSigningKey(), fontFile });
  const events = new QueueEvents(EVIDENCE_QUEUE, { connection: redisConnection(redis.url), prefix });
  try {
    await events.waitUntilReady();
    const samples: Record<string, number[]> = { floor: [], job: [] };
    let bundleBytes = 0;
    let floorBytes = 0;
    let updates = 0;
    events.on('progress', () => (updates += 1));
    for (let round = 0; round < ROUNDS; round += 1) {
      let started = process.hrtime.bigint();
      floorBytes = await readAndZip(store, join(dir, `floor-${round}.zip`));
      samples.floor!.push(Number(process.hrtime.bigint() - started) / 1e9);

      started = process.hrtime.bigint();
      const job = await queue.enqueue({ selection: { ...PERIOD }, requestedBy: 'bench' });
      const summary = await job.waitUntilFinished(events, 30 * 60_000);
      samples.job!.push(Number(process.hrtime.bigint() - started) / 1e9);
      bundleBytes = summary.bytes;
    }
    const floor = median(samples.floor!);
    const job = median(samples.job!);
    const last = (await queue.queue.getJobs(['completed'], 0, 0))[0];
    console.log(`  (median of ${ROUNDS} rounds; ${updates} progress updates, last ${JSON.stringify(last?.progress as EvidenceJobProgress | undefined)})`);
    console.log(`  ${'read the same records + yazl zip (baseline)'.padEnd(58)} ${floor.toFixed(2).padStart(8)} s  ${(floorBytes / 1024).toFixed(0).padStart(8)} KiB  baseline`);
    console.log(`  ${'export job: statuses, PDF, CSV/XLSX, SHA-256+SM3, Ed25519'.padEnd(58)} ${job.toFixed(2).padStart(8)} s  ${(bundleBytes / 1024).toFixed(0).padStart(8)} KiB  ${(job / floor).toFixed(1)}× baseline time`);
  } finally {
    await worker.close();
    await events.close();
    await queue.queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    await redis.stop();
    await store.close();
  }
}
