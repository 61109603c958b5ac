import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertId, parseInventory, seededRandom, type Alert, type AlertStatus } from '../../core/index.js';
import type { Scope, Store } from '../../store/index.js';
import { departmentScore, postureTrend, systemScore } from '../../console/index.js';
import { onBothStores, type OpenStore, type RefreshStore } from './support.js';

const DAY_MS = 86_400_000;
const SHANGHAI_OFFSET_MS = 8 * 3_600_000;
const OPEN: AlertStatus[] = ['new', 'acknowledged', 'in_progress'];

/** The trend as it was computed before grouped queries: three store queries for every day (risk from open alerts only). */
async function trendPerDay(store: Store, scope: Scope | undefined, days: number, now: Date) {
  const withScope = scope ? { scope } : {};
  const inventory = await store.assets.getInventory(scope);
  const levelOf = new Map(inventory.systems.map((s) => [s.id, s.mlpsLevel]));
  const today = Math.floor((now.getTime() + SHANGHAI_OFFSET_MS) / DAY_MS) * DAY_MS - SHANGHAI_OFFSET_MS;
  const starts = Array.from({ length: days }, (_, i) => today - (days - 1 - i) * DAY_MS);
  return Promise.all(starts.map(async (start) => {
    const range = { from: new Date(start).toISOString(), to: new Date(start + DAY_MS).toISOString(), ...withScope };
    const [all, open, problems] = await Promise.all([
      store.alerts.countBy(range, 'department'), store.alerts.countBy({ ...range, status: OPEN }, 'department'), store.alerts.problems({ ...range, status: OPEN }),
    ]);
    const end = new Date(Math.min(now.getTime(), start + DAY_MS));
    const bySystem = new Map<string, typeof problems>();
    for (const p of problems) bySystem.set(p.system, [...(bySystem.get(p.system) ?? []), p]);
    const risks = new Map<string, ReturnType<typeof systemScore>[]>();
    for (const [system, groups] of bySystem) {
      const department = groups[0]?.department;
      if (!department) continue;
      const score = systemScore({ system, mlpsLevel: levelOf.get(system) ?? 1, alerts: groups, backup: { policy: false, sites: {} }, sources: { expected: 0, silent: [] } }, end);
      risks.set(department, [...(risks.get(department) ?? []), score]);
    }
    const openOf = new Map(open.map((b) => [b.key, b.count]));
    return {
      day: new Date(start + SHANGHAI_OFFSET_MS).toISOString().slice(0, 10),
      departments: all.map((b) => ({ id: b.key, alerts: b.count, open: openOf.get(b.key) ?? 0, alertRisk: departmentScore(risks.get(b.key) ?? []).score })),
    };
  }));
}

function describeTrend(name: string, open: OpenStore, refresh: RefreshStore = async () => {}) {
  describe(`posture trend from one grouped query: ${name}`, () => {
    let store: Store;
    const tag = randomUUID().slice(0, 6);
    const departments = ['a', 'b', 'c'].map((d) => `dept-${d}-${tag}`);
    const systems = [0, 1, 2, 3].map((i) => ({ id: `sys-${i}-${tag}`, department: departments[i % 3]!, mlpsLevel: 2 + (i % 3) }));
    const now = new Date();

    beforeAll(async () => {
      store = await open();
      await store.assets.replaceInventory(parseInventory({
        departments: departments.map((id) => ({ id, name: id })),
        systems: systems.map((s) => ({ ...s, name: s.id, zone: '政务外网', owner: { name: '张' } })),
      }, 'test'));
      const next = seededRandom(19);
      const statuses: AlertStatus[] = ['new', 'acknowledged', 'in_progress', 'resolved', 'false_positive'];
      const alerts: Alert[] = [];
      for (let i = 0; i < 400; i += 1) {
        const system = systems[Math.floor(next() * systems.length)]!;
        // Ten days back, so the first of a 7-day trend starts mid-data; some at a day's edge in Shanghai.
        const at = new Date(i % 17 === 0
          ? Math.floor((now.getTime() + SHANGHAI_OFFSET_MS) / DAY_MS) * DAY_MS - SHANGHAI_OFFSET_MS - Math.floor(next() * 10) * DAY_MS - (i % 2)
          : now.getTime() - Math.floor(next() * 10 * DAY_MS)).toISOString();
        const rule = `rule-${Math.floor(next() * 6)}`;
        // A few without a system, without a department, or filed under another department (a system that moved).
        const kind = i % 23 === 0 ? 'no-system' : i % 29 === 0 ? 'no-department' : i % 31 === 0 ? 'moved' : 'plain';
        const department = kind === 'moved' ? departments[(departments.indexOf(system.department) + 1) % 3]! : system.department;
        alerts.push({
          id: alertId(rule, `${system.id}-${i}`, at), rule: { id: rule, title: `规则 ${rule}`, level: 'high' }, mlps: ['8.1.4.3 a)'],
          ...(kind === 'no-department' ? {} : { department }), ...(kind === 'no-system' ? {} : { system: system.id }), mlpsLevel: system.mlpsLevel,
          priority: 1 + Math.floor(next() * 20), status: statuses[Math.floor(next() * statuses.length)]!,
          timeline: [{ at, actor: 'analyzer', action: 'raised' }], firstSeen: at, lastSeen: at, count: 1, sampleEventIds: [],
        });
      }
      await store.alerts.upsert(alerts);
      await refresh(store);
    });
    afterAll(async () => {
      await store?.close();
    });

    it('gives the same counts, open counts and alert risk per day and department as three queries per day', async () => {
      for (const scope of [undefined, { departments: [departments[0]!] }, { departments: [departments[1]!, departments[2]!] }]) {
        const before = await trendPerDay(store, scope, 7, now);
        expect(before.filter((d) => d.departments.length).length).toBeGreaterThan(5);
        expect(await postureTrend(store, scope, 7, now), JSON.stringify(scope)).toEqual(before);
      }
      expect(await postureTrend(store, undefined, 30, now)).toEqual(await trendPerDay(store, undefined, 30, now));
    });

    it('scores risk from open alerts only: a department whose alerts today are all closed has no alert risk', async () => {
      const closed = `dept-closed-${tag}`;
      const at = now.toISOString();
      await store.alerts.upsert((['resolved', 'false_positive'] as AlertStatus[]).map((status, i) => ({
        id: alertId('rule-closed', `${closed}-${i}`, at), rule: { id: 'rule-closed', title: '已关闭 closed', level: 'critical' }, mlps: ['8.1.4.3 a)'],
        department: closed, system: `sys-closed-${tag}`, mlpsLevel: 3, priority: 20, status,
        timeline: [{ at, actor: 'analyzer', action: 'raised' }], firstSeen: at, lastSeen: at, count: 1, sampleEventIds: [],
      })));
      await refresh(store);
      const today = (await postureTrend(store, undefined, 1, now))[0]!;
      expect(today.departments.find((d) => d.id === closed)).toEqual({ id: closed, alerts: 2, open: 0, alertRisk: 0 });
    });

    it('starts days at midnight in the configured timeZone: an alert at 20:00 UTC is on the next day in Beijing, on its own day in UTC', async () => {
      const only = `dept-z-${tag}`;
      const at = '2026-11-26T20:00:00.000Z'; // 04:00 on the 27th in Beijing
      await store.alerts.upsert([{
        id: alertId('rule-tz', only, at), rule: { id: 'rule-tz', title: '时区 zone', level: 'high' }, mlps: ['8.1.4.3 a)'], department: only,
        system: systems[0]!.id, mlpsLevel: 3, priority: 9, status: 'new', timeline: [{ at, actor: 'analyzer', action: 'raised' }],
        firstSeen: at, lastSeen: at, count: 1, sampleEventIds: [],
      }]);
      await refresh(store);
      const now = new Date('2026-11-27T12:00:00Z');
      const daysOf = (trend: Awaited<ReturnType<typeof postureTrend>>) => trend.filter((d) => d.departments.some((x) => x.id === only)).map((d) => d.day);
      expect(daysOf(await postureTrend(store, { departments: [only] }, 3, now))).toEqual(['2026-11-27']);
      expect(daysOf(await postureTrend(store, { departments: [only] }, 3, now, 'Asia/Shanghai'))).toEqual(['2026-11-27']);
      expect(daysOf(await postureTrend(store, { departments: [only] }, 3, now, 'UTC'))).toEqual(['2026-11-26']);
    });

    it('refuses a time zone that is not an IANA name', async () => {
      await expect(store.alerts.daily({}, { timeZone: '+08:00x', openStatuses: OPEN })).rejects.toMatchObject({ code: 'SW_ERR_STORE_INVALID_QUERY' });
      await expect(postureTrend(store, undefined, 3, now, 'Asia/Shanghia')).rejects.toMatchObject({ code: 'SW_ERR_STORE_INVALID_QUERY' });
    });

    // The day after the switch, asked at noon: 1 minute either side of each local midnight of the three days.
    for (const { zone, now: asked, midnights, days } of [
      { zone: 'Europe/Berlin', now: '2026-03-30T10:00:00Z', midnights: ['2026-03-27T23:00:00Z', '2026-03-28T23:00:00Z', '2026-03-29T22:00:00Z', '2026-03-30T22:00:00Z'], days: ['2026-03-28', '2026-03-29', '2026-03-30'] },
      { zone: 'Europe/Berlin', now: '2026-10-26T10:00:00Z', midnights: ['2026-10-23T22:00:00Z', '2026-10-24T22:00:00Z', '2026-10-25T23:00:00Z', '2026-10-26T23:00:00Z'], days: ['2026-10-24', '2026-10-25', '2026-10-26'] },
      { zone: 'America/New_York', now: '2026-03-09T16:00:00Z', midnights: ['2026-03-07T05:00:00Z', '2026-03-08T05:00:00Z', '2026-03-09T04:00:00Z', '2026-03-10T04:00:00Z'], days: ['2026-03-07', '2026-03-08', '2026-03-09'] },
      { zone: 'America/New_York', now: '2026-11-02T16:00:00Z', midnights: ['2026-10-31T04:00:00Z', '2026-11-01T04:00:00Z', '2026-11-02T05:00:00Z', '2026-11-03T05:00:00Z'], days: ['2026-10-31', '2026-11-01', '2026-11-02'] },
      { zone: 'Asia/Kathmandu', now: '2026-06-02T06:00:00Z', midnights: ['2026-05-30T18:15:00Z', '2026-05-31T18:15:00Z', '2026-06-01T18:15:00Z', '2026-06-02T18:15:00Z'], days: ['2026-05-31', '2026-06-01', '2026-06-02'] },
      { zone: 'Asia/Kolkata', now: '2026-06-02T06:00:00Z', midnights: ['2026-05-30T18:30:00Z', '2026-05-31T18:30:00Z', '2026-06-01T18:30:00Z', '2026-06-02T18:30:00Z'], days: ['2026-05-31', '2026-06-01', '2026-06-02'] },
      { zone: 'Asia/Shanghai', now: '2026-06-02T06:00:00Z', midnights: ['2026-05-30T16:00:00Z', '2026-05-31T16:00:00Z', '2026-06-01T16:00:00Z', '2026-06-02T16:00:00Z'], days: ['2026-05-31', '2026-06-01', '2026-06-02'] },
    ]) {
      it(`counts each day from its own local midnight in ${zone} around ${days[1]}`, async () => {
        const only = `dept-dst-${randomUUID().slice(0, 8)}`;
        // Inside the three days only: 1 minute after the first midnight, then either side of the two between, then 1 minute before the last.
        const [first, second, third, last] = midnights.map(Date.parse) as [number, number, number, number];
        const times = [first + 60_000, second - 60_000, second + 60_000, third - 60_000, third + 60_000, last - 60_000].filter((ms) => ms <= Date.parse(asked));
        await store.alerts.upsert(times.map((ms, i) => {
          const at = new Date(ms).toISOString();
          return {
            id: alertId('rule-dst', `${only}-${i}`, at), rule: { id: 'rule-dst', title: '夏令时 DST', level: 'high' }, mlps: ['8.1.4.3 a)'], department: only,
            system: systems[0]!.id, mlpsLevel: 3, priority: 9, status: 'new', timeline: [{ at, actor: 'analyzer', action: 'raised' }],
            firstSeen: at, lastSeen: at, count: 1, sampleEventIds: [],
          } satisfies Alert;
        }));
        await refresh(store);
        const trend = await postureTrend(store, { departments: [only] }, 3, new Date(asked), zone);
        expect(trend.map((d) => [d.day, d.departments.find((x) => x.id === only)?.alerts ?? 0])).toEqual([[days[0], 2], [days[1], 2], [days[2], 1]]);
      });
    }
  });
}

const dir = mkdtempSync(join(tmpdir(), 'shouwang-posture-trend-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
onBothStores(dir, 'trend.db', describeTrend);
