import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertId, zoneDayStart, zonedToEpoch, type Alert, type AlertStatus } from '../../core/index.js';
import type { Store } from '../../store/index.js';
import { onBothStores, type OpenStore, type RefreshStore } from '../console/support.js';

const OPEN: AlertStatus[] = ['new', 'acknowledged', 'in_progress'];
const MINUTE = 60_000;

/**
 * A day D in a zone, written out by hand from the zone's rules (not computed by the code under test): the UTC instants
 * of its local midnight and of the next one. Alerts 1 minute either side of both fall on D-1, D, D, D+1.
 */
interface ZoneDay {
  zone: string;
  why: string;
  midnight: string;
  nextMidnight: string;
}

const DAYS: ZoneDay[] = [
  { zone: 'Europe/Berlin', why: 'spring forward (23 h)', midnight: '2026-03-28T23:00:00.000Z', nextMidnight: '2026-03-29T22:00:00.000Z' },
  { zone: 'Europe/Berlin', why: 'fall back (25 h)', midnight: '2026-10-24T22:00:00.000Z', nextMidnight: '2026-10-25T23:00:00.000Z' },
  { zone: 'America/New_York', why: 'spring forward (23 h)', midnight: '2026-03-08T05:00:00.000Z', nextMidnight: '2026-03-09T04:00:00.000Z' },
  { zone: 'America/New_York', why: 'fall back (25 h)', midnight: '2026-11-01T04:00:00.000Z', nextMidnight: '2026-11-02T05:00:00.000Z' },
  { zone: 'Asia/Kolkata', why: '+05:30', midnight: '2026-05-31T18:30:00.000Z', nextMidnight: '2026-06-01T18:30:00.000Z' },
  { zone: 'Asia/Kathmandu', why: '+05:45', midnight: '2026-05-31T18:15:00.000Z', nextMidnight: '2026-06-01T18:15:00.000Z' },
  { zone: 'Australia/Adelaide', why: 'half-hour zone springing forward (+09:30 → +10:30)', midnight: '2026-10-03T14:30:00.000Z', nextMidnight: '2026-10-04T13:30:00.000Z' },
  { zone: 'Asia/Shanghai', why: '+08:00, as before', midnight: '2026-05-31T16:00:00.000Z', nextMidnight: '2026-06-01T16:00:00.000Z' },
  // Cuba springs forward at midnight: 2026-03-08 has no 00:00 and starts at 01:00 CDT.
  { zone: 'America/Havana', why: 'a day with no midnight (starts 01:00)', midnight: '2026-03-08T05:00:00.000Z', nextMidnight: '2026-03-09T04:00:00.000Z' },
];

const iso = (ms: number) => new Date(ms).toISOString();

function describeDayBuckets(name: string, open: OpenStore, refresh: RefreshStore = async () => {}) {
  describe(`alerts per day in any IANA zone: ${name}`, () => {
    let store: Store;
    const tag = randomUUID().slice(0, 8);
    const departmentOf = (i: number) => `dept-day-${i}-${tag}`;

    beforeAll(async () => {
      store = await open();
      const alerts: Alert[] = DAYS.flatMap((d, i) => {
        const [start, next] = [Date.parse(d.midnight), Date.parse(d.nextMidnight)];
        return [start - MINUTE, start + MINUTE, next - MINUTE, next + MINUTE].map((ms, k) => {
          const at = iso(ms);
          return {
            id: alertId('rule-day', `${departmentOf(i)}-${k}`, at), rule: { id: 'rule-day', title: '日 day', level: 'high' }, mlps: ['8.1.4.3 a)'],
            department: departmentOf(i), system: `sys-day-${tag}`, mlpsLevel: 3, priority: 9, status: k === 3 ? 'resolved' : 'new',
            timeline: [{ at, actor: 'analyzer', action: 'raised' }], firstSeen: at, lastSeen: at, count: 1, sampleEventIds: [],
          } satisfies Alert;
        });
      });
      await store.alerts.upsert(alerts);
      await refresh(store);
    });
    afterAll(async () => {
      await store?.close();
    });

    for (const [i, d] of DAYS.entries()) {
      it(`puts 1 minute before and after local midnight on the right day: ${d.zone}, ${d.why}`, async () => {
        const [start, next] = [Date.parse(d.midnight), Date.parse(d.nextMidnight)];
        const query = { department: [departmentOf(i)], from: iso(start - 3 * 86_400_000), to: iso(next + 3 * 86_400_000) };
        const groups = await store.alerts.daily(query, { timeZone: d.zone, openStatuses: OPEN });
        const days = groups.map((g) => ({ day: g.day, count: g.count, open: g.open }));
        // The day before D is keyed by its own midnight: all that matters here is that it is one day, earlier than D.
        expect(days.slice(1)).toEqual([
          { day: d.midnight, count: 2, open: 2 },
          { day: d.nextMidnight, count: 1, open: 0 },
        ]);
        expect(days[0]).toMatchObject({ count: 1, open: 1 });
        expect(Date.parse(days[0]!.day)).toBeLessThan(start - MINUTE);
        expect(start - MINUTE - Date.parse(days[0]!.day)).toBeLessThan(25 * 3_600_000);
        // With no range the store finds the days of the alerts themselves, the same ones.
        const unbounded = await store.alerts.daily({ department: [departmentOf(i)] }, { timeZone: d.zone, openStatuses: OPEN });
        expect(unbounded.map((g) => ({ day: g.day, count: g.count, open: g.open }))).toEqual(days);
      });
    }

    it('reads a zone name in any case as Intl does', async () => {
      const groups = await store.alerts.daily({ department: [departmentOf(0)] }, { timeZone: 'europe/berlin', openStatuses: OPEN });
      expect(groups.map((g) => g.day).slice(1)).toEqual([DAYS[0]!.midnight, DAYS[0]!.nextMidnight]);
    });

    it('refuses a time zone that is no IANA name: an offset, a typo, nothing, a huge string', async () => {
      for (const timeZone of ['+05:30x', 'Asia/Shanghia', 'Mars/Olympus', '', 'x'.repeat(100_000), 'Asia/Shanghai\u0000', 3_600_000 as unknown as string]) {
        await expect(store.alerts.daily({}, { timeZone, openStatuses: OPEN }), String(timeZone).slice(0, 20))
          .rejects.toMatchObject({ code: 'SW_ERR_STORE_INVALID_QUERY', message: expect.stringMatching(/timeZone must be an IANA time zone/) });
      }
    });

    it('groups years of days at once: the same days either side of midnight, every 45 days over three years in Berlin', async () => {
      const department = `dept-years-${tag}`;
      const midnights = Array.from({ length: 25 }, (_, i) => zonedToEpoch('Europe/Berlin', 2024, 0, 1 + i * 45));
      const alerts = midnights.flatMap((midnight, i) => [midnight - MINUTE, midnight + MINUTE].map((ms, k) => {
        const at = iso(ms);
        return {
          id: alertId('rule-years', `${department}-${i}-${k}`, at), rule: { id: 'rule-years', title: '年 years', level: 'high' }, mlps: ['8.1.4.3 a)'],
          department, system: `sys-day-${tag}`, mlpsLevel: 3, priority: 9, status: 'new',
          timeline: [{ at, actor: 'analyzer', action: 'raised' }], firstSeen: at, lastSeen: at, count: 1, sampleEventIds: [],
        } satisfies Alert;
      }));
      await store.alerts.upsert(alerts);
      await refresh(store);
      // 1 minute before a midnight is the day before it, which starts at that day's own midnight (23, 24 or 25 hours earlier).
      const expected = midnights.flatMap((midnight) => [zoneDayStart('Europe/Berlin', midnight - MINUTE), midnight].map(iso));
      for (const query of [{ department: [department] }, { department: [department], from: '2023-12-01T00:00:00Z', to: '2027-01-01T00:00:00Z' }]) {
        const groups = await store.alerts.daily(query, { timeZone: 'Europe/Berlin', openStatuses: OPEN });
        expect(groups.map((g) => g.day)).toEqual(expected);
        expect(groups.every((g) => g.count === 1)).toBe(true);
      }
    });

    it('refuses to group more than ten years of days in one query', async () => {
      const query = { from: '2015-01-01T00:00:00Z', to: '2026-01-01T00:00:00Z' };
      if (name === 'embedded') {
        await expect(store.alerts.daily(query, { timeZone: 'Asia/Shanghai', openStatuses: OPEN })).rejects.toMatchObject({ code: 'SW_ERR_STORE_INVALID_QUERY' });
      } else {
        // Elasticsearch lists no days up front; it only returns days that have alerts.
        expect(Array.isArray(await store.alerts.daily(query, { timeZone: 'Asia/Shanghai', openStatuses: OPEN }))).toBe(true);
      }
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'shouwang-day-buckets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
onBothStores(dir, 'days.db', describeDayBuckets);
