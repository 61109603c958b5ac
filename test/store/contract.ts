/**
 * The store contract: every adapter runs this suite unchanged. Each test works inside a department
 * of its own, so the suite can share one store (or one Elasticsearch cluster) with other tests.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertId, type Alert, type Inventory, type JobResult, type ShouwangEvent } from '../../core/index.js';
import { ALERT_SORT_FIELDS, parseQuery, TOTAL_COUNT_LIMIT, type Store, type UserRecord } from '../../store/index.js';
import { eventually } from '../support/eventually.js';

const HOUR = 3_600_000;
const BASE = Date.parse('2026-03-01T00:00:00.000Z');
const at = (offsetMs: number) => new Date(BASE + offsetMs).toISOString();

function tenant() {
  const department = `d-${randomUUID().slice(0, 8)}`;
  return { department, scope: { departments: [department] } };
}

/** The n of `<department>-e<n>`; the department id may itself contain "-e". */
const eventNumber = (e: ShouwangEvent) => e.id.slice(e.id.lastIndexOf('-e') + 2);

function event(department: string, n: number, extra: Partial<ShouwangEvent> = {}): ShouwangEvent {
  return {
    id: `${department}-e${n}`,
    '@timestamp': at(n * HOUR),
    message: `event number ${n}`,
    event: { dataset: 'test.contract', outcome: n % 2 ? 'failure' : 'success' },
    host: { name: `host-${n % 3}` },
    shouwang: { department, system: `${department}-sys${n % 2}` },
    ...extra,
  };
}

function alert(department: string, n: number, overrides: Partial<Alert> = {}): Alert {
  const id = alertId(`rule-${n}`, department, at(0));
  return {
    id,
    rule: { id: `rule-${n}`, title: `Rule ${n}`, level: n % 2 ? 'high' : 'medium' },
    mlps: n % 2 ? ['8.1.4.3 a)'] : ['8.1.3.5 b)'],
    department,
    system: `${department}-sys`,
    mlpsLevel: 3,
    priority: 12,
    status: 'new',
    timeline: [{ at: at(0), actor: 'analyzer', action: 'raised' }],
    firstSeen: at(n * HOUR),
    lastSeen: at(n * HOUR),
    count: 1,
    sampleEventIds: [`${department}-e${n}`],
    ...overrides,
  };
}

export function describeStoreContract(name: string, open: () => Promise<Store>, refresh: (store: Store) => Promise<void> = async () => {}) {
  describe(`store contract: ${name}`, () => {
    let store: Store;
    beforeAll(async () => {
      store = await open();
    });
    afterAll(async () => {
      await store.close();
      await store.close(); // close() is safe to call twice
    });

    describe('events', () => {
      it('writes idempotently by id: a replay is counted as duplicates, not new events', async () => {
        const { department, scope } = tenant();
        const events = [1, 2, 3].map((n) => event(department, n));
        expect(await store.events.write(events)).toEqual({ written: 3, duplicates: 0, rejected: [] });
        expect(await store.events.write(events)).toEqual({ written: 0, duplicates: 3, rejected: [] });
        await refresh(store);
        expect((await store.events.search({ scope })).total).toBe(3);
      });

      it('rejects an event without a valid timestamp with its reason and keeps the rest of the batch', async () => {
        const { department, scope } = tenant();
        const bad = { ...event(department, 2), '@timestamp': 'yesterday' };
        const result = await store.events.write([event(department, 1), bad, event(department, 3)]);
        expect(result.written).toBe(2);
        expect(result.rejected).toEqual([{ id: bad.id, reason: expect.stringContaining('@timestamp') }]);
        await refresh(store);
        expect((await store.events.search({ scope })).items.map((e) => e.id).sort()).toEqual([`${department}-e1`, `${department}-e3`]);
      });

      it('a record the store refuses is reported per item and the rest are stored', async () => {
        const { department, scope } = tenant();
        const deep: Record<string, unknown> = { leaf: 1 };
        let nested = deep;
        for (let i = 0; i < 6000; i += 1) nested = { next: nested };
        const refused = [
          { ...event(department, 2), host: { name: 'h', ip: 5 } },
          { ...event(department, 3), source: { ip: 'not-an-ip', port: 22 } },
          { ...event(department, 4), destination: { port: 'eighty' } },
          { ...event(department, 5), host: 'a string where ECS has an object' },
          { ...event(department, 6), labels: nested },
          { ...event(department, 7), labels: Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`k${i}`, i])) },
          { ...event(department, 8), 'host.ip': ['10.0.0.1', 7] },
        ] as unknown as ShouwangEvent[];
        const good = [1, 9].map((n) => event(department, n, { host: { name: 'h', ip: ['10.0.0.1', '2001:db8::1'] } as ShouwangEvent['host'] }));
        const result = await store.events.write([good[0]!, ...refused, good[1]!]);
        expect(result.written).toBe(2);
        expect(result.rejected.map((r) => r.id)).toEqual(refused.map((e) => e.id));
        expect(result.rejected.map((r) => r.reason)).toEqual([
          expect.stringContaining('host.ip'), expect.stringContaining('source.ip'), expect.stringContaining('destination.port'),
          expect.stringContaining('host must be an object'), expect.stringContaining('too deep'), expect.stringContaining('more than 1000 fields'),
          expect.stringContaining('host.ip'),
        ]);
        await refresh(store);
        expect((await store.events.search({ scope })).items.map((e) => e.id).sort()).toEqual([`${department}-e1`, `${department}-e9`]);
      });

      it('stores dotted field names as nested objects', async () => {
        const { department, scope } = tenant();
        await store.events.write([{ ...event(department, 1), 'user.name': 'zhangsan' } as ShouwangEvent]);
        await refresh(store);
        const [stored] = (await store.events.search({ scope, filters: { 'user.name': 'zhangsan' } })).items;
        expect(stored?.user).toEqual({ name: 'zhangsan' });
      });

      it('searches a time range with an inclusive start and an exclusive end', async () => {
        const { department, scope } = tenant();
        await store.events.write([0, 1, 2, 3, 4].map((n) => event(department, n)));
        await refresh(store);
        const page = await store.events.search({ scope, from: at(1 * HOUR), to: at(3 * HOUR) }, { order: 'asc' });
        expect(page.items.map((e) => e.id)).toEqual([`${department}-e1`, `${department}-e2`]);
        expect(page.total).toBe(2);
      });

      it('filters by fields: one value, any of several, nested, arrays, numbers, booleans, AND across fields', async () => {
        const { department, scope } = tenant();
        await store.events.write([
          event(department, 1, { related: { ip: ['10.1.0.1', '10.1.0.2'] }, http: { response: { status_code: 404 } }, flag: true }),
          event(department, 2, { related: { ip: ['10.1.0.3'] }, http: { response: { status_code: 200 } }, flag: false }),
          event(department, 3, { related: { ip: ['10.1.0.2'] }, http: { response: { status_code: 404 } } }),
        ]);
        await refresh(store);
        const ids = async (filters: Record<string, unknown>) =>
          (await store.events.search({ scope, filters: filters as never }, { order: 'asc' })).items.map((e) => eventNumber(e));
        expect(await ids({ 'host.name': 'host-1' })).toEqual(['1']);
        expect(await ids({ 'host.name': ['host-1', 'host-2'] })).toEqual(['1', '2']);
        expect(await ids({ 'related.ip': '10.1.0.2' })).toEqual(['1', '3']);
        expect(await ids({ 'http.response.status_code': 404 })).toEqual(['1', '3']);
        expect(await ids({ flag: true })).toEqual(['1']);
        expect(await ids({ 'http.response.status_code': 404, 'event.outcome': 'failure' })).toEqual(['1', '3']);
        expect(await ids({ 'http.response.status_code': 404, 'host.name': 'host-0' })).toEqual(['3']);
        expect(await ids({ 'shouwang.system': `${department}-sys0` })).toEqual(['2']);
        expect(await ids({ 'host.name': 'nobody' })).toEqual([]);
      });

      it('finds events by full text over the message: every term, any case, Chinese too', async () => {
        const { department, scope } = tenant();
        await store.events.write([
          event(department, 1, { message: 'Failed password for root from 10.0.0.9 port 22 ssh2' }),
          event(department, 2, { message: 'Accepted password for admin from 10.0.0.8 port 22 ssh2' }),
          event(department, 3, { message: '用户 张三 登录 失败 , 密码 错误' }),
        ]);
        await refresh(store);
        const ids = async (text: string) =>
          (await store.events.search({ scope, text }, { order: 'asc' })).items.map((e) => eventNumber(e));
        expect(await ids('password')).toEqual(['1', '2']);
        expect(await ids('FAILED password')).toEqual(['1']);
        expect(await ids('password admin')).toEqual(['2']);
        expect(await ids('登录 失败')).toEqual(['3']);
        expect(await ids('密码')).toEqual(['3']);
        expect(await ids('password 登录')).toEqual([]);
      });

      describe('query language (the search box, parsed once and translated by each adapter)', () => {
        const { department, scope } = tenant();
        const other = tenant();
        const sys = (n: number) => `${department}-sys${n}`;
        beforeAll(async () => {
          await store.events.write([
            event(department, 1, {
              message: 'sudo: admin : TTY=pts/0 ; COMMAND=/bin/ls', process: { name: 'sudo' }, user: { name: 'admin' },
              http: { response: { status_code: 404 } }, source: { ip: '10.9.0.1' },
            }),
            event(department, 2, {
              message: 'Failed password for root from 10.9.0.2 port 22 ssh2', process: { name: 'sshd' }, user: { name: 'root' },
              http: { response: { status_code: 200 } }, source: { ip: '10.9.0.2' },
            }),
            event(department, 3, {
              message: 'Accepted password for Administrator', process: { name: 'SSHD' }, user: { name: 'Administrator' },
              http: { response: { status_code: 499 } }, tags: ['a', 'b'], url: { path: '/api/100%_done' },
            }),
            event(department, 4, {
              message: '数据库 导出 完成', db: { name: 'permits' }, event: { dataset: 'mysql.audit', outcome: 'success', severity: 7 },
              service: { name: 'Svc"q\\x 100%' },
            }),
            // Another department's events carry every word and value the queries below look for.
            ...[1, 2, 3, 4].map((n) => event(other.department, n, {
              message: 'sudo sshd password 数据库 root admin', process: { name: 'sudo' }, user: { name: 'root' }, db: { name: 'permits' },
              http: { response: { status_code: 404 } }, source: { ip: '10.9.0.1' },
            })),
          ]);
          await refresh(store);
        });
        const ids = async (q: string, inScope = scope, timeZone?: string) =>
          (await store.events.search({ scope: inScope, match: parseQuery(q, timeZone) }, { order: 'asc', size: 100 })).items.map((e) => eventNumber(e));

        it('matches a bare word on the message or exactly, any case, on the keyword fields', async () => {
          expect(await ids('sudo')).toEqual(['1']);
          expect(await ids('sshd')).toEqual(['2', '3']);
          expect(await ids('host-0')).toEqual(['3']);
          expect(await ids('HOST-0')).toEqual(['3']);
          expect(await ids('permits')).toEqual(['4']);
          expect(await ids('10.9.0.1')).toEqual(['1']);
          expect(await ids(sys(1))).toEqual(['1', '3']);
          expect(await ids('mysql.audit')).toEqual(['4']);
          expect(await ids('数据库')).toEqual(['4']);
          expect(await ids('"Failed password"')).toEqual(['2']);
          expect(await ids('password')).toEqual(['2', '3']);
        });

        it('matches field values exactly, phrases in the message, numbers and arrays', async () => {
          expect(await ids('process.name:sudo')).toEqual(['1']);
          expect(await ids('process.name:sshd')).toEqual(['2']);
          expect(await ids('user.name:root')).toEqual(['2']);
          expect(await ids('http.response.status_code:404')).toEqual(['1']);
          expect(await ids('tags:b')).toEqual(['3']);
          expect(await ids('message:"Failed password"')).toEqual(['2']);
          expect(await ids(`shouwang.system:${sys(0)}`)).toEqual(['2', '4']);
          expect(await ids('source.ip:not-an-ip')).toEqual([]);
          // An object is not a value: `user:root` does not reach user.name.
          expect(await ids('user:root')).toEqual([]);
          expect(await ids('user:*')).toEqual(['1', '2', '3']);
          expect(await ids('event.severity:7')).toEqual(['4']);
          // Quotes, backslashes and LIKE's own characters in a value are data, in either store.
          expect(await ids('service.name:"Svc\\"q\\\\x 100%"')).toEqual(['4']);
          expect(await ids('"svc\\"Q\\\\X 100%"')).toEqual(['4']);
          expect(await ids('"svc\\"Q\\\\X 1_0%"')).toEqual([]);
        });

        it('combines with AND, OR, NOT and parentheses', async () => {
          expect(await ids('password AND NOT user.name:root')).toEqual(['3']);
          expect(await ids('sudo OR 数据库')).toEqual(['1', '4']);
          expect(await ids('(sudo OR sshd) NOT process.name:SSHD')).toEqual(['1', '2']);
          expect(await ids('NOT process.name:*')).toEqual(['4']);
          expect(await ids('NOT nothing-like-this')).toEqual(['1', '2', '3', '4']);
        });

        it('matches wildcards (any case), ranges and exists', async () => {
          expect(await ids('user.name:adm*')).toEqual(['1', '3']);
          expect(await ids('adm*')).toEqual(['1', '3']);
          expect(await ids('url.path:/api/100%_*')).toEqual(['3']);
          expect(await ids('url.path:/api/1_0*')).toEqual([]);
          expect(await ids('http.response.status_code:[400 TO 499]')).toEqual(['1', '3']);
          expect(await ids('http.response.status_code:{404 TO 499]')).toEqual(['3']);
          expect(await ids('http.response.status_code:>=404')).toEqual(['1', '3']);
          expect(await ids('http.response.status_code:<404')).toEqual(['2']);
          expect(await ids('event.severity:[5 TO *]')).toEqual(['4']);
          expect(await ids(`@timestamp:[${at(2 * HOUR)} TO ${at(3 * HOUR)}}`)).toEqual(['2']);
          // Times without an offset are in the zone (events 1–4 are 09:00–12:00 on 1 March in Shanghai); a bare date is that local day.
          expect(await ids('@timestamp:>=2026-03-01T11:00')).toEqual(['3', '4']);
          expect(await ids('@timestamp:2026-03-01')).toEqual(['1', '2', '3', '4']);
          expect(await ids('@timestamp:2026-03-01', scope, 'America/New_York')).toEqual([]);
          expect(await ids('@timestamp:2026-02-28', scope, 'America/New_York')).toEqual(['1', '2', '3', '4']);
          expect(await ids('db.name:*')).toEqual(['4']);
          expect(await ids('tags:*')).toEqual(['3']);
        });

        it('never leaves the scope, whatever OR, NOT or department condition the query holds', async () => {
          const tricks = [
            '*', 'sudo', 'NOT sudo', 'sudo OR NOT sudo', 'shouwang.department:*', `shouwang.department:${other.department}`,
            `NOT shouwang.department:${department}`, `shouwang.department:${other.department} OR NOT shouwang.department:${other.department}`,
            'shouwang.department:d-*', '(NOT (NOT root)) OR permits', 'user.name:root OR process.name:sudo',
          ];
          for (const q of tricks) {
            const found = (await store.events.search({ scope, match: parseQuery(q) }, { size: 100 })).items;
            expect(found.every((e) => e.shouwang?.department === department), q).toBe(true);
            const counted = await store.events.countBy({ scope, match: parseQuery(q) }, 'shouwang.department');
            expect(counted.every((b) => b.key === department), q).toBe(true);
            const buckets = await store.events.histogram({ scope, match: parseQuery(q) }, HOUR);
            expect(buckets.reduce((n, b) => n + b.count, 0), q).toBe(found.length);
          }
          expect(await ids(`shouwang.department:${other.department}`)).toEqual([]);
          expect(await ids('sudo', other.scope)).toEqual(['1', '2', '3', '4']);
        });

        it('counts top values and time buckets for the same query', async () => {
          expect(await store.events.countBy({ scope, match: parseQuery('password') }, 'user.name')).toEqual([
            { key: 'Administrator', count: 1 }, { key: 'root', count: 1 },
          ]);
          const buckets = await store.events.histogram({ scope, match: parseQuery('sshd OR sudo') }, HOUR);
          expect(buckets).toEqual([1, 2, 3].map((n) => ({ start: at(n * HOUR), count: 1 })));
        });
      });

      it('keeps every query inside the caller’s departments, including get by id', async () => {
        const a = tenant();
        const b = tenant();
        await store.events.write([event(a.department, 1), event(b.department, 1)]);
        await refresh(store);
        const both = { departments: [a.department, b.department] };
        expect((await store.events.search({ scope: both })).total).toBe(2);
        expect((await store.events.search({ scope: a.scope })).items.map((e) => e.id)).toEqual([`${a.department}-e1`]);
        expect(await store.events.get(`${b.department}-e1`, a.scope)).toBeUndefined();
        expect((await store.events.get(`${b.department}-e1`, b.scope))?.id).toBe(`${b.department}-e1`);
        expect((await store.events.search({ scope: { departments: [] } })).total).toBe(0);
        expect(await store.events.countBy({ scope: a.scope, filters: { 'shouwang.department': b.department } }, 'host.name')).toEqual([]);
      });

      it('pages through results with a cursor, newest first, without gaps or repeats', async () => {
        const { department, scope } = tenant();
        // two events share a timestamp, so the cursor must break ties by id
        await store.events.write([...[1, 2, 3, 4, 5, 6].map((n) => event(department, n)), { ...event(department, 7), '@timestamp': at(6 * HOUR) }]);
        await refresh(store);
        const seen: string[] = [];
        let after: string | undefined;
        let pages = 0;
        do {
          const page = await store.events.search({ scope }, { size: 3, ...(after ? { after } : {}) });
          expect(page.total).toBe(7);
          seen.push(...page.items.map((e) => eventNumber(e)));
          after = page.next;
          pages += 1;
        } while (after && pages < 10);
        expect(pages).toBe(3);
        expect(seen).toEqual(['7', '6', '5', '4', '3', '2', '1']);
        const ascending = await store.events.search({ scope }, { size: 4, order: 'asc' });
        expect(ascending.items.map((e) => eventNumber(e))).toEqual(['1', '2', '3', '4']);
        await expect(store.events.search({ scope }, { after: 'not-a-cursor' })).rejects.toMatchObject({ code: 'SW_ERR_STORE_INVALID_QUERY' });
        await expect(store.events.search({ scope }, { size: 0 })).rejects.toMatchObject({ code: 'SW_ERR_STORE_INVALID_QUERY' });
      });

      it('counts totals exactly up to TOTAL_COUNT_LIMIT and marks a larger total as a lower bound', async () => {
        const { department, scope } = tenant();
        const many = Array.from({ length: TOTAL_COUNT_LIMIT + 1 }, (_, n) => ({
          id: `${department}-m${n}`, '@timestamp': at(n * 1000), message: 'm', shouwang: { department },
        }));
        for (let i = 0; i < many.length; i += 2000) await store.events.write(many.slice(i, i + 2000));
        await refresh(store);
        const all = await store.events.search({ scope }, { size: 1 });
        expect(all).toMatchObject({ total: TOTAL_COUNT_LIMIT, totalIsLowerBound: true });
        const exact = await store.events.search({ scope, to: at(TOTAL_COUNT_LIMIT * 1000) }, { size: 1 });
        expect(exact.total).toBe(TOTAL_COUNT_LIMIT);
        expect(exact.totalIsLowerBound).toBeUndefined();
      });

      it('counts events grouped by a field, largest first, limited', async () => {
        const { department, scope } = tenant();
        await store.events.write([1, 2, 3, 4, 5, 6, 7].map((n) => event(department, n)));
        await refresh(store);
        expect(await store.events.countBy({ scope }, 'host.name')).toEqual([
          { key: 'host-1', count: 3 }, { key: 'host-0', count: 2 }, { key: 'host-2', count: 2 },
        ]);
        expect(await store.events.countBy({ scope }, 'host.name', 1)).toEqual([{ key: 'host-1', count: 3 }]);
        expect(await store.events.countBy({ scope }, 'shouwang.system')).toEqual([
          { key: `${department}-sys1`, count: 4 }, { key: `${department}-sys0`, count: 3 },
        ]);
        expect(await store.events.countBy({ scope, filters: { 'event.outcome': 'failure' } }, 'host.name')).toEqual([
          { key: 'host-1', count: 2 }, { key: 'host-0', count: 1 }, { key: 'host-2', count: 1 },
        ]);
        expect(await store.events.countBy({ scope }, 'event.outcome')).toEqual([{ key: 'failure', count: 4 }, { key: 'success', count: 3 }]);
        await store.events.write([event(department, 8, { flag: true }), event(department, 9, { flag: false }), event(department, 10, { flag: true })]);
        await refresh(store);
        expect(await store.events.countBy({ scope }, 'flag')).toEqual([{ key: 'true', count: 2 }, { key: 'false', count: 1 }]);
        await expect(store.events.countBy({ scope }, 'host name; drop')).rejects.toMatchObject({ code: 'SW_ERR_STORE_INVALID_QUERY' });
      });

      it('counts events in time buckets aligned to the interval', async () => {
        const { department, scope } = tenant();
        const times = [0, 10, 50, 61, 130].map((minutes) => minutes * 60_000);
        await store.events.write(times.map((t, n) => ({ ...event(department, n), '@timestamp': at(t) })));
        await refresh(store);
        expect(await store.events.histogram({ scope }, HOUR)).toEqual([
          { start: at(0), count: 3 }, { start: at(HOUR), count: 1 }, { start: at(2 * HOUR), count: 1 },
        ]);
        expect(await store.events.histogram({ scope, from: at(HOUR) }, HOUR)).toEqual([
          { start: at(HOUR), count: 1 }, { start: at(2 * HOUR), count: 1 },
        ]);
      });

      it('reports the oldest and newest data and deletes what is past retention', async () => {
        const { department, scope } = tenant();
        const old = (n: number, iso: string) => ({ ...event(department, n), '@timestamp': iso });
        await store.events.write([old(1, '2001-01-01T00:00:00.000Z'), old(2, '2001-01-02T00:00:00.000Z'), old(3, '2001-02-01T00:00:00.000Z')]);
        await refresh(store);
        expect(await store.events.range(scope)).toEqual({ count: 3, oldest: '2001-01-01T00:00:00.000Z', newest: '2001-02-01T00:00:00.000Z' });
        expect(await store.events.deleteBefore('2001-01-15T00:00:00.000Z')).toBeGreaterThanOrEqual(2);
        await refresh(store);
        expect(await store.events.range(scope)).toEqual({ count: 1, oldest: '2001-02-01T00:00:00.000Z', newest: '2001-02-01T00:00:00.000Z' });
        expect(await store.events.range({ departments: [] })).toEqual({ count: 0 });
      });

      it('keeps the newest event per system, host and dataset, since a time and inside the scope', async () => {
        const { department, scope } = tenant();
        const other = tenant();
        const source = (n: number, system: string, host: string | undefined, dataset: string | undefined, dept = department) => ({
          id: `${dept}-e${n}`, '@timestamp': at(n * HOUR), message: 'm',
          ...(host ? { host: { name: host } } : {}), ...(dataset ? { event: { dataset } } : {}),
          shouwang: { department: dept, system },
        });
        // Written out of order: the later batch carries an older event of a known source.
        await store.events.write([source(5, 'a', 'h1', 'd1'), source(2, 'a', 'h1', 'd2'), source(4, 'a', 'h2', undefined)]);
        await store.events.write([source(1, 'a', 'h1', 'd1'), source(3, 'b', undefined, 'd1'), source(6, 'b', undefined, 'd1')]);
        await store.events.write([{ id: `${department}-nosys`, '@timestamp': at(7 * HOUR), message: 'm', shouwang: { department } }]);
        await store.events.write([source(8, 'c', 'h1', 'd1', other.department)]);
        await refresh(store);
        expect(await store.events.sourcesSeen({ scope })).toEqual([
          { system: 'a', host: 'h1', dataset: 'd1', department, lastSeen: at(5 * HOUR) },
          { system: 'a', host: 'h1', dataset: 'd2', department, lastSeen: at(2 * HOUR) },
          { system: 'a', host: 'h2', dataset: '', department, lastSeen: at(4 * HOUR) },
          { system: 'b', host: '', dataset: 'd1', department, lastSeen: at(6 * HOUR) },
        ]);
        expect((await store.events.sourcesSeen({ scope, since: at(4 * HOUR) })).map((s) => [s.system, s.host, s.dataset]))
          .toEqual([['a', 'h1', 'd1'], ['a', 'h2', ''], ['b', '', 'd1']]);
        expect((await store.events.sourcesSeen({ scope, systems: ['b'] })).map((s) => s.lastSeen)).toEqual([at(6 * HOUR)]);
        expect(await store.events.sourcesSeen({ scope: other.scope })).toEqual([
          { system: 'c', host: 'h1', dataset: 'd1', department: other.department, lastSeen: at(8 * HOUR) },
        ]);
        expect(await store.events.sourcesSeen({ scope, systems: [] })).toEqual([]);
        expect(await store.events.sourcesSeen({ scope: { departments: [] } })).toEqual([]);
      });

      it('does not count an event stamped ahead of the clock, and answers per department for a system that moved', async () => {
        const a = tenant();
        const b = tenant();
        const system = `moved-${randomUUID().slice(0, 8)}`;
        const stamped = (id: string, iso: string, department: string) => ({
          id, '@timestamp': iso, message: 'm', host: { name: 'h' }, shouwang: { department, system },
        });
        const ahead = new Date(Date.now() + 3_600_000).toISOString();
        await store.events.write([stamped(`${a.department}-1`, at(HOUR), a.department), stamped(`${b.department}-2`, at(2 * HOUR), b.department)]);
        await store.events.write([stamped(`${b.department}-3`, ahead, b.department)]);
        await refresh(store);
        expect(await store.events.sourcesSeen({ systems: [system] })).toEqual([
          { system, host: 'h', dataset: '', department: b.department, lastSeen: at(2 * HOUR) },
        ]);
        expect((await store.events.sourcesSeen({ systems: [system], scope: a.scope })).map((s) => [s.department, s.lastSeen]))
          .toEqual([[a.department, at(HOUR)]]);
      });

      it('forgets a source once retention has deleted all its events', async () => {
        const { department, scope } = tenant();
        const old = (n: number, system: string, iso: string) => ({
          id: `${department}-e${n}`, '@timestamp': iso, message: 'm', host: { name: 'h' }, shouwang: { department, system },
        });
        await store.events.write([old(1, 'gone', '2000-01-01T00:00:00.000Z'), old(2, 'kept', '2000-01-02T00:00:00.000Z'),
          old(3, 'kept', '2000-03-01T00:00:00.000Z')]);
        await refresh(store);
        expect((await store.events.sourcesSeen({ scope })).map((s) => s.system)).toEqual(['gone', 'kept']);
        await store.events.deleteBefore('2000-02-01T00:00:00.000Z');
        await refresh(store);
        expect(await store.events.sourcesSeen({ scope })).toEqual([
          { system: 'kept', host: 'h', dataset: '', department, lastSeen: '2000-03-01T00:00:00.000Z' },
        ]);
      });
    });

    describe('alerts', () => {
      it('creates an alert once and folds repeats into its count, time span and samples', async () => {
        const { department, scope } = tenant();
        const first = alert(department, 1);
        expect(await store.alerts.upsert([first])).toEqual({ created: 1, updated: 0 });
        await store.alerts.update(first.id, { status: 'acknowledged', actor: 'officer-li' }, scope);
        const repeat = alert(department, 1, { lastSeen: at(5 * HOUR), firstSeen: at(5 * HOUR), count: 2, sampleEventIds: [`${department}-e9`] });
        expect(await store.alerts.upsert([repeat])).toEqual({ created: 0, updated: 1 });
        await refresh(store);
        const stored = await store.alerts.get(first.id, scope);
        expect(stored).toMatchObject({
          count: 3, firstSeen: first.firstSeen, lastSeen: at(5 * HOUR), status: 'acknowledged',
          sampleEventIds: [`${department}-e1`, `${department}-e9`],
        });
        expect((await store.alerts.search({ scope })).total).toBe(1);
      });

      it('reads every active suppression past a page of 1,000: the alert of the oldest is still marked', async () => {
        const { department, scope } = tenant();
        const now = Date.now();
        const suppressions = Array.from({ length: 1_001 }, (_, i) => ({
          id: `${department}-s${i}`, ruleId: `rule-${i + 1}`, department, reason: '已知噪声 known noise', createdBy: 'officer-li',
          createdAt: new Date(now - (1_001 - i) * 1000).toISOString(), expiresAt: new Date(now + 24 * HOUR).toISOString(),
        }));
        // 200 at a time: each waits for a refresh on Elasticsearch, one by one that is 1,001 of them.
        const eachInGroups = async (work: (s: (typeof suppressions)[number]) => Promise<unknown>) => {
          for (let i = 0; i < suppressions.length; i += 200) await Promise.all(suppressions.slice(i, i + 200).map(work));
        };
        await eachInGroups((s) => store.alerts.createSuppression(s));
        await refresh(store);
        expect((await store.alerts.activeSuppressions(new Date(), scope)).map((s) => s.id).sort()).toEqual(suppressions.map((s) => s.id).sort());
        // Newest first: the oldest (rule-1) is the 1,001st.
        const covered = alert(department, 1);
        expect(await store.alerts.upsert([covered])).toEqual({ created: 1, updated: 0, suppressed: [covered.id] });
        await refresh(store);
        expect((await store.alerts.get(covered.id, scope))?.suppressed).toEqual({ id: `${department}-s0`, until: suppressions[0]!.expiresAt });
        // The other tests' upserts read every active suppression: these go.
        await eachInGroups((s) => store.alerts.deleteSuppression(s.id, scope));
      });

      describe('triage suppressions mark the stored alerts they cover, not only repeats', () => {
        const suppressionOf = (department: string, expiresInMs: number) => {
          const now = Date.now();
          return {
            id: `${department}-s`, ruleId: 'rule-2', groupKey: 'source.ip=10.9.9.9', department, reason: '已知扫描器 known scanner', createdBy: 'officer-li',
            createdAt: new Date(now).toISOString(), expiresAt: new Date(now + expiresInMs).toISOString(),
          };
        };
        const listed = async (scope: { departments: string[] }, suppressed: boolean) =>
          (await store.alerts.search({ scope, suppressed }, { size: 100 })).items.map((a) => a.id).sort();

        it('hides the covered alerts when it is made and lists them again when it is ended early, with no repeat', async () => {
          const { department, scope } = tenant();
          const covered = alert(department, 2, { groupKey: 'source.ip=10.9.9.9' });
          const otherGroup = alert(department, 2, { id: `${department}-other-group`, groupKey: 'source.ip=10.1.1.1' });
          const otherRule = alert(department, 3, { groupKey: 'source.ip=10.9.9.9' });
          await store.alerts.upsert([covered, otherGroup, otherRule]);
          const suppression = suppressionOf(department, 24 * HOUR);
          await store.alerts.createSuppression(suppression);
          await refresh(store);
          expect(await listed(scope, true)).toEqual([covered.id]);
          expect(await listed(scope, false)).toEqual([otherGroup.id, otherRule.id].sort());
          expect((await store.alerts.get(covered.id, scope))?.suppressed).toEqual({ id: suppression.id, until: suppression.expiresAt });
          expect(await store.alerts.deleteSuppression(suppression.id, scope)).toMatchObject({ id: suppression.id });
          await refresh(store);
          expect(await listed(scope, true)).toEqual([]);
          expect((await store.alerts.get(covered.id, scope))?.suppressed).toBeUndefined();
          expect((await store.alerts.get(covered.id, scope))?.count).toBe(1); // marked and unmarked, never counted again
        });

        it('lists an alert as not suppressed once its suppression has expired, with no repeat since', async () => {
          const { department, scope } = tenant();
          const covered = alert(department, 2, { groupKey: 'source.ip=10.9.9.9' });
          await store.alerts.createSuppression(suppressionOf(department, 3000));
          expect((await store.alerts.upsert([covered])).suppressed).toEqual([covered.id]);
          await refresh(store);
          expect(await listed(scope, true)).toEqual([covered.id]);
          await eventually(async () => expect(await listed(scope, false)).toEqual([covered.id]));
          expect(await listed(scope, true)).toEqual([]);
        });
      });

      it('changes status along allowed transitions, records who and why, and refuses the rest', async () => {
        const { department, scope } = tenant();
        const a = alert(department, 1);
        await store.alerts.upsert([a]);
        const assigned = await store.alerts.update(a.id, { status: 'in_progress', assignee: 'ops-wang', actor: 'officer-li', comment: '处理中' }, scope);
        expect(assigned).toMatchObject({ status: 'in_progress', assignee: 'ops-wang' });
        const resolved = await store.alerts.update(a.id, { status: 'resolved', actor: 'ops-wang', comment: 'blocked the source' }, scope);
        expect(resolved.timeline.slice(1)).toEqual([
          { at: expect.any(String), actor: 'officer-li', action: 'status', from: 'new', to: 'in_progress', comment: '处理中' },
          { at: expect.any(String), actor: 'officer-li', action: 'assign', assignee: 'ops-wang' },
          { at: expect.any(String), actor: 'ops-wang', action: 'status', from: 'in_progress', to: 'resolved', comment: 'blocked the source' },
        ]);
        await expect(store.alerts.update(a.id, { status: 'acknowledged', actor: 'x' }, scope)).rejects.toMatchObject({ code: 'SW_ERR_ALERT_TRANSITION', statusCode: 409 });
        await refresh(store);
        expect((await store.alerts.get(a.id, scope))?.status).toBe('resolved');
      });

      it('hides other departments’ alerts from get, update and search', async () => {
        const a = tenant();
        const b = tenant();
        const theirs = alert(b.department, 1);
        await store.alerts.upsert([theirs]);
        await refresh(store);
        expect(await store.alerts.get(theirs.id, a.scope)).toBeUndefined();
        await expect(store.alerts.update(theirs.id, { status: 'resolved', actor: 'x' }, a.scope)).rejects.toMatchObject({ code: 'SW_ERR_STORE_NOT_FOUND' });
        expect((await store.alerts.search({ scope: a.scope })).total).toBe(0);
        expect((await store.alerts.get(theirs.id, b.scope))?.status).toBe('new');
      });

      it('searches alerts by status, level, rule, MLPS clause and time, pages them and counts them', async () => {
        const { department, scope } = tenant();
        await store.alerts.upsert([1, 2, 3, 4, 5].map((n) => alert(department, n)));
        await store.alerts.update(alert(department, 2).id, { status: 'false_positive', actor: 'x' }, scope);
        await refresh(store);
        const rules = async (query: object) =>
          (await store.alerts.search({ scope, ...query }, { order: 'asc' })).items.map((a) => a.rule.id);
        expect(await rules({ level: ['high'] })).toEqual(['rule-1', 'rule-3', 'rule-5']);
        expect(await rules({ status: ['new'], level: ['medium'] })).toEqual(['rule-4']);
        expect(await rules({ mlps: '8.1.3.5 b)' })).toEqual(['rule-2', 'rule-4']);
        expect(await rules({ ruleId: ['rule-5', 'rule-1'] })).toEqual(['rule-1', 'rule-5']);
        expect(await rules({ from: at(2 * HOUR), to: at(4 * HOUR) })).toEqual(['rule-2', 'rule-3']);
        const first = await store.alerts.search({ scope }, { size: 2 });
        expect(first.items.map((a) => a.rule.id)).toEqual(['rule-5', 'rule-4']);
        const second = await store.alerts.search({ scope }, { size: 2, after: first.next! });
        expect(second.items.map((a) => a.rule.id)).toEqual(['rule-3', 'rule-2']);
        expect(await store.alerts.countBy({ scope }, 'status')).toEqual([{ key: 'new', count: 4 }, { key: 'false_positive', count: 1 }]);
        expect(await store.alerts.countBy({ scope }, 'level')).toEqual([{ key: 'high', count: 3 }, { key: 'medium', count: 2 }]);
      });

      it('groups alerts by system and rule for the risk score: worst priority, newest last seen, in scope', async () => {
        const a = tenant();
        const b = tenant();
        const repeat = (n: number, window: string, overrides: Partial<Alert>) =>
          alert(a.department, n, { id: alertId(`rule-${n}`, a.department, window), ...overrides });
        await store.alerts.upsert([
          alert(a.department, 1, { priority: 6 }),
          repeat(1, 'w2', { priority: 15, lastSeen: at(5 * HOUR) }),
          alert(a.department, 2, { priority: 4, system: `${a.department}-other` }),
          alert(a.department, 3, { priority: 18, system: `${a.department}-other` }),
          alert(b.department, 1, { priority: 20 }),
        ]);
        await store.alerts.update(alert(a.department, 3).id, { status: 'resolved', actor: 'x' }, a.scope);
        await refresh(store);
        expect(await store.alerts.problems({ scope: a.scope, status: ['new'] })).toEqual([
          { system: `${a.department}-other`, department: a.department, ruleId: 'rule-2', ruleTitle: 'Rule 2', count: 1, maxPriority: 4, lastSeen: at(2 * HOUR) },
          { system: `${a.department}-sys`, department: a.department, ruleId: 'rule-1', ruleTitle: 'Rule 1', count: 2, maxPriority: 15, lastSeen: at(5 * HOUR) },
        ]);
        expect((await store.alerts.problems({ scope: a.scope, status: ['resolved'] })).map((p) => [p.ruleId, p.maxPriority])).toEqual([['rule-3', 18]]);
        expect(await store.alerts.problems({ scope: a.scope, department: [b.department] })).toEqual([]);
      });
      it('sorts alerts by every column, ties by last seen then id, and pages each sort with a stable cursor', async () => {
        const { department, scope } = tenant();
        const levels = ['low', 'critical', 'medium', 'high', 'informational', 'high', 'critical'] as const;
        const statuses = ['new', 'resolved', 'acknowledged', 'false_positive', 'in_progress', 'new', 'new'] as const;
        // Ties on purpose (priority, count, level, system, last seen), and one alert without a system or MLPS level.
        const alerts = levels.map((level, i) => alert(department, i + 1, {
          rule: { id: `rule-${i + 1}`, title: `Rule ${i + 1}`, level }, status: statuses[i]!,
          priority: [8, 16, 8, 12, 3, 12, 20][i]!, count: [5, 1, 5, 2, 9, 2, 7][i]!,
          ...(i === 4 ? { system: undefined, mlpsLevel: undefined } : { system: `${department}-${'bab'[i % 3]}`, mlpsLevel: 2 + (i % 3) }),
          firstSeen: at((10 - i) * HOUR), lastSeen: at((i % 4) * HOUR),
        }));
        await store.alerts.upsert(alerts);
        await refresh(store);
        const keyOf: Record<string, (a: Alert) => number | string> = {
          priority: (a) => a.priority, lastSeen: () => 0, firstSeen: (a) => Date.parse(a.firstSeen),
          level: (a) => ['informational', 'low', 'medium', 'high', 'critical'].indexOf(a.rule.level),
          count: (a) => a.count, status: (a) => ['new', 'acknowledged', 'in_progress', 'resolved', 'false_positive'].indexOf(a.status),
          system: (a) => a.system ?? '', department: (a) => a.department ?? '', mlpsLevel: (a) => a.mlpsLevel ?? 0,
        };
        const compare = (x: number | string, y: number | string) => (x < y ? -1 : x > y ? 1 : 0);
        for (const sort of ALERT_SORT_FIELDS) {
          for (const order of ['desc', 'asc'] as const) {
            const expected = [...alerts].sort((a, b) => compare(keyOf[sort]!(a), keyOf[sort]!(b))
              || compare(Date.parse(a.lastSeen), Date.parse(b.lastSeen)) || compare(a.id, b.id)).map((a) => a.rule.id);
            if (order === 'desc') expected.reverse();
            const seen: string[] = [];
            let after: string | undefined;
            do {
              const page = await store.alerts.search({ scope }, { sort, order, size: 3, ...(after ? { after } : {}) });
              expect(page.total).toBe(7);
              seen.push(...page.items.map((a) => a.rule.id));
              after = page.next;
            } while (after && seen.length <= 7);
            expect(seen, `${sort} ${order}`).toEqual(expected);
          }
        }
        // A cursor belongs to its sort: reused under another it is a 400, not a wrong page.
        const first = await store.alerts.search({ scope }, { sort: 'system', size: 2 });
        await expect(store.alerts.search({ scope }, { sort: 'priority', size: 2, after: first.next! }))
          .rejects.toMatchObject({ code: 'SW_ERR_STORE_INVALID_QUERY', statusCode: 400 });
        await expect(store.alerts.search({ scope }, { sort: 'title' as never })).rejects.toMatchObject({ code: 'SW_ERR_STORE_INVALID_QUERY' });
      });

      it('filters alerts by MLPS level and by sampled event, and groups them by rule or system inside the scope', async () => {
        const a = tenant();
        const b = tenant();
        await store.alerts.upsert([
          alert(a.department, 1, { priority: 6, mlpsLevel: 2, system: `${a.department}-x` }),
          alert(a.department, 2, { priority: 16, mlpsLevel: 4, system: `${a.department}-y` }),
          alert(a.department, 3, { priority: 9, mlpsLevel: 3, system: `${a.department}-y`, rule: { id: 'rule-1', title: 'Rule 1', level: 'high' } }),
          alert(b.department, 1, { priority: 20, mlpsLevel: 4 }),
        ]);
        await refresh(store);
        const ids = async (query: object) => (await store.alerts.search({ scope: a.scope, ...query }, { sort: 'priority' })).items.map((x) => x.priority);
        expect(await ids({ mlpsLevel: [4] })).toEqual([16]);
        expect(await ids({ mlpsLevel: [2, 3] })).toEqual([9, 6]);
        expect(await ids({ eventIds: [`${a.department}-e2`, `${b.department}-e1`] })).toEqual([16]);
        expect(await ids({ eventIds: [] })).toEqual([]);
        expect(await store.alerts.groups({ scope: a.scope }, 'ruleId')).toEqual([
          { key: 'rule-2', count: 1, maxPriority: 16, lastSeen: at(2 * HOUR), title: 'Rule 2' },
          { key: 'rule-1', count: 2, maxPriority: 9, lastSeen: at(3 * HOUR), title: 'Rule 1' },
        ]);
        expect(await store.alerts.groups({ scope: a.scope, mlpsLevel: [2, 4] }, 'system')).toEqual([
          { key: `${a.department}-y`, count: 1, maxPriority: 16, lastSeen: at(2 * HOUR) },
          { key: `${a.department}-x`, count: 1, maxPriority: 6, lastSeen: at(1 * HOUR) },
        ]);
        expect(await store.alerts.groups({ scope: a.scope, department: [b.department] }, 'system')).toEqual([]);
      });
    });

    describe('assets', () => {
      it('replaces the inventory and returns only the departments in scope', async () => {
        const a = tenant();
        const b = tenant();
        const system = (id: string, department: string) => ({
          id, name: `系统 ${id}`, department, mlpsLevel: 3, zone: '政务外网' as const, owner: { name: '王工' },
          hosts: [`${id}.gov.local`], ips: [], databases: [],
        });
        const inventory: Inventory = {
          departments: [{ id: a.department, name: '市公安局' }, { id: b.department, name: '市人社局' }],
          systems: [system(`${a.department}-s1`, a.department), system(`${b.department}-s1`, b.department), system(`${a.department}-s2`, a.department)],
        };
        await store.assets.replaceInventory(inventory);
        await refresh(store);
        expect(await store.assets.getInventory()).toEqual(inventory);
        const scoped = await store.assets.getInventory(a.scope);
        expect(scoped.departments.map((d) => d.id)).toEqual([a.department]);
        expect(scoped.systems.map((s) => s.id)).toEqual([`${a.department}-s1`, `${a.department}-s2`]);
        await store.assets.replaceInventory({ departments: [inventory.departments[1]!], systems: [inventory.systems[1]!] });
        await refresh(store);
        expect((await store.assets.getInventory()).systems.map((s) => s.id)).toEqual([`${b.department}-s1`]);
      });
    });

    describe('job results', () => {
      it('keeps exactly one result per job id and finds results by system, kind and status', async () => {
        const { department, scope } = tenant();
        const result = (n: number, status: JobResult['status']): JobResult => {
          const common = {
            id: `${department}-job${n}`, status, system: `${department}-sys`, department, site: 'same-city' as const,
            startedAt: at(n * HOUR), finishedAt: at(n * HOUR + 60_000), summary: `run ${n}`,
          };
          return n % 2
            ? { ...common, kind: 'backup-check', detail: { check: 'freshness', site: 'same-city', ageSeconds: n * 100, clause: '8.1.4.11 a)' } }
            : { ...common, kind: 'restore-drill', detail: { ageSeconds: n * 100, clause: '8.1.4.11 a)' } };
        };
        await store.jobResults.put(result(1, 'fail'));
        await store.jobResults.put(result(1, 'pass')); // the retry replaces the first attempt
        await store.jobResults.put(result(2, 'warn'));
        await store.jobResults.put(result(3, 'fail'));
        await refresh(store);
        expect(await store.jobResults.get(`${department}-job1`, scope)).toEqual(result(1, 'pass'));
        expect(await store.jobResults.get(`${department}-job1`, { departments: ['elsewhere'] })).toBeUndefined();
        const all = await store.jobResults.search({ scope });
        expect(all.total).toBe(3);
        expect(all.items.map((r) => r.id)).toEqual([3, 2, 1].map((n) => `${department}-job${n}`));
        expect((await store.jobResults.search({ scope, kind: 'backup-check' })).items.map((r) => r.status)).toEqual(['fail', 'pass']);
        expect((await store.jobResults.search({ scope, status: 'fail' })).total).toBe(1);
        expect((await store.jobResults.search({ scope, system: 'other' })).total).toBe(0);
      });

      it('returns the newest results of each system and site in one grouped query, inside the scope', async () => {
        const a = tenant();
        const b = tenant();
        const result = (department: string, n: number, system: string, site?: 'same-city' | 'off-site'): JobResult => ({
          id: `${department}-r${n}`, kind: 'backup-check', status: 'pass', system, department, ...(site ? { site } : {}),
          startedAt: at(n * HOUR), finishedAt: at(n * HOUR + 1000), summary: `r${n}`, detail: { check: 'presence', site: site ?? 'cross-site' },
        });
        const x = `${a.department}-x`;
        const y = `${a.department}-y`;
        for (const r of [
          result(a.department, 1, x, 'same-city'), result(a.department, 2, x, 'same-city'), result(a.department, 3, x, 'same-city'),
          result(a.department, 4, x, 'off-site'), result(a.department, 5, x), result(a.department, 6, y, 'same-city'),
          result(b.department, 7, `${b.department}-z`, 'same-city'),
        ]) await store.jobResults.put(r);
        await refresh(store);
        const ids = async (query: object, perGroup: number) =>
          (await store.jobResults.latestPerSystem({ scope: a.scope, ...query }, perGroup)).map((r) => r.id.slice(r.id.lastIndexOf('-') + 1));
        expect(await ids({}, 2)).toEqual(['r6', 'r5', 'r4', 'r3', 'r2']);
        expect(await ids({}, 1)).toEqual(['r6', 'r5', 'r4', 'r3']);
        expect(await ids({ system: y }, 5)).toEqual(['r6']);
        expect(await ids({ kind: 'restore-drill' }, 5)).toEqual([]);
        await expect(store.jobResults.latestPerSystem({ scope: a.scope }, 0)).rejects.toMatchObject({ code: 'SW_ERR_STORE_INVALID_QUERY' });
      });
    });

    describe('console audit trail', () => {
      it('chains entries by hash, lists them by time and verifies the whole chain', async () => {
        const actor = `admin-${randomUUID().slice(0, 6)}`;
        const first = await store.audit.append({ at: new Date().toISOString(), actor, action: 'user.login', ip: '127.0.0.1' });
        const second = await store.audit.append({ at: new Date().toISOString(), actor, action: 'alert.resolve', target: 'a1', detail: { comment: '已处理' } });
        expect(second.seq).toBeGreaterThan(first.seq);
        expect(second.prevHash).toMatch(/^[0-9a-f]{64}$/);
        await refresh(store);
        const listed = await store.audit.list({ from: first.at }, { order: 'asc', size: 1000 });
        expect(listed.items.filter((e) => e.actor === actor).map((e) => e.action)).toEqual(['user.login', 'alert.resolve']);
        const verified = await store.audit.verify();
        expect(verified).toMatchObject({ ok: true });
        expect(verified.count).toBeGreaterThanOrEqual(2);
      });

      it('keeps scoped reads to entries whose departments all lie in the scope; city-wide entries only unscoped', async () => {
        const a = tenant();
        const b = tenant();
        const actor = `reviewer-${randomUUID().slice(0, 6)}`;
        const now = new Date().toISOString();
        const append = (action: string, departments?: string[]) => store.audit.append({ at: now, actor, action, ...(departments ? { departments } : {}) });
        // Departments are stored sorted and unique, blanks dropped; none left means city-wide.
        expect((await append('alert.update', [a.department, a.department, ''])).departments).toEqual([a.department]);
        await append('backup.verify', [b.department]);
        await append('evidence.export', [b.department, a.department]);
        expect((await append('user.create', [])).departments).toBeUndefined();
        await refresh(store);
        const actions = async (scope?: { departments: string[] }) => {
          const page = await store.audit.list({ from: now, ...(scope ? { scope } : {}) }, { order: 'asc', size: 1000 });
          return page.items.filter((e) => e.actor === actor).map((e) => e.action);
        };
        expect(await actions(a.scope)).toEqual(['alert.update']);
        expect(await actions(b.scope)).toEqual(['backup.verify']);
        expect(await actions({ departments: [a.department, b.department] })).toEqual(['alert.update', 'backup.verify', 'evidence.export']);
        expect(await actions({ departments: [] })).toEqual([]);
        expect(await actions()).toEqual(['alert.update', 'backup.verify', 'evidence.export', 'user.create']);
        // The scoped total counts only what the scope may see: no other department's entries in it.
        const scoped = await store.audit.list({ scope: a.scope }, { size: 1000 });
        expect(scoped.items.every((e) => e.departments?.every((d) => d === a.department))).toBe(true);
        expect(scoped.total).toBe(scoped.items.length);
        expect(await store.audit.verify()).toMatchObject({ ok: true });
      });
    });

    describe('console users and sessions', () => {
      const user = (username: string): UserRecord => ({
        username, displayName: `用户 ${username}`, role: 'department_viewer', departments: ['d-a'],
        passwordHash: 'scrypt$15$8$1$c2FsdA$aGFzaA', disabled: false, failedLogins: 0, sessionEpoch: 0,
        createdAt: at(0), updatedAt: at(0),
      });

      it('creates a user once, changes and removes fields, lists and deletes it', async () => {
        const username = `u-${randomUUID().slice(0, 8)}`;
        expect(await store.users.create(user(username))).toBe(true);
        expect(await store.users.create({ ...user(username), role: 'admin' })).toBe(false);
        expect(await store.users.get(username)).toMatchObject({ role: 'department_viewer', departments: ['d-a'] });
        const locked = await store.users.update(username, { failedLogins: 5, lockedUntil: at(HOUR) });
        expect(locked).toMatchObject({ failedLogins: 5, lockedUntil: at(HOUR) });
        const unlocked = await store.users.update(username, { failedLogins: 0, lockedUntil: undefined });
        expect(unlocked).not.toHaveProperty('lockedUntil');
        expect(await store.users.get(username)).not.toHaveProperty('lockedUntil');
        expect(await store.users.update(`nobody-${randomUUID()}`, { disabled: true })).toBeUndefined();
        expect((await store.users.list()).map((u) => u.username)).toContain(username);
        expect(await store.users.count()).toBeGreaterThanOrEqual(1);
        expect(await store.users.delete(username)).toBe(true);
        expect(await store.users.delete(username)).toBe(false);
        expect(await store.users.get(username)).toBeUndefined();
      });

      it('counts every one of concurrent updates computed from the stored user', async () => {
        const username = `u-${randomUUID().slice(0, 8)}`;
        await store.users.create(user(username));
        await Promise.all(Array.from({ length: 5 }, () => store.users.update(username, (stored) => ({ failedLogins: stored.failedLogins + 1 }))));
        expect((await store.users.get(username))?.failedLogins).toBe(5);
      });

      it('keeps sessions by hashed id, touches them and removes them per user or when expired', async () => {
        const username = `u-${randomUUID().slice(0, 8)}`;
        const session = (n: number, expiresAt: string) => ({
          idHash: `${username}-h${n}`, username, epoch: 0, csrfToken: `csrf-${n}`, createdAt: at(0), lastSeenAt: at(0), expiresAt,
        });
        await store.sessions.create(session(1, '2999-01-01T00:00:00.000Z'));
        await store.sessions.create(session(2, '2999-01-01T00:00:00.000Z'));
        await store.sessions.create(session(3, at(HOUR)));
        expect(await store.sessions.get(`${username}-h1`)).toMatchObject({ username, csrfToken: 'csrf-1' });
        await store.sessions.touch(`${username}-h1`, at(2 * HOUR));
        expect((await store.sessions.get(`${username}-h1`))?.lastSeenAt).toBe(at(2 * HOUR));
        expect(await store.sessions.deleteExpired(at(2 * HOUR))).toBeGreaterThanOrEqual(1);
        expect(await store.sessions.get(`${username}-h3`)).toBeUndefined();
        await store.sessions.delete(`${username}-h2`);
        expect(await store.sessions.get(`${username}-h2`)).toBeUndefined();
        expect(await store.sessions.deleteForUser(username)).toBe(1);
        expect(await store.sessions.get(`${username}-h1`)).toBeUndefined();
      });
    });

    it('reports its health', async () => {
      expect(await store.health()).toMatchObject({ ok: true });
    });
  });
}
