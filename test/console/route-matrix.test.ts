import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BackupQueues } from '../../backup/index.js';
import { routesOf } from '../../console/app.js';
import { EvidenceQueue } from '../../evidence/index.js';
import { RuleSwitches } from '../../console/index.js';
import { ROLES, can, type Permission } from '../../console/roles.js';
import { EmbeddedStore } from '../../store/index.js';
import { login, seedTwoDepartments, seedUser, testApp, type Client } from './support.js';

/**
 * An outside check of the whole console: the routes come from the running app (Fastify's onRoute),
 * so a new route cannot escape. Every route but the public ones needs a session; for every role,
 * scoped to department A or not, every GET answers 403 exactly when the role lacks the permission,
 * and a scoped user never sees one of department B's ids in any body, even when asking for them.
 */

/** Open by design: probes, the login itself and the static pages (no data in them). */
const PUBLIC = new Set(['GET /healthz', 'GET /metrics', 'POST /api/session', 'GET /', 'GET /assets/*']);

/**
 * Scoping the console audit trail belongs to the audit-trail work of issue #16 (another branch);
 * until it lands these are checked apart, by a test that is expected to fail.
 */
const AUDIT_ROUTES = new Set(['/api/audit', '/api/audit/verify']);

const dir = mkdtempSync(join(tmpdir(), 'shouwang-matrix-'));
const tag = randomUUID().slice(0, 8);
const store = new EmbeddedStore({ path: join(dir, 'matrix.db') });
let app: FastifyInstance;
let backupQueues: BackupQueues;
let evidence: EvidenceQueue;
let seeded: Awaited<ReturnType<typeof seedTwoDepartments>>;
/** Department B's ids, by path parameter name of the route that takes them. */
let idsOfB: Record<string, string>;
let docs: { paths: Record<string, Record<string, { 'x-permission'?: Permission; parameters?: { name: string; in: string }[] }>> };
const clients = new Map<string, { client: Client; role: string; scoped: boolean }>();

beforeAll(async () => {
  seeded = await seedTwoDepartments(store);
  const redisUrl = inject('redisUrl');
  backupQueues = new BackupQueues({ redis: redisUrl, prefix: `test-${tag}`, attempts: 1, backoffMs: 100 });
  evidence = new EvidenceQueue({ redis: redisUrl, prefix: `test-${tag}` });
  app = await testApp(store, {
    backupQueues, evidence: { queue: evidence, dataDir: dir },
    rules: { catalog: () => [], switches: await RuleSwitches.open(join(dir, 'rules-disabled.json')) },
  });
  await seedUser(store, `root-${tag}`, 'admin');
  await seedUser(store, `viewer-b-${tag}`, 'department_viewer', [seeded.b.department]);
  const root = await login(app, `root-${tag}`);
  // B's jobs exist (queued; no worker runs them): their ids are what a scoped user must not reach.
  // The seeded systems have no backup policy, so B's backup job is queued as the console would name it.
  const backupJob = (await backupQueues.enqueueVerify(seeded.b.system, { jobId: `console-verify-${randomUUID()}` })).id!;
  const evidenceJob = (await root.send('POST', '/api/evidence', { department: seeded.b.department, from: '2026-04-01T00:00:00Z', to: '2026-05-01T00:00:00Z' })).json().job as string;
  expect(backupJob).toBeTruthy();
  expect(evidenceJob).toBeTruthy();
  const suppressionOfB = (await root.send('POST', `/api/alerts/${seeded.b.alert}/suppress`, { reason: 'B 的扫描器 / B\'s scanner', days: 1 })).json().id as string;
  expect(suppressionOfB).toBeTruthy();
  idsOfB = {
    '/api/alerts/:id': seeded.b.alert, '/api/events/:id': seeded.b.event, '/api/backup/results/:id': seeded.b.result,
    '/api/backup/jobs/:id': backupJob, '/api/posture/systems/:id': seeded.b.system, '/api/evidence/:job': evidenceJob,
    '/api/evidence/:job/download': evidenceJob, '/api/evidence/:job/verify': evidenceJob, '/api/users/:username': `viewer-b-${tag}`,
    '/api/alerts/:id/suppress': seeded.b.alert, '/api/suppressions/:id': suppressionOfB,
  };
  docs = (await root.get('/api/docs')).json();
  for (const role of ROLES) {
    for (const scoped of role === 'department_viewer' ? [true] : [true, false]) {
      const username = `${role.replace(/_/g, '-')}-${scoped ? 'a' : 'all'}-${tag}`;
      await seedUser(store, username, role, scoped ? [seeded.a.department] : []);
      clients.set(username, { client: await login(app, username), role, scoped });
    }
  }
}, 60_000);

afterAll(async () => {
  await app?.close();
  await backupQueues?.verify.obliterate({ force: true }).catch(() => undefined);
  await backupQueues?.close();
  await evidence?.queue.obliterate({ force: true });
  await evidence?.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const withParams = (url: string, value: (name: string) => string) => url.replace(/:(\w+)/g, (_, name: string) => encodeURIComponent(value(name)));
const markersOfB = () => [seeded.b.department, seeded.b.system, seeded.b.alert, ...Object.values(idsOfB)];
const leaked = (response: LightMyRequestResponse) => markersOfB().filter((marker) => response.body.includes(marker));
const apiGets = () => routesOf(app).filter((r) => r.method === 'GET' && r.url.startsWith('/api/'));
const permissionOf = (url: string, method = 'get') => docs.paths[url.replace(/:(\w+)/g, '{$1}')]?.[method]?.['x-permission'];

describe('route × role × scope matrix', () => {
  it('sees every route the app registered, and every /api route goes through the checked registry', () => {
    const routes = routesOf(app).map((r) => `${r.method} ${r.url}`);
    expect(routes.length).toBeGreaterThan(35);
    for (const open of PUBLIC) expect(routes).toContain(open);
    const documented = new Set(Object.entries(docs.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`)));
    for (const route of routesOf(app).filter((r) => r.url.startsWith('/api/') && r.method !== 'HEAD')) {
      expect(documented.has(`${route.method} ${route.url}`), `${route.method} ${route.url} is not in the OpenAPI document`).toBe(true);
    }
  });

  it('every route but /healthz, /metrics, login and the static pages answers 401 without a session', async () => {
    let checked = 0;
    for (const { method, url } of routesOf(app)) {
      const key = `${method === 'HEAD' ? 'GET' : method} ${url}`;
      if (PUBLIC.has(key)) continue;
      const response = await app.inject({
        method: method as 'GET', url: withParams(url.replace('*', 'x'), () => 'x'),
        ...(['POST', 'PUT', 'PATCH', 'DELETE'].includes(method) ? { payload: {} } : {}),
      });
      expect(response.statusCode, key).toBe(401);
      if (method !== 'HEAD') expect(response.json(), key).toMatchObject({ code: 'SW_ERR_AUTH_REQUIRED' });
      checked += 1;
    }
    expect(checked).toBeGreaterThan(30);
  });

  it('every GET answers 403 exactly when the role lacks the permission, and never 5xx', async () => {
    for (const [username, { client, role }] of clients) {
      for (const { url } of apiGets()) {
        const permission = permissionOf(url);
        const response = await client.get(withParams(url, (name) => idsOfB[url] ?? name));
        const key = `${username} GET ${url}`;
        expect(response.statusCode, key).toBeLessThan(500);
        if (permission && !can(role, permission)) expect(response.statusCode, key).toBe(403);
        else expect(response.statusCode, `${key}: ${response.body.slice(0, 200)}`).not.toBe(403);
      }
    }
  });

  it('a scoped user never sees department B: lists, counts, searches and exports leave it out; B’s ids are 404', async () => {
    for (const [username, { client, role, scoped }] of clients) {
      if (!scoped) continue;
      for (const { url } of apiGets().filter((r) => !AUDIT_ROUTES.has(r.url))) {
        const permission = permissionOf(url);
        if (permission && !can(role, permission)) continue;
        const key = `${username} GET ${url}`;
        if (url.includes(':')) {
          const response = await client.get(withParams(url, () => idsOfB[url]!));
          expect(response.statusCode, `${key}: ${response.body.slice(0, 200)}`).toBe(404);
          // The 404 names the id asked for; nothing else of B may appear.
          expect(leaked(response).filter((marker) => !idsOfB[url]!.includes(marker)), key).toEqual([]);
          continue;
        }
        // Plain, then asking for B by every department- or system-like parameter the route declares.
        const declared = (docs.paths[url]?.get?.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
        const asks = ['', ...declared.flatMap((name) => {
          if (/department/.test(name)) return [`${name}=${seeded.b.department}`];
          if (/system/.test(name)) return [`${name}=${seeded.b.system}`];
          if (name === 'q') return [`q=marker-${seeded.b.department}`];
          if (name === 'filter') return [`filter=shouwang.department:${seeded.b.department}`];
          return [];
        })];
        for (const ask of asks) {
          const response = await client.get(ask ? `${url}?${ask}` : url);
          expect(response.statusCode, `${key}?${ask}`).toBeLessThan(500);
          expect(leaked(response), `${key}?${ask}: ${response.body.slice(0, 300)}`).toEqual([]);
        }
      }
    }
  });

  it('a scoped user cannot change or delete B’s records by id: 404, and B’s data stays as it was', async () => {
    /** A valid body for every state-changing route with an id in its path; rules are not department data. */
    const bodies: Record<string, unknown> = {
      'PATCH /api/alerts/:id': { status: 'acknowledged', comment: '越权 / out of scope' },
      'PATCH /api/users/:username': { displayName: 'taken over' },
      'DELETE /api/users/:username': undefined,
      'PATCH /api/rules/:id': null,
      'POST /api/alerts/:id/suppress': { reason: '越权 / out of scope', days: 1 },
      'DELETE /api/suppressions/:id': undefined,
    };
    const changing = routesOf(app).filter((r) => !['GET', 'HEAD'].includes(r.method) && r.url.includes(':'));
    for (const { method, url } of changing) expect(`${method} ${url}` in bodies, `${method} ${url} needs a case here`).toBe(true);
    for (const [username, { client, role, scoped }] of clients) {
      if (!scoped) continue;
      for (const { method, url } of changing) {
        const body = bodies[`${method} ${url}`];
        const permission = permissionOf(url, method.toLowerCase());
        if (body === null || (permission && !can(role, permission))) continue;
        const response = await client.send(method as 'PATCH', withParams(url, () => idsOfB[url]!), body);
        expect(response.statusCode, `${username} ${method} ${url}: ${response.body.slice(0, 200)}`).toBe(404);
      }
    }
    expect(await store.alerts.get(seeded.b.alert)).toMatchObject({ status: 'new' });
    expect((await store.alerts.activeSuppressions(new Date())).map((s) => s.id)).toEqual([idsOfB['/api/suppressions/:id']]);
    expect(await store.users.get(`viewer-b-${tag}`)).toMatchObject({ displayName: `viewer-b-${tag}`, disabled: false });
  });

  it('the audit trail read by a scoped admin or reviewer leaves B out', async () => {
    for (const username of [`admin-a-${tag}`, `compliance-reviewer-a-${tag}`]) {
      for (const url of AUDIT_ROUTES) expect(leaked(await clients.get(username)!.client.get(url)), `${username} ${url}`).toEqual([]);
    }
  });

  it('an unscoped user with the permission does reach B’s ids (the 404s above are scope, not broken routes)', async () => {
    const officer = clients.get(`security-officer-all-${tag}`)!.client;
    for (const url of ['/api/alerts/:id', '/api/events/:id', '/api/backup/results/:id', '/api/backup/jobs/:id', '/api/posture/systems/:id']) {
      expect((await officer.get(withParams(url, () => idsOfB[url]!))).statusCode, url).toBe(200);
    }
    const admin = clients.get(`admin-all-${tag}`)!.client;
    expect((await admin.get(withParams('/api/evidence/:job', () => idsOfB['/api/evidence/:job']!))).statusCode).toBe(200);
  });
});
