import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { alertId, parseInventory, type Alert, type AlertStatus, type BackupCheckName, type JobResult } from '../../core/index.js';
import type { Store } from '../../store/index.js';
import { login, onBothStores, seedUser, testApp, type Client } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-posture-stores-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DAY = 86_400_000;
const policy = { rpo: '1d', rto: '4h', sameCity: { type: 'path', path: '/srv/same' }, offSite: { type: 'path', path: '/srv/off' } };

/**
 * The same alerts, backup results, drills and events on the embedded store and on Elasticsearch give the
 * same posture, to the point: windows (8-day backup look-back, 120-day drills), the newest run per site,
 * open statuses only, decay by age, no-data departments.
 */
function describePosture(name: string, open: () => Promise<Store>, refresh: (store: Store) => Promise<void> = async () => {}) {
  describe(`posture from the same data (${name})`, () => {
    const tag = randomUUID().slice(0, 6);
    const [A, B, C, D] = ['a', 'b', 'c', 'd'].map((d) => `dept-${d}-${tag}`) as [string, string, string, string];
    const [d1, d2] = ['d1', 'd2'].map((s) => `${s}-${tag}`) as [string, string];
    const [a1, a2, b1] = ['a1', 'a2', 'b1'].map((s) => `${s}-${tag}`) as [string, string, string];
    const now = Date.now();
    const iso = (offset: number) => new Date(now + offset).toISOString();
    let store: Store;
    let app: FastifyInstance;
    let admin: Client;

    const alert = (system: string, department: string, n: number, priority: number, status: AlertStatus, lastSeen: number): Alert => ({
      id: alertId(`rule-${n}`, `${system}-${tag}`, 'w'), rule: { id: `rule-${n}`, title: `规则 ${n}`, level: 'high' }, mlps: [],
      department, system, mlpsLevel: 3, priority, status, timeline: [{ at: iso(lastSeen), actor: 'analyzer', action: 'raised' }],
      firstSeen: iso(lastSeen - 60_000), lastSeen: iso(lastSeen), count: 1, sampleEventIds: [],
    });
    const check = (system: string, department: string, site: 'same-city' | 'off-site' | undefined, run: string, finished: number,
      status: JobResult['status'], checkName: BackupCheckName = 'presence'): JobResult => ({
      id: `${system}-${run}-${site ?? 'cross'}-${checkName}`, kind: 'backup-check', status, system, department, ...(site ? { site } : {}),
      startedAt: iso(finished - 60_000), finishedAt: iso(finished), summary: `${checkName} ${status}`, detail: { check: checkName, site: site ?? 'cross-site', runId: `${system}-${run}` },
    });
    const drill = (system: string, department: string, finished: number, status: JobResult['status']): JobResult => ({
      id: `${system}-drill-${finished}`, kind: 'restore-drill', status, system, department, startedAt: iso(finished - 60_000),
      finishedAt: iso(finished), summary: `drill ${status}`, detail: {},
    });

    beforeAll(async () => {
      store = await open();
      await store.assets.replaceInventory(parseInventory({
        departments: [{ id: A, name: '甲' }, { id: B, name: '乙' }, { id: C, name: '丙' }, { id: D, name: '丁' }],
        systems: [
          { id: a1, name: '甲一', department: A, mlpsLevel: 3, zone: '政务外网', owner: { name: '张' }, hosts: [`${a1}-h1`, `${a1}-h2`], backup: policy },
          { id: a2, name: '甲二', department: A, mlpsLevel: 2, zone: '政务外网', owner: { name: '张' }, logSources: [{ dataset: 'mariadb.audit' }] },
          { id: b1, name: '乙一', department: B, mlpsLevel: 4, zone: '政务外网', owner: { name: '李' }, hosts: [`${b1}-h`], backup: policy },
          { id: d1, name: '丁一', department: D, mlpsLevel: 4, zone: '政务外网', owner: { name: '周' }, backup: policy },
          { id: d2, name: '丁二', department: D, mlpsLevel: 4, zone: '政务外网', owner: { name: '周' }, backup: policy },
        ],
      }, 'test'));
      await store.events.write([
        { id: `${tag}-e1`, '@timestamp': iso(-600_000), message: 'login', host: { name: `${a1}-h1` }, event: { dataset: 'syslog' }, shouwang: { department: A, system: a1 } },
        { id: `${tag}-e2`, '@timestamp': iso(-300_000), message: 'q', host: { name: 'db' }, event: { dataset: 'mariadb.audit' }, shouwang: { department: A, system: a2 } },
        { id: `${tag}-e3`, '@timestamp': iso(-200_000), message: 'x', host: { name: `${b1}-h` }, event: { dataset: 'syslog' }, shouwang: { department: B, system: b1 } },
      ]);
      await store.alerts.upsert([
        alert(a1, A, 1, 15, 'new', 0), alert(a1, A, 2, 12, 'in_progress', -7 * DAY),
        alert(a1, A, 3, 20, 'resolved', 0), alert(a2, A, 4, 6, 'false_positive', 0), alert(b1, B, 5, 20, 'new', -3 * DAY),
      ]);
      for (const result of [
        // a1: same-city: an older failed run, then a newer passed one; off-site: newest run warned in one check.
        check(a1, A, 'same-city', 'r1', -2 * DAY, 'fail'), check(a1, A, 'same-city', 'r2', -DAY, 'pass'),
        check(a1, A, 'same-city', 'r2', -DAY, 'pass', 'freshness'),
        check(a1, A, 'off-site', 'r2', -DAY, 'pass'), check(a1, A, 'off-site', 'r2', -DAY, 'warn', 'freshness'),
        check(a1, A, undefined, 'r2', -DAY, 'fail', 'cross-site'),
        drill(a1, A, -30 * DAY, 'pass'), drill(a1, A, -10 * DAY, 'fail'),
        // b1: same-city passed 9 days ago (outside the 8-day look-back), off-site passed now; its only drill is 130 days old.
        // d1: each site passed on its own, but the copies disagree (cross-site failed); d2: the off-site copy is on its way (warned).
        check(d1, D, 'same-city', 'r1', -DAY, 'pass'), check(d1, D, 'off-site', 'r1', -DAY, 'pass'), check(d1, D, undefined, 'r1', -DAY, 'fail', 'cross-site'),
        check(d2, D, 'same-city', 'r1', -DAY, 'pass'), check(d2, D, 'off-site', 'r1', -DAY, 'pass'), check(d2, D, undefined, 'r1', -DAY, 'warn', 'cross-site'),
        check(b1, B, 'same-city', 'r1', -9 * DAY, 'pass'), check(b1, B, 'off-site', 'r3', -3_600_000, 'pass'),
        check(b1, B, undefined, 'r3', -3_600_000, 'fail', 'cross-site'), drill(b1, B, -130 * DAY, 'fail'),
      ]) await store.jobResults.put(result);
      await refresh(store);
      await seedUser(store, `admin-${tag}`, 'admin');
      app = await testApp(store);
      admin = await login(app, `admin-${tag}`);
    });
    afterAll(async () => {
      await app?.close();
      await store?.close();
    });

    it('scores every system and department alike on both stores', async () => {
      const posture = (await admin.get('/api/posture')).json();
      const pick = (s: { id: string; score: number; components: unknown; noData?: boolean; backup?: unknown; openAlerts: number }) =>
        ({ id: s.id, score: s.score, components: s.components, noData: s.noData, backup: s.backup, openAlerts: s.openAlerts });
      expect(posture.systems.filter((s: { department: string }) => s.department !== D).map(pick)).toEqual([
        // a1 (L = 0.75): rule-1 0.8 × 15/20, rule-2 0.8 × 12/20 × ½ (a week old); the same-city's newest run passed
        // (the older failed one is history), off-site warned 0.15 × L, the copies disagree (cross-site failed) 0.5 × L,
        // the newest drill failed 0.3 × L; one of two hosts silent 0.6 × L × ½.
        { id: a1, score: 90, components: { alerts: 70, backup: 57, coverage: 23 }, noData: false,
          backup: { policy: true, sites: { 'same-city': 'pass', 'off-site': 'warn' }, crossSite: 'fail', drill: 'fail' }, openAlerts: 2 },
        // b1 (L = 1): alert 0.8 × 20/20 × ½^(3/7); same-city not checked within 8 days 0.5 × L; its drill is past 120 days 0.1 × L.
        { id: b1, score: 82, components: { alerts: 59, backup: 55, coverage: 0 }, noData: false, backup: { policy: true, sites: { 'off-site': 'pass' }, crossSite: 'fail' }, openAlerts: 1 },
        // a2: only a false positive, its source reports.
        { id: a2, score: 0, components: { alerts: 0, backup: 0, coverage: 0 }, noData: false, backup: { policy: false, sites: {} }, openAlerts: 0 },
      ]);
      expect(posture.departments.map((d: { id: string; score: number; noData?: boolean }) => [d.id, d.score, d.noData]))
        .toEqual([[A, 90, false], [B, 82, false], [D, 57, false], [C, 0, true]]);
    });

    it('counts same-city and off-site copies that disagree as a backup problem, once, while a copy on its way is none', async () => {
      const posture = (await admin.get('/api/posture')).json();
      const system = (id: string) => posture.systems.find((s: { id: string }) => s.id === id);
      // L = 1: the disagreement weighs as a failed site, 0.5 (and neither system has had a drill, 0.1).
      expect(system(d1)).toMatchObject({ score: 55, components: { alerts: 0, backup: 55, coverage: 0 } });
      expect(system(d1).reasons.filter((r: { kind: string }) => r.kind === 'backup'))
        .toEqual([{ kind: 'backup', system: d1, ref: 'cross-site', points: 50, text: expect.stringContaining('同城与异地'), textEn: expect.stringContaining('disagree') }]);
      expect(system(d2)).toMatchObject({ score: 10 });
      // b1's same-city copy is not checked (failed): that is its problem, not a second one for the disagreement.
      expect(system(b1).reasons.filter((r: { ref?: string }) => r.ref === 'cross-site')).toEqual([]);
    });

    it('counts a system with a backup policy but no restore drill within 120 days as a drill problem (0.1 × L), not as a drill passed', async () => {
      const posture = (await admin.get('/api/posture')).json();
      const system = (id: string) => posture.systems.find((s: { id: string }) => s.id === id);
      // b1 (L = 1): its only drill is 130 days old; d1 and d2 never had one.
      for (const id of [b1, d1, d2]) {
        expect(system(id).reasons.filter((r: { kind: string }) => r.kind === 'drill'), id)
          .toEqual([{ kind: 'drill', system: id, points: 10, text: '120 天内未做恢复演练', textEn: 'No restore drill in 120 days' }]);
      }
      // a2 has no backup policy: nothing to drill.
      expect(system(a2).reasons).toEqual([]);
    });

    it('trends the same days and risks on both stores, in a zone east of UTC', async () => {
      const trend = (await admin.get('/api/posture/trend?days=10')).json();
      const rows = trend.days.flatMap((d: { day: string; departments: { id: string; alerts: number; open: number }[] }) =>
        d.departments.map((x) => [x.id, x.alerts, x.open]));
      // Alerts last seen now (a1 rule-1, rule-3 resolved, a2 false positive), 3 days ago (b1) and 7 days ago (a1 rule-2).
      expect(rows.sort()).toEqual([[A, 1, 1], [A, 3, 1], [B, 1, 1]].sort());
    });

    it('leaves an alert a triage suppression marks out of the score and the open count, as the triage list does, until it ends', async () => {
      const a1Now = async () => (await admin.get('/api/posture')).json().systems.find((s: { id: string }) => s.id === a1);
      const before = await a1Now();
      const suppression = {
        id: `${tag}-s`, ruleId: 'rule-1', department: A, reason: '已知扫描器 known scanner', createdBy: `admin-${tag}`,
        createdAt: new Date().toISOString(), expiresAt: new Date(Date.now() + DAY).toISOString(),
      };
      await store.alerts.createSuppression(suppression);
      await refresh(store);
      try {
        const during = await a1Now();
        expect(during.openAlerts).toBe(before.openAlerts - 1);
        expect(during.components.alerts).toBeLessThan(before.components.alerts);
        expect(during.reasons.map((r: { ref?: string }) => r.ref)).not.toContain('rule-1');
        expect((await admin.get(`/api/posture/systems/${a1}`)).json().openAlerts).toBe(before.openAlerts - 1);
      } finally {
        await store.alerts.deleteSuppression(suppression.id);
        await refresh(store);
      }
      expect(await a1Now()).toMatchObject({ openAlerts: before.openAlerts, components: before.components });
    });
  });
}

onBothStores(dir, 'posture-stores.db', describePosture);
