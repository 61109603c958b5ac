import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { alertId, parseInventory, type Alert, type RuleLevel, type ShouwangEvent } from '../../core/index.js';
import { type Store } from '../../store/index.js';
import { defaultMlpsCatalogPath, loadRuleDir } from '../../analyzers/index.js';
import { RuleBook } from '../../console/alert-explain.js';
import { login, onBothStores, seedUser, testApp, type Client } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-alerts-triage-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Shipped rules: the webshell rule (critical, detection) and the SSH brute force correlation (high).
const WEBSHELL = 'cfa12343-d4ea-536c-aa08-6d934f3e1e7e';
const SSH_BRUTE = '8a247f59-7a5f-52f6-b3ba-85a1cea5169e';
const HOUR = 3_600_000;
const shippedRulesDir = join(defaultMlpsCatalogPath(), '..', '..', 'shouwang');
const T0 = Date.parse('2026-05-01T08:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();

function describeTriage(name: string, open: () => Promise<Store>, refresh: (store: Store) => Promise<void> = async () => {}) {
  describe(`alert triage API (${name}): sort, groups, related alerts, explanation and bulk inside the scope`, () => {
    let store: Store;
    const tag = randomUUID().slice(0, 6);
    const a = { department: `dept-a-${tag}`, system: `sys-a-${tag}`, level2: `sys-a2-${tag}` };
    const b = { department: `dept-b-${tag}`, system: `sys-b-${tag}` };
    let app: FastifyInstance;
    let admin: Client;
    let viewer: Client;
    let officer: Client;
    const alerts: Record<string, Alert> = {};

    function seed(name: string, department: string, system: string, ruleId: string, title: string, level: RuleLevel, mlpsLevel: number,
      lastSeen: number, eventIds: string[]): Alert {
      const priority = (['informational', 'low', 'medium', 'high', 'critical'].indexOf(level) + 1) * mlpsLevel;
      const alert: Alert = {
        id: alertId(ruleId, `${name}-${tag}`, at(0)), rule: { id: ruleId, title, level }, mlps: ['8.1.4.3 a)'], department, system, mlpsLevel,
        priority, status: 'new', timeline: [{ at: at(0), actor: 'analyzer', action: 'raised' }], firstSeen: at(lastSeen - 60_000),
        lastSeen: at(lastSeen), count: eventIds.length, sampleEventIds: eventIds,
      };
      alerts[name] = alert;
      return alert;
    }

    function event(id: string, department: string, system: string, offset: number, extra: Partial<ShouwangEvent>): ShouwangEvent {
      return { id: `${id}-${tag}`, '@timestamp': at(offset), message: id, shouwang: { department, system }, ...extra };
    }

    beforeAll(async () => {
      store = await open();
      await store.assets.replaceInventory(parseInventory({
        departments: [{ id: a.department, name: '甲' }, { id: b.department, name: '乙' }],
        systems: [
          { id: a.system, name: '甲系统', department: a.department, mlpsLevel: 4, zone: '政务外网', owner: { name: '张' } },
          { id: a.level2, name: '甲二', department: a.department, mlpsLevel: 2, zone: '政务外网', owner: { name: '张' } },
          { id: b.system, name: '乙系统', department: b.department, mlpsLevel: 4, zone: '政务外网', owner: { name: '李' } },
        ],
      }, 'test'));
      await store.events.write([
        event('shell', a.department, a.system, 0, {
          event: { dataset: 'web.access' }, url: { path: '/uploads/x.php', query: 'cmd=id' }, source: { ip: '203.0.113.9' }, host: { name: 'web01' },
        }),
        event('login', a.department, a.system, 30 * 60_000, { event: { dataset: 'syslog', action: 'ssh_login', outcome: 'failure' }, source: { ip: '203.0.113.9' }, user: { name: 'root' }, host: { name: 'app01' } }),
        event('far', a.department, a.system, 5 * HOUR, { source: { ip: '203.0.113.9' }, host: { name: 'app09' } }),
        event('other', b.department, b.system, 10 * 60_000, { source: { ip: '203.0.113.9' }, host: { name: 'b01' } }),
        event('lvl2', a.department, a.level2, 0, { host: { name: 'old01' } }),
      ]);
      await store.alerts.upsert([
        seed('shell', a.department, a.system, WEBSHELL, '疑似 WebShell 访问', 'critical', 4, 0, [`shell-${tag}`]),
        seed('brute', a.department, a.system, SSH_BRUTE, 'SSH 暴力破解', 'high', 4, 40 * 60_000, [`login-${tag}`]),
        seed('far', a.department, a.system, SSH_BRUTE, 'SSH 暴力破解', 'high', 4, 5 * HOUR, [`far-${tag}`]),
        seed('lvl2', a.department, a.level2, SSH_BRUTE, 'SSH 暴力破解', 'high', 2, 2 * HOUR, [`lvl2-${tag}`]),
        seed('theirs', b.department, b.system, WEBSHELL, '疑似 WebShell 访问', 'critical', 4, 20 * 60_000, [`other-${tag}`]),
      ]);
      await refresh(store);
      await seedUser(store, `root-${tag}`, 'admin');
      await seedUser(store, `viewer-${tag}`, 'department_viewer', [a.department]);
      await seedUser(store, `officer-${tag}`, 'security_officer', [a.department]);
      app = await testApp(store);
      admin = await login(app, `root-${tag}`);
      viewer = await login(app, `viewer-${tag}`);
      officer = await login(app, `officer-${tag}`);
    });
    afterAll(async () => {
      await app?.close();
      await store?.close();
    });

    const names = (items: Alert[]) => items.map((x) => Object.keys(alerts).find((k) => alerts[k]!.id === x.id));
    const list = async (client: Client, query: string) => {
      const response = await client.get(`/api/alerts?department=${a.department},${b.department}&${query}`);
      expect(response.statusCode, response.body).toBe(200);
      return response.json() as { items: Alert[]; next?: string; total: number };
    };

    it('lists the worst first by default (priority, then last seen) and sorts by any column, paging with the cursor', async () => {
      expect(names((await list(admin, '')).items)).toEqual(['theirs', 'shell', 'far', 'brute', 'lvl2']);
      expect(names((await list(admin, 'sort=lastSeen')).items)).toEqual(['far', 'lvl2', 'brute', 'theirs', 'shell']);
      expect(names((await list(admin, 'sort=mlpsLevel&order=asc')).items)[0]).toBe('lvl2');
      expect(names((await list(admin, 'sort=department&order=asc')).items).at(-1)).toBe('theirs');
      const first = await list(admin, 'size=2');
      const second = await list(admin, `size=2&after=${first.next}`);
      const third = await list(admin, `size=2&after=${second.next}`);
      expect([...first.items, ...second.items, ...third.items].map((x) => x.id)).toEqual((await list(admin, '')).items.map((x) => x.id));
      expect(third.next).toBeUndefined();
      expect((await admin.get('/api/alerts?sort=title')).statusCode).toBe(400);
      expect((await admin.get(`/api/alerts?sort=lastSeen&after=${first.next}`)).json()).toMatchObject({ code: 'SW_ERR_STORE_INVALID_QUERY' });
    });

    it('answers hostile cursors, sorts and filters with a 400 or a page, never a 5xx (fixed-seed fuzz)', async () => {
      let seed = 15;
      const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
      const cursors = [
        Buffer.from('[1e400,1,"x"]').toString('base64url'), Buffer.from('[null,1,"x"]').toString('base64url'),
        Buffer.from('["20",1,"x"]').toString('base64url'), Buffer.from('{"a":1}').toString('base64url'), '%00', 'x'.repeat(500),
      ];
      for (let i = 0; i < 40; i += 1) {
        cursors.push(Buffer.from(Array.from({ length: 1 + Math.floor(random() * 60) }, () => Math.floor(random() * 256))).toString('base64url'));
      }
      for (const after of cursors) {
        for (const sort of ['priority', 'lastSeen', 'system', 'level']) {
          const response = await admin.get(`/api/alerts?sort=${sort}&after=${encodeURIComponent(after)}`);
          expect([200, 400], `${sort} ${after}`).toContain(response.statusCode);
        }
      }
      for (const query of ['by=rule&mlpsLevel=0', 'by=system&level=nope', 'by=rule&size=5', `by=rule&rule=${'r'.repeat(300)}`]) {
        expect((await admin.get(`/api/alerts/groups?${query}`)).statusCode, query).toBe(400);
      }
      // An id longer than the router takes is refused before the handler (414), as for every id route.
      expect([400, 414]).toContain((await admin.get(`/api/alerts/${'x'.repeat(201)}/related`)).statusCode);
      expect((await admin.get('/api/alerts/no-such-alert/related')).statusCode).toBe(404);
    });

    it('filters by the system’s MLPS level, rule, system and department', async () => {
      expect(names((await list(admin, 'mlpsLevel=2')).items)).toEqual(['lvl2']);
      expect(names((await list(admin, `rule=${WEBSHELL}`)).items)).toEqual(['theirs', 'shell']);
      expect(names((await list(admin, `system=${a.level2},${a.system}&mlpsLevel=4`)).items)).toEqual(['shell', 'far', 'brute']);
      expect((await admin.get('/api/alerts?mlpsLevel=nine')).statusCode).toBe(400);
    });

    it('groups by rule or system with the filters applied, never counting another department for a scoped user', async () => {
      const groups = async (client: Client, query: string) => {
        const response = await client.get(`/api/alerts/groups?${query}&department=${a.department},${b.department}`);
        expect(response.statusCode, response.body).toBe(200);
        return (response.json() as { groups: { key: string; count: number; maxPriority: number; title?: string }[] }).groups;
      };
      expect(await groups(admin, 'by=rule')).toEqual([
        expect.objectContaining({ key: WEBSHELL, count: 2, maxPriority: 20, title: '疑似 WebShell 访问' }),
        expect.objectContaining({ key: SSH_BRUTE, count: 3, maxPriority: 16, title: 'SSH 暴力破解' }),
      ]);
      expect(await groups(admin, 'by=system&mlpsLevel=4')).toEqual([
        expect.objectContaining({ key: a.system, count: 3 }), expect.objectContaining({ key: b.system, count: 1 }),
      ]);
      for (const client of [viewer, officer]) {
        expect(await groups(client, 'by=rule')).toEqual([
          expect.objectContaining({ key: WEBSHELL, count: 1 }), expect.objectContaining({ key: SSH_BRUTE, count: 3 }),
        ]);
        expect((await groups(client, 'by=system')).map((g) => g.key)).toEqual([a.system, a.level2]);
        expect((await client.get(`/api/alerts/groups?by=system&department=${b.department}`)).json()).toEqual({ by: 'system', groups: [] });
      }
      expect((await admin.get('/api/alerts/groups?by=assignee')).statusCode).toBe(400);
    });

    it('finds related alerts through the same source address or host within ±1 h, and only inside the scope', async () => {
      const related = async (client: Client, name: string) => {
        const response = await client.get(`/api/alerts/${alerts[name]!.id}/related`);
        expect(response.statusCode, response.body).toBe(200);
        return (response.json() as { items: (Alert & { via: { field: string; value: string }[] })[] }).items;
      };
      const adminSees = await related(admin, 'shell');
      // "far" shares the address but is five hours later; "lvl2" shares nothing.
      expect(names(adminSees)).toEqual(['theirs', 'brute']);
      expect(adminSees.find((x) => x.id === alerts.brute!.id)?.via).toEqual([{ field: 'source.ip', value: '203.0.113.9' }]);
      expect(names(await related(viewer, 'shell'))).toEqual(['brute']);
      expect(names(await related(officer, 'shell'))).toEqual(['brute']);
      expect((await viewer.get(`/api/alerts/${alerts.theirs!.id}/related`)).statusCode).toBe(404);
    });

    it('explains the match: rule description, the fields the detection names with the sample’s values, entities and response', async () => {
      const response = await viewer.get(`/api/alerts/${alerts.shell!.id}`);
      expect(response.statusCode).toBe(200);
      const body = response.json() as { explanation: Record<string, unknown>; mlpsRequirements: unknown[] };
      expect(body.mlpsRequirements).toHaveLength(1);
      expect(body.explanation).toMatchObject({
        rule: { id: WEBSHELL, kind: 'detection', description: expect.stringContaining('WebShell') },
        response: { zh: expect.stringMatching(/[\u4e00-\u9fff]/), en: expect.stringMatching(/[a-z]/) },
        entities: [{ field: 'host.name', value: 'web01' }, { field: 'source.ip', value: '203.0.113.9' }],
      });
      const matched = body.explanation.matched as { field: string; values: string[]; expected: string[] }[];
      expect(matched).toContainEqual(expect.objectContaining({ field: 'url.query', values: ['cmd=id'], expected: [expect.stringContaining('|re')] }));
      expect(matched).toContainEqual(expect.objectContaining({ field: 'event.dataset', values: ['web.access'] }));

      // A correlation explains itself through its group-by and its base rule's selection.
      const brute = (await admin.get(`/api/alerts/${alerts.brute!.id}`)).json() as { explanation: { matched: { field: string; values: string[] }[] } };
      expect(brute.explanation.matched).toEqual(expect.arrayContaining([
        expect.objectContaining({ field: 'source.ip', values: ['203.0.113.9'] }),
        expect.objectContaining({ field: 'event.outcome', values: ['failure'] }),
      ]));
    });

    it('ships a bilingual recommended response with every high and critical rule', async () => {
      const { documents } = await loadRuleDir(shippedRulesDir);
      const severe = documents.filter((doc) => doc.level === 'high' || doc.level === 'critical');
      expect(severe.length).toBeGreaterThan(40);
      const book = new RuleBook(documents);
      for (const doc of severe) {
        expect(book.explain(doc.id, []).response, doc.title).toEqual({ zh: expect.stringMatching(/[\u4e00-\u9fff]/), en: expect.stringMatching(/^[A-Z]/) });
      }
    });

    it('bulk-triages only the caller’s own department: another department’s alert is "not found" and stays as it was', async () => {
      const response = await officer.send('POST', '/api/alerts/bulk', {
        ids: [alerts.far!.id, alerts.theirs!.id, alerts.lvl2!.id], change: { status: 'acknowledged', comment: '批量确认' },
      });
      expect(response.statusCode).toBe(200);
      expect((response.json() as { results: unknown[] }).results).toEqual([
        { id: alerts.far!.id, ok: true, status: 'acknowledged' },
        { id: alerts.theirs!.id, ok: false, code: 'SW_ERR_STORE_NOT_FOUND', message: expect.any(String) },
        { id: alerts.lvl2!.id, ok: true, status: 'acknowledged' },
      ]);
      expect((await store.alerts.get(alerts.theirs!.id))?.status).toBe('new');
      const denied = await viewer.send('POST', '/api/alerts/bulk', { ids: [alerts.shell!.id], change: { status: 'resolved' } });
      expect(denied.statusCode).toBe(403);
      expect((await store.alerts.get(alerts.shell!.id))?.status).toBe('new');
    });

    it('applies a status change once when two officers send it at the same time, loses neither officer\'s other change nor the analyzer\'s repeats, and audits only what was applied', async () => {
      const race = seed('race', a.department, a.system, WEBSHELL, '疑似 WebShell 访问', 'critical', 4, 10 * HOUR, [`shell-${tag}`]);
      await store.alerts.upsert([race]);
      await refresh(store);
      await seedUser(store, `officer2-${tag}`, 'security_officer', [a.department]);
      const second = await login(app, `officer2-${tag}`);
      const url = `/api/alerts/${encodeURIComponent(race.id)}`;
      const acks = Array.from({ length: 6 }, (_, i) => (i % 2 ? officer : second).send('PATCH', url, { status: 'acknowledged', comment: `我来处理 ${i}` }));
      const assign = second.send('PATCH', url, { assignee: `officer2-${tag}` });
      const repeats = Array.from({ length: 4 }, () => store.alerts.upsert([{ ...race, count: 1 }]));
      const [ackResponses, assigned] = await Promise.all([Promise.all(acks), assign, Promise.all(repeats)]);
      expect(assigned.statusCode, assigned.body).toBe(200);
      // One officer wins; every other one is told it was already done (409), never a second success.
      expect(ackResponses.map((r) => r.statusCode).sort()).toEqual([200, 409, 409, 409, 409, 409]);
      for (const refused of ackResponses.filter((r) => r.statusCode === 409)) expect(refused.json().code).toBe('SW_ERR_ALERT_TRANSITION');
      await refresh(store);
      const stored = (await store.alerts.get(race.id))!;
      expect(stored).toMatchObject({ status: 'acknowledged', assignee: `officer2-${tag}`, count: 1 + 4 });
      expect(stored.timeline.filter((e) => e.action === 'status')).toHaveLength(1);
      expect(stored.timeline.filter((e) => e.action === 'assign')).toHaveLength(1);
      expect(stored.timeline.filter((e) => e.action === 'comment')).toHaveLength(0);
      const audited = (await store.audit.list({}, { size: 500 })).items.filter((e) => e.action === 'alert.update' && e.target === race.id);
      expect(audited.filter((e) => e.detail?.status === 'acknowledged')).toHaveLength(1);
      expect(audited).toHaveLength(2);
      // A later move on from there is a change again.
      expect((await officer.send('PATCH', url, { status: 'resolved', comment: '已处置' })).statusCode).toBe(200);
    });

    it('assigns an alert only to an enabled user who can read that department\'s alerts, alone or in bulk', async () => {
      const target = seed('assign', a.department, a.system, SSH_BRUTE, 'SSH 暴力破解', 'high', 4, 11 * HOUR, [`login-${tag}`]);
      await store.alerts.upsert([target]);
      await refresh(store);
      await seedUser(store, `b-viewer-${tag}`, 'department_viewer', [b.department]);
      const gone = await seedUser(store, `gone-${tag}`, 'security_officer', [a.department]);
      await store.users.update(gone.username, { disabled: true });
      const url = `/api/alerts/${encodeURIComponent(target.id)}`;
      for (const assignee of [`nobody-${tag}`, `b-viewer-${tag}`, `gone-${tag}`]) {
        const refused = await officer.send('PATCH', url, { status: 'acknowledged', assignee });
        expect(refused.statusCode, assignee).toBe(400);
        expect(refused.json()).toMatchObject({ code: 'SW_ERR_REQUEST_INVALID', message: expect.stringContaining(assignee) });
      }
      const bulk = await officer.send('POST', '/api/alerts/bulk', { ids: [target.id], change: { assignee: `b-viewer-${tag}` } });
      expect(bulk.json().results).toEqual([{ id: target.id, ok: false, code: 'SW_ERR_REQUEST_INVALID', message: expect.any(String) }]);
      await refresh(store);
      const untouched = (await store.alerts.get(target.id))!;
      expect(untouched.status).toBe('new');
      expect(untouched.assignee).toBeUndefined();
      // Someone who sees department A (a viewer of it, an unscoped admin) can be assigned; null unassigns.
      expect((await officer.send('PATCH', url, { assignee: `viewer-${tag}` })).statusCode).toBe(200);
      expect((await officer.send('PATCH', url, { assignee: `root-${tag}` })).statusCode).toBe(200);
      expect((await officer.send('PATCH', url, { assignee: null })).statusCode).toBe(200);
    });

    it('closes an alert (resolved, false positive) only with a comment saying why, alone or in bulk', async () => {
      const target = seed('close', a.department, a.system, SSH_BRUTE, 'SSH 暴力破解', 'high', 4, 12 * HOUR, [`login-${tag}`]);
      await store.alerts.upsert([target]);
      await refresh(store);
      const url = `/api/alerts/${encodeURIComponent(target.id)}`;
      for (const [method, path, body] of [
        ['PATCH', url, { status: 'resolved' }],
        ['PATCH', url, { status: 'false_positive', assignee: `officer-${tag}` }],
        ['POST', '/api/alerts/bulk', { ids: [target.id], change: { status: 'false_positive' } }],
      ] as const) {
        const refused = await officer.send(method, path, body);
        expect(refused.statusCode, JSON.stringify(body)).toBe(400);
        expect(refused.json()).toMatchObject({ code: 'SW_ERR_REQUEST_INVALID', message: expect.stringContaining('comment') });
      }
      await refresh(store);
      expect((await store.alerts.get(target.id))?.status).toBe('new');
      const closed = await officer.send('PATCH', url, { status: 'false_positive', comment: '运维巡检脚本 / the ops health check' });
      expect(closed.statusCode).toBe(200);
      expect(closed.json().timeline.at(-1)).toMatchObject({ action: 'status', to: 'false_positive', comment: '运维巡检脚本 / the ops health check' });
      // Reopening needs no reason.
      expect((await officer.send('PATCH', url, { status: 'in_progress' })).statusCode).toBe(200);
    });
  });
}

onBothStores(dir, 'api.db', describeTriage);

