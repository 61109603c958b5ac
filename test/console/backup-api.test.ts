import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { parseInventory, type Inventory } from '../../core/index.js';
import { EmbeddedStore } from '../../store/index.js';
import { BackupQueues, formatSetName, startBackupWorkers, type BackupWorkers } from '../../backup/index.js';
import { writeSet } from '../backup/fixtures/drill-sources.js';
import { login, seedUser, testApp, type Client } from './support.js';
import { eventually } from '../support/eventually.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-backup-api-'));
const tag = randomUUID().slice(0, 6);
const A = `dept-a-${tag}`;
const B = `dept-b-${tag}`;
const S = `sys-a-${tag}`;
const T = `sys-b-${tag}`;
const N = `sys-nopolicy-${tag}`;

function inventory(): Inventory {
  const policy = (id: string) => ({
    rpo: '1d', rto: '4h', sameCity: { type: 'path', path: join(dir, id, 'same') }, offSite: { type: 'path', path: join(dir, id, 'off') },
  });
  return parseInventory({
    departments: [{ id: A, name: '市甲局' }, { id: B, name: '市乙局' }],
    systems: [
      { id: S, name: '甲系统', department: A, mlpsLevel: 3, zone: '政务外网', owner: { name: '张' }, backup: policy(S) },
      { id: N, name: '无备份', department: A, mlpsLevel: 2, zone: '政务外网', owner: { name: '张' } },
      { id: T, name: '乙系统', department: B, mlpsLevel: 3, zone: '政务外网', owner: { name: '李' }, backup: policy(T) },
    ],
  }, 'test');
}

describe('backup API on BullMQ and the embedded store', () => {
  const store = new EmbeddedStore({ path: join(dir, 'backup.db') });
  const prefix = `test-${tag}`;
  let queues: BackupQueues;
  let workers: BackupWorkers;
  let app: FastifyInstance;
  let ops: Client;
  let opsOfB: Client;
  let viewer: Client;
  const setTime = new Date(Date.now() - 3_600_000);

  beforeAll(async () => {
    const inv = inventory();
    await store.assets.replaceInventory(inv);
    // One real backup set an hour old at both sites of S.
    const data = join(dir, 'data.bin');
    writeFileSync(data, Buffer.alloc(32 * 1024, 5));
    for (const site of ['same', 'off']) writeSet(join(dir, S, site), formatSetName(setTime), { 'data.bin': data });
    const redisUrl = inject('redisUrl');
    queues = new BackupQueues({ redis: redisUrl, prefix, attempts: 1, backoffMs: 100 });
    workers = startBackupWorkers({ redis: redisUrl, prefix, store, findSystem: (id) => inv.systems.find((s) => s.id === id) });
    await seedUser(store, `ops-${tag}`, 'ops');
    await seedUser(store, `opsb-${tag}`, 'ops', [B]);
    await seedUser(store, `viewer-${tag}`, 'department_viewer', [A]);
    app = await testApp(store, { backupQueues: queues });
    ops = await login(app, `ops-${tag}`);
    opsOfB = await login(app, `opsb-${tag}`);
    viewer = await login(app, `viewer-${tag}`);
  });
  afterAll(async () => {
    await app?.close();
    await workers?.close();
    await queues?.verify.obliterate({ force: true }).catch(() => undefined);
    await queues?.drill.obliterate({ force: true }).catch(() => undefined);
    await queues?.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function untilFinished(client: Client, job: string) {
    return eventually(async () => {
      const state = (await client.get(`/api/backup/jobs/${job}`)).json();
      expect(state.state, `job ${job}`).toMatch(/^(completed|failed)$/);
      return state;
    }, { interval: 100 });
  }

  it('verifies now: enqueues, reports progress, stores the results and shows them in the matrix', async () => {
    const started = await ops.send('POST', '/api/backup/verify', { system: S });
    expect(started.statusCode).toBe(202);
    const { job } = started.json();
    expect(job).toMatch(/^console-verify-/);
    const done = await untilFinished(ops, job);
    expect(done).toMatchObject({ state: 'completed', system: S, progress: { step: '完成 done' } });
    const stored = (await store.jobResults.search({ system: S, kind: 'backup-check' }, { size: 100 })).items;
    expect(stored.length).toBeGreaterThan(0);
    expect(done.outcome.results.map((r: { id: string }) => r.id).sort()).toEqual(stored.map((r) => r.id).sort());

    const matrix = (await ops.get('/api/backup/matrix')).json();
    const row = matrix.systems.find((s: { id: string }) => s.id === S);
    const worst = (site: string) => {
      const statuses = stored.filter((r) => r.site === site).map((r) => r.status);
      return statuses.includes('fail') ? 'fail' : statuses.includes('warn') ? 'warn' : 'pass';
    };
    expect(row.sites['same-city'].status).toBe(worst('same-city'));
    expect(row.sites['off-site'].status).toBe(worst('off-site'));
    expect(row.sites['same-city'].latestSetTime).toBe(new Date(Math.floor(setTime.getTime() / 1000) * 1000).toISOString());
    expect(row.sites['same-city'].ageSeconds).toBeGreaterThanOrEqual(3600);
    expect(row.sites['same-city'].rpoRatio).toBeLessThan(1);
    expect(row.policy).toEqual({ rpoSeconds: 86_400, rtoSeconds: 14_400 });
    expect(matrix.systems.find((s: { id: string }) => s.id === N).policy).toBeNull();
    expect(matrix.systems.find((s: { id: string }) => s.id === T).sites['same-city']).toEqual({ status: 'none' });

    const audit = (await store.audit.list({}, { size: 20 })).items.find((e) => e.action === 'backup.verify' && e.target === S);
    // Audited under the system's department, so a reviewer of A sees it and one of B does not.
    expect(audit).toMatchObject({ actor: `ops-${tag}`, departments: [A], detail: { job } });
  });

  it('drills now and lists the drill in the history with its outcome', async () => {
    const started = await ops.send('POST', '/api/backup/drill', { system: S });
    expect(started.statusCode).toBe(202);
    const done = await untilFinished(ops, started.json().job);
    expect(done.state).toBe('completed');
    // The set holds files, no database dump: the drill restores them and checks them against the manifest.
    const drills = (await ops.get(`/api/backup/drills?system=${S}`)).json();
    expect(drills.items).toHaveLength(1);
    expect(drills.items[0]).toMatchObject({ system: S, status: 'pass', id: done.outcome.results[0].id });
    expect(drills.items[0].summary).toMatch(/file-set restore drill passed/);
    expect((await ops.get('/api/backup/matrix')).json().systems.find((s: { id: string }) => s.id === S).drill.status).toBe('pass');
  });

  it('drills from the off-site copy when asked, echoing the site in the job and the stored result', async () => {
    // Only the off-site copy holds a set now: a same-city drill fails, an off-site one passes.
    rmSync(join(dir, S, 'same'), { recursive: true, force: true });
    try {
      const offSite = await ops.send('POST', '/api/backup/drill', { system: S, site: 'off-site' });
      expect(offSite.statusCode).toBe(202);
      const off = await untilFinished(ops, offSite.json().job);
      expect(off).toMatchObject({ state: 'completed', kind: 'drill', site: 'off-site', outcome: { status: 'pass' } });
      const sameCity = await untilFinished(ops, (await ops.send('POST', '/api/backup/drill', { system: S, site: 'same-city' })).json().job);
      expect(sameCity).toMatchObject({ site: 'same-city', outcome: { status: 'fail' } });
      const stored = await store.jobResults.search({ system: S, kind: 'restore-drill' }, { size: 10 });
      expect(stored.items.find((r) => r.id === off.outcome.results[0].id)).toMatchObject({ site: 'off-site', status: 'pass' });
      expect(stored.items.find((r) => r.id === sameCity.outcome.results[0].id)).toMatchObject({ site: 'same-city', status: 'fail' });
      const audit = (await store.audit.list({}, { size: 50 })).items.find((e) => e.action === 'backup.drill' && e.detail?.job === off.id);
      expect(audit).toMatchObject({ detail: { site: 'off-site' } });
      expect((await ops.send('POST', '/api/backup/drill', { system: S, site: 'moon' })).statusCode).toBe(400);
    } finally {
      const data = join(dir, 'data.bin');
      writeSet(join(dir, S, 'same'), formatSetName(setTime), { 'data.bin': data });
    }
  });

  it('keeps every backup route inside the caller’s departments', async () => {
    const job = (await ops.send('POST', '/api/backup/verify', { system: S, site: 'same-city' })).json().job;
    expect((await opsOfB.get(`/api/backup/jobs/${job}`)).statusCode).toBe(404);
    expect((await opsOfB.send('POST', '/api/backup/verify', { system: S })).statusCode).toBe(404);
    expect((await opsOfB.send('POST', '/api/backup/drill', { system: S })).statusCode).toBe(404);
    expect((await opsOfB.get('/api/backup/matrix')).json().systems.map((s: { id: string }) => s.id)).toEqual([T]);
    expect((await opsOfB.get(`/api/backup/drills?system=${S}`)).json().items).toEqual([]);
    expect((await opsOfB.get('/api/backup/drills')).json().items).toEqual([]);
    expect((await viewer.get('/api/backup/matrix')).json().systems.map((s: { id: string }) => s.id).sort()).toEqual([N, S].sort());
    await untilFinished(ops, job);
  });

  it('refuses a second drill of a system while one is queued, with 409 and a message in both languages', async () => {
    await workers.drill.pause();
    try {
      const first = await ops.send('POST', '/api/backup/drill', { system: S });
      expect(first.statusCode).toBe(202);
      const second = await ops.send('POST', '/api/backup/drill', { system: S });
      expect(second.statusCode).toBe(409);
      expect(second.json()).toMatchObject({ code: 'SW_ERR_JOBS_DRILL_PENDING' });
      expect(second.json().message).toContain('已有一个待执行的同城恢复演练');
      expect(second.json().message).toContain(`is already queued or running (job ${first.json().job})`);
      // The other copy is a drill of its own.
      expect((await ops.send('POST', '/api/backup/drill', { system: S, site: 'off-site' })).statusCode).toBe(202);
      workers.drill.resume();
      await untilFinished(ops, first.json().job);
    } finally {
      workers.drill.resume();
    }
  });

  it('answers bad and forbidden requests with 4xx, and 503 without queues', async () => {
    const cases: [string, Promise<{ statusCode: number; json(): { message: string } }>, number][] = [
      ['viewer may not run', viewer.send('POST', '/api/backup/verify', { system: S }), 403],
      ['unknown field', ops.send('POST', '/api/backup/verify', { system: S, now: true }), 400],
      ['bad site', ops.send('POST', '/api/backup/verify', { system: S, site: 'moon' }), 400],
      ['no system', ops.send('POST', '/api/backup/drill', {}), 400],
      ['no backup policy', ops.send('POST', '/api/backup/drill', { system: N }), 400],
      ['unknown system', ops.send('POST', '/api/backup/verify', { system: 'nope' }), 404],
      ['not a console job id', ops.get('/api/backup/jobs/1'), 400],
      ['unknown job', ops.get(`/api/backup/jobs/console-drill-${randomUUID()}`), 404],
      ['bad page size', ops.get('/api/backup/drills?size=0'), 400],
    ];
    for (const [name, request, status] of cases) {
      const response = await request;
      expect(response.statusCode, name).toBe(status);
      expect(response.json().message, name).toMatch(/\//);
    }
    const bare = await testApp(store);
    try {
      const client = await login(bare, `ops-${tag}`);
      expect((await client.send('POST', '/api/backup/verify', { system: S })).statusCode).toBe(503);
      expect((await client.get('/api/backup/matrix')).statusCode).toBe(200);
    } finally {
      await bare.close();
    }
  });
});
