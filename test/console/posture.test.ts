import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { alertId, parseInventory, type Alert, type AlertStatus, type BackupCheckName, type JobResult } from '../../core/index.js';
import { EmbeddedStore } from '../../store/index.js';
import { cachedCoverage, departmentScore, systemScore, union } from '../../console/index.js';
import { login, seedUser, testApp, type Client } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-posture-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tag = randomUUID().slice(0, 6);
const A = `dept-a-${tag}`;
const B = `dept-b-${tag}`;
const a1 = `a1-${tag}`;
const a2 = `a2-${tag}`;
const b1 = `b1-${tag}`;
const policy = { rpo: '1d', rto: '4h', sameCity: { type: 'path', path: '/srv/same' }, offSite: { type: 'path', path: '/srv/off' } };

const now = Date.now();
const iso = (offsetMs: number) => new Date(now + offsetMs).toISOString();

function alert(system: string, department: string, n: number, priority: number, status: AlertStatus): Alert {
  return {
    id: alertId(`rule-${n}`, system, 'w'), rule: { id: `rule-${n}`, title: `规则 ${n}`, level: 'high' }, mlps: ['8.1.4.3 a)'],
    department, system, mlpsLevel: 3, priority, status, timeline: [{ at: iso(0), actor: 'analyzer', action: 'raised' }],
    firstSeen: iso(-60_000), lastSeen: iso(0), count: 1, sampleEventIds: [],
  };
}

function check(system: string, site: 'same-city' | 'off-site', runId: string, check: BackupCheckName, status: JobResult['status'], detail = {}): JobResult {
  return {
    id: `${runId}-${site}-${check}`, kind: 'backup-check', status, system, department: A, site, startedAt: iso(-120_000),
    finishedAt: iso(-60_000), summary: `${check} ${status}`, detail: { check, site, runId, ...detail },
  };
}

describe('posture API', () => {
  const store = new EmbeddedStore({ path: join(dir, 'posture.db') });
  let app: FastifyInstance;
  let admin: Client;
  let viewer: Client;

  beforeAll(async () => {
    await store.assets.replaceInventory(parseInventory({
      departments: [{ id: A, name: '市甲局' }, { id: B, name: '市乙局' }],
      systems: [
        { id: a1, name: '甲一', department: A, mlpsLevel: 3, zone: '政务外网', owner: { name: '张' }, hosts: [`${a1}-h1`, `${a1}-h2`], backup: policy },
        { id: a2, name: '甲二', department: A, mlpsLevel: 2, zone: '政务外网', owner: { name: '张' }, logSources: [{ dataset: 'mariadb.audit' }] },
        { id: b1, name: '乙一', department: B, mlpsLevel: 3, zone: '政务外网', owner: { name: '李' }, hosts: [`${b1}-h`], backup: policy },
      ],
    }, 'test'));
    // a1: one of its two hosts reports; a2: its database audit reports; b1: silent.
    await store.events.write([
      { id: `${tag}-e1`, '@timestamp': iso(-600_000), message: 'login', host: { name: `${a1}-h1` }, event: { dataset: 'syslog' }, shouwang: { department: A, system: a1 } },
      { id: `${tag}-e2`, '@timestamp': iso(-300_000), message: 'query', host: { name: 'db' }, event: { dataset: 'mariadb.audit' }, shouwang: { department: A, system: a2 } },
    ]);
    await store.alerts.upsert([
      alert(a1, A, 1, 15, 'new'), alert(a1, A, 2, 12, 'acknowledged'), alert(a1, A, 3, 4, 'resolved'),
      alert(a2, A, 4, 6, 'in_progress'), alert(b1, B, 5, 20, 'new'),
    ]);
    // a1: same-city passed, off-site warned (freshness), the last drill failed; b1 has no results at all.
    for (const result of [
      check(a1, 'same-city', 'run-1', 'presence', 'pass'), check(a1, 'same-city', 'run-1', 'freshness', 'pass'),
      check(a1, 'off-site', 'run-1', 'presence', 'pass'), check(a1, 'off-site', 'run-1', 'freshness', 'warn'),
      {
        id: `drill-${tag}`, kind: 'restore-drill' as const, status: 'fail' as const, system: a1, department: A, startedAt: iso(-90_000),
        finishedAt: iso(-80_000), summary: 'RTO exceeded', detail: { rto: { targetSeconds: 14400, achievedSeconds: 20000, met: false } },
      },
    ]) await store.jobResults.put(result);
    await seedUser(store, `admin-${tag}`, 'admin');
    await seedUser(store, `viewer-${tag}`, 'department_viewer', [A]);
    app = await testApp(store);
    admin = await login(app, `admin-${tag}`);
    viewer = await login(app, `viewer-${tag}`);
  });
  afterAll(async () => {
    await app.close();
    await store.close();
  });

  it('scores each system and department by the documented formula and returns the components and reasons', async () => {
    const response = await admin.get('/api/posture');
    expect(response.statusCode).toBe(200);
    const posture = response.json();
    const system = (id: string) => posture.systems.find((s: { id: string }) => s.id === id);
    // a1 (level 3, L = 0.75): alerts 0.8 × 15/20 and 0.8 × 12/20 (the resolved one left out); off-site warned
    // 0.15 × L, drill failed 0.3 × L; one of two sources silent 0.6 × L × ½.
    const a1Weights = { alerts: [0.6, 0.48], backup: [0.1125, 0.225], coverage: [0.225] };
    expect(system(a1)).toMatchObject({
      score: union(Object.values(a1Weights).flat()),
      components: { alerts: union(a1Weights.alerts), backup: union(a1Weights.backup), coverage: union(a1Weights.coverage) },
      openAlerts: 2, maxPriority: 15,
    });
    expect(system(a1).score).toBe(89);
    expect(system(a1).reasons.map((r: { kind: string; ref?: string; points: number }) => [r.kind, r.ref, r.points])).toEqual([
      ['alert', 'rule-1', 60], ['alert', 'rule-2', 48], ['coverage', undefined, 23], ['drill', undefined, 23], ['backup', 'off-site', 11],
    ]);
    expect(system(a1).backup).toEqual({ policy: true, sites: { 'same-city': 'pass', 'off-site': 'warn' }, drill: 'fail' });
    expect(system(a1).sources).toEqual({ expected: 2, silent: [`${a1}-h2`] });
    // a2 (level 2, no backup policy, its database audit reports): one in-progress alert 0.8 × 6/20.
    expect(system(a2)).toMatchObject({ score: 24, components: { alerts: 24, backup: 0, coverage: 0 } });
    // b1 (level 3): alert 0.8 × 20/20; no check run at either site 2 × 0.5 × L, no drill 0.1 × L; its only source silent 0.6 × L.
    expect(system(b1)).toMatchObject({
      score: union([0.8, 0.375, 0.375, 0.075, 0.45]), components: { alerts: 80, backup: union([0.375, 0.375, 0.075]), coverage: 45 },
    });
    expect(system(b1).score).toBe(96);
    const department = (id: string) => posture.departments.find((d: { id: string }) => d.id === id);
    // A: its worst system 89, plus half the mean of the others (24) over the 11 points of headroom.
    expect(department(A)).toMatchObject({ score: 90, systems: 2, openAlerts: 3 });
    expect(department(A).reasons[0]).toMatchObject({ kind: 'alert', system: a1, ref: 'rule-1' });
    expect(department(B)).toMatchObject({ score: 96 });
    expect(posture.systems.map((s: { id: string }) => s.id)).toEqual([b1, a1, a2]);
  });

  it('adds less for every further problem, never reaches 100 from a pile of small ones, and forgets old alerts', () => {
    const steps = [1, 2, 3, 10, 50].map((n) => union(Array.from({ length: n }, () => 0.1)));
    expect(steps).toEqual([10, 19, 27, 65, 99]);
    const alert = (priority: number, lastSeen: string) => ({ ruleId: `r${priority}`, ruleTitle: 't', count: 1, maxPriority: priority, lastSeen });
    const at = new Date('2026-12-01T00:00:00.000Z');
    const score = (lastSeen: string) => systemScore({
      system: 's', mlpsLevel: 3, alerts: [alert(20, lastSeen)], backup: { policy: false, sites: {} }, sources: { expected: 0, silent: [] },
    }, at).score;
    expect([score(at.toISOString()), score('2026-11-24T00:00:00.000Z'), score('2026-11-17T00:00:00.000Z')]).toEqual([80, 40, 20]);
  });

  it('keeps a department at least as risky as its worst system, and raises it for each further bad one', () => {
    const of = (...scores: number[]) => departmentScore(scores.map((score) => ({ score, components: { alerts: score, backup: 0, coverage: 0 }, reasons: [] }))).score;
    expect(of(90, 0, 0, 0)).toBe(90);
    expect(of(90, 40)).toBe(92);
    expect(of(90, 90, 90)).toBe(95);
    expect(of(10, 10)).toBe(10 + Math.round(90 * 0.5 * 0.1));
  });

  it('counts only alerts last seen in the requested range', async () => {
    const posture = (await admin.get(`/api/posture?from=${encodeURIComponent(iso(3_600_000))}`)).json();
    expect(posture.systems.find((s: { id: string }) => s.id === a1).components.alerts).toBe(0);
  });

  it('lists the top risks, riskiest first', async () => {
    const top = (await admin.get('/api/posture/top?limit=2')).json();
    expect(top.systems.map((s: { id: string; score: number }) => [s.id, s.score])).toEqual([[b1, 96], [a1, 89]]);
  });

  it('trends alerts per day and department, with the alert risk of each day', async () => {
    const trend = (await admin.get('/api/posture/trend?days=3')).json();
    expect(trend.days).toHaveLength(3);
    const of = (department: string) => trend.days.map((d: { departments: { id: string; alerts: number; open: number; alertRisk: number }[] }) =>
      d.departments.find((x) => x.id === department)).filter(Boolean).map(({ alerts, open, alertRisk }: Record<string, number>) => ({ alerts, open, alertRisk }));
    // Today: A's open alerts of a1 (15, 12; the resolved 4 is no risk) → 79 and a2 (6) → 24: 79 + 21 × ½ × 24%.
    expect(of(A)).toEqual([{ alerts: 4, open: 3, alertRisk: 82 }]);
    expect(of(B)).toEqual([{ alerts: 1, open: 1, alertRisk: 80 }]);
  });

  it('drills down into one system: components, recent alerts, events by dataset', async () => {
    const detail = (await admin.get(`/api/posture/systems/${a2}`)).json();
    expect(detail).toMatchObject({ score: 24, components: { alerts: 24, backup: 0, coverage: 0 }, openAlerts: 1 });
    expect(detail.reasons).toEqual([{ kind: 'alert', system: a2, ref: 'rule-4', points: 24, text: expect.stringContaining('规则 4'), textEn: expect.stringContaining('priority 6') }]);
    expect(detail.recentAlerts.map((a: Alert) => a.system)).toEqual([a2]);
    expect(detail.events.byDataset).toEqual([{ key: 'mariadb.audit', count: 1 }]);
    expect(detail.sources).toHaveLength(1);
  });

  it('keeps a department viewer to its departments in every posture route', async () => {
    const posture = (await viewer.get('/api/posture')).json();
    expect(posture.departments.map((d: { id: string }) => d.id)).toEqual([A]);
    expect(posture.systems.map((s: { id: string }) => s.id).sort()).toEqual([a1, a2].sort());
    const top = (await viewer.get('/api/posture/top?limit=10')).json();
    expect(top.systems.map((s: { id: string }) => s.id)).not.toContain(b1);
    const trend = (await viewer.get('/api/posture/trend?days=2')).json();
    expect(trend.days.flatMap((d: { departments: { id: string }[] }) => d.departments.map((x) => x.id))).not.toContain(B);
    expect((await viewer.get(`/api/posture/systems/${b1}`)).statusCode).toBe(404);
    expect((await viewer.get(`/api/posture/systems/${a1}`)).json().recentAlerts.map((a: Alert) => a.department)).toEqual([A, A, A]);
  });

  it('answers bad requests with 4xx and a message, never 500', async () => {
    for (const [url, status] of [
      ['/api/posture?from=yesterday', 400],
      [`/api/posture?from=${iso(0)}&to=${iso(-1000)}`, 400],
      ['/api/posture?days=3', 400],
      ['/api/posture/top?limit=0', 400],
      ['/api/posture/top?limit=abc', 400],
      ['/api/posture/trend?days=1000', 400],
      // The route's own limit (100) names the field; past the router's (512) it is our 400 too, not Fastify's 414.
      [`/api/posture/systems/${'x'.repeat(101)}`, 400],
      [`/api/posture/systems/${'x'.repeat(600)}`, 400],
      [`/api/posture/systems/${'x'.repeat(100)}`, 404],
      ['/api/posture/systems/nope', 404],
    ] as const) {
      const response = await admin.get(url);
      expect(response.statusCode, url).toBe(status);
      expect(response.json().message).toMatch(/\//);
    }
    expect((await app.inject({ method: 'GET', url: '/api/posture' })).statusCode).toBe(401);
  });
});

describe('posture of departments and systems with nothing measured', () => {
  const store = new EmbeddedStore({ path: join(dir, 'no-data.db') });
  const E = `dept-empty-${tag}`;
  const U = `dept-unwatched-${tag}`;
  const M = `dept-mixed-${tag}`;
  let app: FastifyInstance;
  let admin: Client;

  beforeAll(async () => {
    await store.assets.replaceInventory(parseInventory({
      departments: [{ id: E, name: '空局' }, { id: U, name: '无源局' }, { id: M, name: '混合局' }],
      systems: [
        // No hosts, no log sources, no backup policy: nothing about it is measured.
        { id: `u1-${tag}`, name: '无源一', department: U, mlpsLevel: 3, zone: '政务外网', owner: { name: '王' } },
        { id: `m1-${tag}`, name: '混一', department: M, mlpsLevel: 3, zone: '政务外网', owner: { name: '赵' }, hosts: [`m1-${tag}-h`] },
        { id: `m2-${tag}`, name: '混二', department: M, mlpsLevel: 3, zone: '政务外网', owner: { name: '赵' } },
      ],
    }, 'test'));
    // m1's only host is silent: 0.6 × 0.75 = 45 points.
    await seedUser(store, `admin-${tag}`, 'admin');
    app = await testApp(store);
    admin = await login(app, `admin-${tag}`);
  });
  afterAll(async () => {
    await app.close();
    await store.close();
  });

  it('marks a department without systems, or whose systems report nothing, as no data instead of a perfect 0, and leaves such systems out of a department\'s mean', async () => {
    const posture = (await admin.get('/api/posture')).json();
    const department = (id: string) => posture.departments.find((d: { id: string }) => d.id === id);
    const system = (id: string) => posture.systems.find((s: { id: string }) => s.id === id);
    expect(department(E)).toMatchObject({ systems: 0, noData: true });
    expect(department(U)).toMatchObject({ systems: 1, noData: true });
    expect(system(`u1-${tag}`)).toMatchObject({ noData: true });
    expect(system(`m1-${tag}`)).toMatchObject({ score: 45, noData: false });
    // The unmeasured m2 would otherwise count as a safe 0 in the mean: M is m1 alone.
    expect(department(M)).toMatchObject({ score: 45, noData: false });
    // Ranked after every measured department, even one at 0.
    expect(posture.departments.map((d: { id: string }) => d.id).slice(-2).sort()).toEqual([E, U].sort());
  });
});

describe('source statuses behind the posture', () => {
  it('are read once per minute per scope, past that served stale while a fresh read runs in the background, never older than five minutes', async () => {
    const store = new EmbeddedStore({ path: join(dir, `coverage-${tag}.db`) });
    const inventory = parseInventory({
      departments: [{ id: 'd', name: '部门' }],
      systems: [{ id: 's', name: '系统', department: 'd', mlpsLevel: 3, zone: '政务外网', owner: { name: '运维' }, hosts: ['h'] }],
    }, 'test');
    const at = Date.parse('2026-11-26T10:00:00.000Z');
    const write = (id: string, offsetMs: number) => store.events.write([{
      id, '@timestamp': new Date(at + offsetMs).toISOString(), message: 'm', host: { name: 'h' }, shouwang: { department: 'd', system: 's' },
    }]);
    const lastSeen = async (offsetMs: number) => (await coverage(inventory, undefined, new Date(at + offsetMs)))[0]?.lastSeen;
    const coverage = cachedCoverage(store.events, 3600, 60_000);

    await write('e1', -1000);
    expect(await lastSeen(0)).toBe(new Date(at - 1000).toISOString());
    await write('e2', 30_000);
    expect(await lastSeen(59_000)).toBe(new Date(at - 1000).toISOString());
    // Past the minute: the old answer at once, the new one on the next request.
    expect(await lastSeen(61_000)).toBe(new Date(at - 1000).toISOString());
    await new Promise((resolve) => setImmediate(resolve));
    expect(await lastSeen(62_000)).toBe(new Date(at + 30_000).toISOString());
    // After a quiet spell longer than five minutes the request waits for a fresh read instead.
    await write('e3', 100_000);
    expect(await lastSeen(400_000)).toBe(new Date(at + 100_000).toISOString());
    await store.close();
  });

  it('follow an inventory change at once (a system or log source added or removed), and stay cached while the inventory is the same', async () => {
    const store = new EmbeddedStore({ path: join(dir, `coverage-change-${tag}.db`) });
    const system = (id: string, hosts: string[]) => ({ id, name: id, department: 'd', mlpsLevel: 3, zone: '政务外网', owner: { name: '运维' }, hosts });
    const inventoryOf = (...systems: ReturnType<typeof system>[]) => parseInventory({ departments: [{ id: 'd', name: '部门' }], systems }, 'test');
    const at = Date.parse('2026-11-26T10:00:00.000Z');
    const write = (id: string, host: string, system: string) => store.events.write([{
      id, '@timestamp': new Date(at - 1000).toISOString(), message: 'm', host: { name: host }, shouwang: { department: 'd', system },
    }]);
    const coverage = cachedCoverage(store.events, 3600, 60_000);
    const names = async (inventory: ReturnType<typeof inventoryOf>, offsetMs: number) =>
      (await coverage(inventory, undefined, new Date(at + offsetMs))).map((s) => `${s.system}/${s.name}:${s.lastSeen ? 'seen' : 'silent'}`).sort();

    await write('e1', 'h1', 's1');
    await write('e2', 'h2', 's2');
    const before = inventoryOf(system('s1', ['h1']));
    expect(await names(before, 0)).toEqual(['s1/h1:seen']);
    // A system registered a second later: its sources are there at once, not a minute later.
    expect(await names(inventoryOf(system('s1', ['h1'])), 1000)).toEqual(['s1/h1:seen']);
    expect(await names(inventoryOf(system('s1', ['h1']), system('s2', ['h2'])), 1000)).toEqual(['s1/h1:seen', 's2/h2:seen']);
    // A log source added to a system, then removed.
    expect(await names(inventoryOf(system('s1', ['h1', 'h3']), system('s2', ['h2'])), 2000)).toEqual(['s1/h1:seen', 's1/h3:silent', 's2/h2:seen']);
    expect(await names(inventoryOf(system('s1', ['h1'])), 3000)).toEqual(['s1/h1:seen']);
    // The same inventory (an equal copy each time, as the store reads it) is still read once per minute.
    let reads = 0;
    const counted = new Proxy(store.events, {
      get: (target, key) => {
        const value: unknown = Reflect.get(target, key, target);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          reads += 1;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const counting = cachedCoverage(counted, 3600, 60_000);
    await counting(inventoryOf(system('s1', ['h1'])), undefined, new Date(at));
    expect(reads).toBeGreaterThan(0);
    reads = 0;
    for (let i = 1; i <= 5; i += 1) await counting(inventoryOf(system('s1', ['h1'])), undefined, new Date(at + i * 1000));
    expect(reads).toBe(0);
    await store.close();
  });
});
