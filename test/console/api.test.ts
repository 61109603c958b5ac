import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { createLogger, createMetricsRegistry } from '../../core/index.js';
import { EmbeddedStore } from '../../store/index.js';
import { buildApp } from '../../console/index.js';
import { login, seedTwoDepartments, seedUser, testApp, type Client } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-api-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('console API', () => {
  const store = new EmbeddedStore({ path: join(dir, 'api.db') });
  const registry = createMetricsRegistry({ defaultMetrics: false });
  let app: FastifyInstance;
  let admin: Client;
  let officer: Client;
  let seeded: Awaited<ReturnType<typeof seedTwoDepartments>>;

  beforeAll(async () => {
    seeded = await seedTwoDepartments(store);
    await seedUser(store, 'root', 'admin');
    await seedUser(store, 'officer', 'security_officer');
    app = await buildApp({ store, registry, logger: createLogger({ level: 'silent' }) });
    admin = await login(app, 'root');
    officer = await login(app, 'officer');
  });
  afterAll(async () => {
    await app.close();
    await store.close();
  });

  const lastAudit = async () => (await store.audit.list({}, { size: 1 })).items[0];

  describe('bad input gets a 4xx with a code and a zh-CN/English message, never a 500', () => {
    const cases: [string, () => Promise<LightMyRequestResponse>, number][] = [
      ['malformed JSON', () => app.inject({ method: 'POST', url: '/api/session', headers: { 'content-type': 'application/json' }, payload: '{"username": "root",' }), 400],
      ['malformed JSON with a session', () => app.inject({
        method: 'PATCH', url: `/api/alerts/${seeded.a.alert}`, headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf, 'content-type': 'application/json' }, payload: '{status:',
      }), 400],
      ['an oversized body', () => app.inject({
        method: 'POST', url: '/api/session', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ username: 'x', password: 'y'.repeat(1_100_000) }),
      }), 413],
      ['a body that is not JSON', () => app.inject({ method: 'POST', url: '/api/session', headers: { 'content-type': 'text/xml' }, payload: '<a/>' }), 415],
      ['an empty JSON body', () => app.inject({ method: 'POST', url: '/api/session', headers: { 'content-type': 'application/json' }, payload: '' }), 400],
      ['no body at all', () => app.inject({ method: 'POST', url: '/api/session' }), 400],
      ['a JSON array instead of an object', () => app.inject({ method: 'POST', url: '/api/session', payload: [1, 2] }), 400],
      ['wrong types', () => app.inject({ method: 'POST', url: '/api/session', payload: { username: 42, password: true } }), 400],
      ['unknown fields', () => app.inject({ method: 'POST', url: '/api/session', payload: { username: 'root', password: 'x', admin: true } }), 400],
      ['an unknown query parameter', () => admin.get('/api/alerts?levle=high'), 400],
      ['a bad enum in a list', () => admin.get('/api/alerts?level=high,severe'), 400],
      ['a bad date', () => admin.get('/api/events?from=yesterday'), 400],
      // Read in the server's own zone before: what a zone-less time meant depended on the machine.
      ['a time without its offset', () => admin.get('/api/events?from=2026-11-01T08:00'), 400],
      ['a bare date', () => admin.get('/api/alerts?to=2026-11-01'), 400],
      ['a day that does not exist', () => admin.get('/api/events?from=2026-02-30T00:00:00Z'), 400],
      ['a page size out of range', () => admin.get('/api/events?size=5000'), 400],
      ['a forged page cursor', () => admin.get('/api/alerts?after=bm9wZQ'), 400],
      ['a bad field filter', () => admin.get('/api/events?filter=no-colon-here'), 400],
      ['a bad field name', () => admin.get('/api/events?filter=a..b:1'), 400],
      ['a triage change with nothing in it', () => admin.send('PATCH', `/api/alerts/${seeded.a.alert}`, {}), 400],
      ['an unknown status', () => admin.send('PATCH', `/api/alerts/${seeded.b.alert}`, { status: 'closed' }), 400],
      ['a bulk change without ids', () => admin.send('POST', '/api/alerts/bulk', { ids: [], change: { status: 'resolved' } }), 400],
      ['an unknown alert', () => admin.send('PATCH', '/api/alerts/no-such-alert', { status: 'resolved', comment: '已处置' }), 404],
    ];
    it.each(cases)('%s', async (_name, send, status) => {
      const response = await send();
      expect(response.statusCode).toBe(status);
      const body = response.json();
      expect(body.code).toMatch(/^SW_ERR_/);
      expect(body.message).toMatch(/[\u4e00-\u9fff].* \/ [a-z]/i);
    });

    it('hands a time it accepts on as that same instant: a comma fraction, spaces or a newline around it never reach a handler as NaN', async () => {
      for (const from of ['2026-11-01T00:00:00,5Z', ' 2026-11-01T00:00:00Z', '2026-11-01T08:00:00+08:00\n']) {
        const query = `from=${encodeURIComponent(from)}&to=${encodeURIComponent('2026-11-02T00:00:00Z')}`;
        for (const path of ['/api/events/histogram', '/api/events', '/api/alerts', '/api/posture']) {
          const response = await admin.get(`${path}?${query}`);
          expect(response.statusCode, `${path} ${JSON.stringify(from)}: ${response.body.slice(0, 200)}`).toBe(200);
        }
      }
    });

    it('names the field, but never echoes a password', async () => {
      const response = await app.inject({ method: 'POST', url: '/api/session', payload: { username: 'root', password: 'p'.repeat(2000) } });
      expect(response.statusCode).toBe(400);
      expect(response.json().message).toMatch(/password/);
      expect(response.body).not.toContain('pppppppp');
    });
  });

  it('triages an alert with the caller as actor, and audits it', async () => {
    const response = await officer.send('PATCH', `/api/alerts/${seeded.a.alert}`, { status: 'in_progress', assignee: 'officer', comment: '处理中' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ status: 'in_progress', assignee: 'officer' });
    expect(response.json().timeline.at(-1)).toMatchObject({ actor: 'officer' });
    expect(await lastAudit()).toMatchObject({
      actor: 'officer', action: 'alert.update', target: seeded.a.alert, ip: '127.0.0.1', detail: { status: 'in_progress', assignee: 'officer' },
    });
    const bulk = await officer.send('POST', '/api/alerts/bulk', { ids: [seeded.a.alert, 'missing'], change: { status: 'resolved', comment: '已处置' } });
    expect(bulk.json().results.map((r: { ok: boolean }) => r.ok)).toEqual([true, false]);
    expect(await lastAudit()).toMatchObject({ action: 'alert.bulk_update', detail: { updated: [seeded.a.alert], failed: ['missing'] } });
    // The status of a resolved alert cannot go back to acknowledged: 409 from the store.
    expect((await officer.send('PATCH', `/api/alerts/${seeded.a.alert}`, { status: 'acknowledged' })).statusCode).toBe(409);
    // Officers may not manage users.
    expect((await officer.get('/api/users')).statusCode).toBe(403);
  });

  it('lets an admin create, change, reset and delete users; each step is audited and no hash leaves the server', async () => {
    const create = await admin.send('POST', '/api/users', {
      username: 'viewer1', displayName: '查看员', role: 'department_viewer', departments: [seeded.a.department], password: 'a long first password',
    });
    expect(create.statusCode).toBe(201);
    expect(create.json()).toMatchObject({ username: 'viewer1', permissions: ['alerts:read', 'events:read', 'inventory:read', 'backup:read'] });
    expect(create.body).not.toMatch(/scrypt|passwordHash|a long first password/);
    expect(await lastAudit()).toMatchObject({ actor: 'root', action: 'user.create', target: 'viewer1' });
    expect((await admin.send('POST', '/api/users', {
      username: 'viewer1', displayName: 'x', role: 'ops', password: 'another long password',
    })).statusCode).toBe(409);
    const noDepartment = await admin.send('POST', '/api/users', { username: 'viewer2', displayName: 'x', role: 'department_viewer', password: 'a long first password' });
    expect(noDepartment.statusCode).toBe(400);
    expect(noDepartment.json()).toMatchObject({ code: 'SW_ERR_USER_INVALID' });
    expect((await admin.send('POST', '/api/users', {
      username: 'viewer3', displayName: 'x', role: 'department_viewer', departments: ['no-such-dept'], password: 'a long first password',
    })).json()).toMatchObject({ code: 'SW_ERR_USER_INVALID', message: expect.stringContaining('no-such-dept') });
    expect((await admin.send('POST', '/api/users', { username: 'shorty', displayName: 'x', role: 'ops', password: 'short' })).statusCode).toBe(400);

    const viewer = await login(app, 'viewer1', 'a long first password');
    const reset = await admin.send('PATCH', '/api/users/viewer1', { password: 'a brand new password', departments: [seeded.b.department] });
    expect(reset.json()).toMatchObject({ departments: [seeded.b.department] });
    expect(await lastAudit()).toMatchObject({ action: 'user.update', target: 'viewer1', detail: { passwordReset: true } });
    expect(JSON.stringify(await lastAudit())).not.toContain('a brand new password');
    // A reset password ends the user's sessions.
    expect((await viewer.get('/api/me')).statusCode).toBe(401);
    const again = await login(app, 'viewer1', 'a brand new password');
    expect((await admin.send('PATCH', '/api/users/viewer1', { disabled: true })).statusCode).toBe(200);
    expect((await again.get('/api/me')).statusCode).toBe(401);
    expect((await app.inject({ method: 'POST', url: '/api/session', payload: { username: 'viewer1', password: 'a brand new password' } })).statusCode).toBe(401);

    expect((await admin.send('PATCH', '/api/users/root', { role: 'ops' })).json()).toMatchObject({ code: 'SW_ERR_USER_INVALID' });
    expect((await admin.send('DELETE', '/api/users/root')).statusCode).toBe(400);
    expect((await admin.send('DELETE', '/api/users/viewer1')).statusCode).toBe(204);
    expect(await lastAudit()).toMatchObject({ action: 'user.delete', target: 'viewer1' });
    expect((await admin.send('DELETE', '/api/users/viewer1')).statusCode).toBe(404);
    expect((await admin.get('/api/users')).json().items.map((u: { username: string }) => u.username)).toEqual(['officer', 'root']);
  });

  it('lists the audit trail for admins and verifies its hash chain', async () => {
    const list = await admin.get('/api/audit?size=500&order=asc');
    expect(list.statusCode).toBe(200);
    const actions = list.json().items.map((e: { action: string }) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['session.login', 'alert.update', 'alert.bulk_update', 'user.create', 'user.update', 'user.delete']));
    const verify = await admin.get('/api/audit/verify');
    expect(verify.json()).toMatchObject({ ok: true });
    expect(verify.json().count).toBe(list.json().total);
  });

  it('serves an OpenAPI 3.1 document built from the route schemas', async () => {
    const doc = (await officer.get('/api/docs')).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining([
      '/api/session', '/api/me', '/api/users', '/api/users/{username}', '/api/alerts', '/api/alerts/{id}', '/api/alerts/bulk',
      '/api/events', '/api/inventory', '/api/backup/results', '/api/audit', '/api/audit/verify',
    ]));
    expect(doc.paths['/api/session'].post.security).toEqual([]);
    expect(doc.paths['/api/alerts'].get.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['level', 'status', 'department', 'mlps', 'after']));
    expect(doc.paths['/api/users/{username}'].patch).toMatchObject({
      'x-permission': 'users:admin', requestBody: { content: { 'application/json': { schema: { type: 'object', additionalProperties: false } } } },
    });
  });

  it('exports alerts by level and status on /metrics, counted in the store at scrape time', async () => {
    const response = await app.inject('/metrics');
    expect(response.body).toMatch(/^shouwang_alerts\{level="high",status="resolved"\} 1$/m);
    expect(response.body).toMatch(/^shouwang_alerts\{level="high",status="new"\} 1$/m);
  });

  it('keeps /healthz public', async () => {
    const other = await testApp(store);
    expect((await other.inject('/healthz')).statusCode).toBe(200);
    await other.close();
  });
});

describe('bulk alert update audit', () => {
  const store = new EmbeddedStore({ path: join(dir, 'bulk.db') });
  let app: FastifyInstance;
  let seeded: Awaited<ReturnType<typeof seedTwoDepartments>>;
  beforeAll(async () => {
    seeded = await seedTwoDepartments(store);
    app = await testApp(store);
  });
  afterAll(async () => {
    await app.close();
    await store.close();
  });
  const lastAudit = async () => (await store.audit.list({}, { size: 1 })).items[0];

  it('a scoped bulk update does not list another department’s alert id in its audit entry', async () => {
    // Fresh copies of both departments' alerts, so the other tests' triage is left alone.
    const copy = async (id: string, suffix: string) => {
      const alert = (await store.alerts.get(id))!;
      await store.alerts.upsert([{ ...alert, id: `${id}-${suffix}`, status: 'new' }]);
      return `${id}-${suffix}`;
    };
    await seedUser(store, 'officer', 'security_officer');
    const officer = await login(app, 'officer');
    const [a, b] = [await copy(seeded.a.alert, 'bulk'), await copy(seeded.b.alert, 'bulk')];
    await seedUser(store, 'officer-a', 'security_officer', [seeded.a.department]);
    const scoped = await login(app, 'officer-a');
    const bulk = await scoped.send('POST', '/api/alerts/bulk', { ids: [a, b, 'missing'], change: { status: 'acknowledged' } });
    expect(bulk.json().results.map((r: { ok: boolean }) => r.ok)).toEqual([true, false, false]);
    const entry = await lastAudit();
    expect(entry).toMatchObject({ action: 'alert.bulk_update', departments: [seeded.a.department], detail: { updated: [a], failed: [], notFound: 2 } });
    expect(JSON.stringify(entry)).not.toContain(b);
    expect((await store.alerts.get(b))?.status).toBe('new');
    // A failed alert the caller can see (here a refused transition) files the entry under its department too.
    expect((await officer.send('PATCH', `/api/alerts/${b}`, { status: 'resolved', comment: '已处置' })).statusCode).toBe(200);
    const a2 = await copy(seeded.a.alert, 'bulk2');
    const mixed = await officer.send('POST', '/api/alerts/bulk', { ids: [a2, b], change: { status: 'acknowledged' } });
    expect(mixed.json().results.map((r: { ok: boolean }) => r.ok)).toEqual([true, false]);
    const second = await lastAudit();
    expect(second).toMatchObject({ detail: { updated: [a2], failed: [b] } });
    expect(second!.departments).toEqual([seeded.a.department, seeded.b.department].sort());
  });
});
