import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { type Store } from '../../store/index.js';
import { onBothStores, twoDepartmentConsole, type Client, type TwoDepartments } from './support.js';

/** A well-formed cursor holding what the caller likes: the store must not take it further than a 400. */
const cursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const q = (text: string) => `/api/events?q=${encodeURIComponent(text)}`;
const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
/** A 4-byte character: 100 of them are 200 UTF-16 units (within the id limits) and 400 bytes. */
const wide = (n: number) => '\u{20000}'.repeat(n);

const HOSTILE_GETS = [
  // Aggregations over fields of every kind: text, object, date, number.
  '/api/events/top?field=message', '/api/events/top?field=shouwang', '/api/events/top?field=@timestamp', '/api/events/top?field=event',
  '/api/events/top?field=shouwang.mlps_level',
  // Well-formed cursors with values no page ever hands out.
  ...['/api/events', '/api/backup/results', '/api/audit', '/api/backup/drills'].flatMap((url) =>
    [[1e300, 'x'], [-1e300, 'x'], [1.5, 'x'], [1, 'x'.repeat(300)], [1, wide(100)]].map((key) => `${url}?after=${cursor(key)}`)),
  `/api/alerts?sort=priority&after=${cursor([1e300, 1e300, 'x'])}`, `/api/alerts?sort=system&after=${cursor(['\u0000', -1e300, 'x'])}`,
  `/api/alerts?sort=firstSeen&after=${cursor([1e300, 1e300, 'x'])}`,
  // Values of the wrong type for typed fields.
  '/api/events?filter=@timestamp:abc', '/api/events?filter=source.ip:abc', '/api/events?filter=shouwang.mlps_level:abc',
  q('@timestamp:[a TO b]'), q('source.ip:[a TO b]'), q('shouwang.mlps_level:[a TO 9]'), q('source.ip:*1*'), q('@timestamp:*'),
  q('@timestamp:2026'), q('_id:x'), q('_index:x'), q('user.name:/.*/'), q('user.name:a*?*b'), q('message:**a**'), q(`"${'a'.repeat(256)}"`),
  '/api/events?q=%ed%a0%80', '/api/events/%ed%a0%80', '/api/alerts/%ff%fe',
  // The extremes of an ISO date, alone and as ranges.
  '/api/events?from=%2B275760-09-13T00:00:00Z', '/api/events?from=-271821-04-20T00:00:00Z', '/api/alerts?from=%2B275760-09-13T00:00:00Z',
  '/api/alerts/groups?by=rule&from=%2B275760-09-13T00:00:00Z', '/api/backup/results?from=%2B275760-09-13T00:00:00Z',
  '/api/audit?from=%2B275760-09-13T00:00:00Z', '/api/posture?from=-271821-04-20T00:00:00Z&to=%2B275760-09-13T00:00:00Z',
  '/api/events/histogram?from=2100-01-01T00:00:00Z&to=1970-01-01T00:00:00Z',
  // Ids of every length and width.
  `/api/alerts/${encodeURIComponent(wide(100))}`, `/api/alerts/${encodeURIComponent(wide(100))}/related`,
  `/api/events/${encodeURIComponent(wide(150))}`, `/api/backup/results/${encodeURIComponent(wide(150))}`, `/api/posture/systems/${'x'.repeat(100)}`,
];

/**
 * Hostile input on both stores (console review, session 10): forged cursors, wrong-typed values, extreme
 * dates, deep JSON bodies and wide ids answer a 4xx or a page, never a 5xx; aggregations stay in scope.
 */
function describeHostileInput(name: string, open: () => Promise<Store>, refresh: (store: Store) => Promise<void> = async () => {}) {
  describe(`hostile input: ${name}`, () => {
    let app: FastifyInstance;
    let seeded: TwoDepartments;
    let viewer: Client;
    let admin: Client;

    const fixture = twoDepartmentConsole(open, refresh, { viewer: { role: 'department_viewer', scopedToA: true }, admin: { role: 'admin' } });
    beforeAll(() => {
      ({ app, seeded } = fixture);
      ({ viewer, admin } = fixture.clients);
    });

    const serverErrors = (answers: [string, LightMyRequestResponse][]) =>
      answers.filter(([, r]) => r.statusCode >= 500).map(([what, r]) => `${r.statusCode} ${what.slice(0, 80)} ${r.body.slice(0, 200)}`);

    it('forged cursors, wrong-typed values, extreme dates and wide ids: a 4xx or a page, never a 5xx', async () => {
      const answers: [string, LightMyRequestResponse][] = [];
      for (const url of HOSTILE_GETS) for (const client of [viewer, admin]) answers.push([url, await client.get(url)]);
      expect(serverErrors(answers)).toEqual([]);
      // Without an interval of its own, a range of any width gets one that fits.
      const widest = await viewer.get('/api/events/histogram?from=1900-01-01T00:00:00Z&to=9999-12-31T23:59:59Z');
      expect(widest.statusCode, widest.body).toBe(200);
    });

    it('deep JSON, prototype keys and wide ids in bodies: a 4xx, never a 5xx', async () => {
      const send = async (method: 'POST' | 'PUT' | 'PATCH', url: string, payload: string): Promise<[string, LightMyRequestResponse]> =>
        [`${method} ${url}`, await app.inject({ method, url, payload, headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf, 'content-type': 'application/json' } })];
      const n = 400_000;
      const answers = [
        await send('POST', '/api/alerts/bulk', `{"ids":${deep(n)},"change":{"comment":"x"}}`),
        await send('PUT', '/api/inventory', `{"departments":${deep(n)},"systems":[]}`),
        await send('PUT', '/api/inventory', `{"departments":[],"systems":[],"x":${deep(n)}}`),
        await send('POST', '/api/rules/test', `{"rule":"title: x","events":[{"a":${deep(n)}}]}`),
        await send('PUT', '/api/me/notifications', `{"minLevel":${deep(n)}}`),
        await send('POST', '/api/session', `{"username":${deep(n)},"password":"x"}`),
        await send('PATCH', `/api/alerts/${seeded.a.alert}`, `{"comment":${deep(n)}}`),
        await send('POST', '/api/alerts/bulk', '{"ids":["a"],"change":{"comment":"x"},"__proto__":{"x":1}}'),
        await send('POST', '/api/alerts/bulk', '{"ids":["a"],"change":{"comment":"x","constructor":{"prototype":{"x":1}}}}'),
        await send('PATCH', `/api/alerts/${encodeURIComponent(wide(100))}`, '{"comment":"x"}'),
        await send('PATCH', `/api/users/${encodeURIComponent(wide(32))}`, '{"displayName":"x"}'),
        await send('POST', '/api/session', JSON.stringify({ username: wide(32), password: 'x' })),
        await send('POST', '/api/session', JSON.stringify({ username: '_search', password: 'x' })),
      ];
      expect(serverErrors(answers)).toEqual([]);
      expect(answers.filter(([, r]) => r.statusCode < 400).map(([what]) => what)).toEqual([]);
      // Bulk triage answers per alert: a wide unknown id is one "not found" among the results.
      const bulk = await admin.send('POST', '/api/alerts/bulk', { ids: [wide(100)], change: { comment: 'x' } });
      expect(bulk.statusCode).toBe(200);
      expect(bulk.json().results).toMatchObject([{ ok: false, code: 'SW_ERR_STORE_NOT_FOUND' }]);
    });

    it('counts, groups, histograms and posture of a scoped user hold only its department', async () => {
      const { b } = seeded;
      const bodies = await Promise.all(['/api/events/top?field=shouwang.department', '/api/events/top?field=shouwang.system',
        '/api/alerts/groups?by=system', '/api/alerts/groups?by=rule', '/api/posture', '/api/posture/top', '/api/posture/trend?days=90',
        '/api/backup/matrix', '/api/backup/drills', `/api/events?q=${encodeURIComponent(`NOT shouwang.department:${seeded.a.department}`)}`,
      ].map(async (url) => [url, (await viewer.get(url)).body] as const));
      for (const [url, body] of bodies) {
        expect(body, url).not.toContain(b.department);
        expect(body, url).not.toContain(b.system);
      }
      const histogram = (await viewer.get('/api/events/histogram')).json() as { buckets: { count: number }[] };
      expect(histogram.buckets.reduce((n, x) => n + x.count, 0)).toBe(1);
      expect((await viewer.get('/api/events?size=1')).json().total).toBe(1);
      expect((await viewer.get('/api/alerts?size=1')).json().total).toBe(1);
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'shouwang-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
onBothStores(dir, 'hostile.db', describeHostileInput);
