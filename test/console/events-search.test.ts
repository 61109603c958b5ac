import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ShouwangEvent } from '../../core/index.js';
import { QUERY_LIMITS, type Store } from '../../store/index.js';
import { histogramInterval } from '../../console/api-data.js';
import { onBothStores, twoDepartmentConsole, type Client, type TwoDepartments } from './support.js';

const HOUR = 3_600_000;
const BASE = Date.parse('2026-04-02T00:00:00.000Z');

/**
 * The events page's API: the search box's language, the histogram and the top values of a field for
 * the same query, and a user scoped to A asking for B's events with every trick the language allows.
 */
function describeEventSearch(name: string, open: () => Promise<Store>, refresh: (store: Store) => Promise<void> = async () => {}) {
  describe(`event search API: ${name}`, () => {
    let seeded: TwoDepartments;
    let viewer: Client;
    let admin: Client;

    const fixture = twoDepartmentConsole(open, refresh, { viewer: { role: 'department_viewer', scopedToA: true }, admin: { role: 'admin' } }, async (store, { a, b }) => {
      const events: ShouwangEvent[] = [a, b].flatMap((d) => [0, 1, 2, 3, 4, 5].map((n) => ({
        id: `${d.department}-s${n}`, '@timestamp': new Date(BASE + n * HOUR).toISOString(),
        message: n < 3 ? `pam_unix(sudo:session): session opened for user root by admin ${d.department}` : `Failed password for invalid user ${d.department}`,
        process: { name: n < 3 ? 'sudo' : 'sshd' }, user: { name: n % 2 ? 'admin' : 'oracle' }, host: { name: `web-${n % 2}` },
        http: { response: { status_code: 400 + n * 20 } },
        shouwang: { department: d.department, system: d.system },
      })));
      await store.events.write(events);
    });
    beforeAll(() => {
      ({ seeded } = fixture);
      ({ viewer, admin } = fixture.clients);
    });

    const search = (client: Client, q: string, extra = '') => client.get(`/api/events?q=${encodeURIComponent(q)}&size=100${extra}`);
    const ids = async (client: Client, q: string) => {
      const response = await search(client, q);
      expect(response.statusCode, `${q}: ${response.body.slice(0, 200)}`).toBe(200);
      return (response.json() as { items: { id: string }[] }).items.map((item) => item.id).sort();
    };
    const mine = (...n: number[]) => n.map((i) => `${seeded.a.department}-s${i}`).sort();

    it('finds a bare word in the keyword fields as well as the message: sudo, sshd, a host name', async () => {
      expect(await ids(viewer, 'sudo')).toEqual(mine(0, 1, 2));
      expect(await ids(viewer, 'sshd')).toEqual(mine(3, 4, 5));
      expect(await ids(viewer, 'web-1')).toEqual(mine(1, 3, 5));
      expect(await ids(viewer, 'process.name:sudo')).toEqual(mine(0, 1, 2));
      expect(await ids(viewer, 'user.name:adm* AND http.response.status_code:[420 TO 480]')).toEqual(mine(1, 3));
      // The seeded `failed password for root` event (user root) matches too: phrases ignore case.
      expect(await ids(viewer, '"Failed password" NOT user.name:oracle')).toEqual([...mine(3, 5), seeded.a.event].sort());
    });

    it('answers a bad query with a 400 naming the column and what was expected', async () => {
      const response = await search(viewer, 'process.name:sudo AND (sshd');
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: 'SW_ERR_STORE_INVALID_QUERY', message: expect.stringMatching(/第 28 列.*column 28: expected a closing parenthesis/) });
      const long = await search(viewer, 'x'.repeat(QUERY_LIMITS.length + 1));
      expect(long.json()).toMatchObject({ code: 'SW_ERR_STORE_INVALID_QUERY', message: expect.stringContaining('longer than 1000') });
      const deep = await search(viewer, `${'('.repeat(40)}a${')'.repeat(40)}`);
      expect(deep.json()).toMatchObject({ code: 'SW_ERR_STORE_INVALID_QUERY', message: expect.stringContaining('nesting deeper') });
      for (const url of ['/api/events/histogram?q=%22open', '/api/events/top?field=user.name&q=a%3A']) {
        expect((await viewer.get(url)).json(), url).toMatchObject({ code: 'SW_ERR_STORE_INVALID_QUERY' });
      }
    });

    it('draws the histogram of the same query, in round intervals', async () => {
      const response = await viewer.get(`/api/events/histogram?q=sudo&from=${new Date(BASE).toISOString()}&to=${new Date(BASE + 6 * HOUR).toISOString()}`);
      expect(response.statusCode).toBe(200);
      const body = response.json();
      expect(body.interval).toBe(600_000);
      expect(body.buckets).toEqual([0, 1, 2].map((n) => ({ start: new Date(BASE + n * HOUR).toISOString(), count: 1 })));
      const hourly = (await viewer.get(`/api/events/histogram?q=${encodeURIComponent('NOT sudo')}&interval=${HOUR}`)).json();
      expect(hourly.buckets.map((b: { count: number }) => b.count)).toEqual([1, 1, 1, 1]);
      const tooMany = await viewer.get(`/api/events/histogram?interval=1000&from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z`);
      expect(tooMany.statusCode).toBe(400);
      expect(histogramInterval(30 * 24 * HOUR)).toBe(12 * HOUR);
    });

    it('lists the top values of a field for the same query', async () => {
      const response = await viewer.get('/api/events/top?field=user.name&q=sudo');
      expect(response.json()).toEqual({ field: 'user.name', buckets: [{ key: 'oracle', count: 2 }, { key: 'admin', count: 1 }] });
      expect((await viewer.get('/api/events/top?field=a..b')).statusCode).toBe(400);
      expect((await viewer.get('/api/events/top?field=__proto__')).statusCode).toBe(400);
    });

    it('keeps a scoped user inside the department whatever the query: OR, NOT, department conditions, wildcards', async () => {
      const { a, b } = seeded;
      const tricks = [
        '', '*', 'sudo', 'NOT sudo', 'sudo OR NOT sudo', 'shouwang.department:*', `shouwang.department:${b.department}`,
        `NOT shouwang.department:${a.department}`, `shouwang.department:${b.department} OR shouwang.department:${a.department}`,
        'shouwang.department:dept-*', `marker-${b.department}`, `"${b.department}"`, `shouwang.system:${b.system}`, 'NOT (NOT *)',
      ];
      for (const q of tricks) {
        for (const url of [`/api/events?size=1000&q=${encodeURIComponent(q)}`, `/api/events/top?field=shouwang.department&q=${encodeURIComponent(q)}`,
          `/api/events/histogram?q=${encodeURIComponent(q)}`]) {
          const response = await viewer.get(url);
          expect(response.statusCode, url).toBe(200);
          expect(response.body, url).not.toContain(b.department);
          expect(response.body, url).not.toContain(b.system);
        }
      }
      const all = (await viewer.get('/api/events/histogram')).json();
      expect(all.buckets.reduce((n: number, bucket: { count: number }) => n + bucket.count, 0)).toBe(7);
      expect(await ids(admin, `shouwang.department:${b.department} AND sudo`)).toEqual([0, 1, 2].map((n) => `${b.department}-s${n}`).sort());
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'shouwang-event-search-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
onBothStores(dir, 'search.db', describeEventSearch);

