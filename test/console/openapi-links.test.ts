import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import type { z } from 'zod';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BackupQueues } from '../../backup/index.js';
import * as views from '../../console/api-responses.js';
import { EvidenceQueue } from '../../evidence/index.js';
import { RuleSwitches } from '../../console/index.js';
import { operationIdOf, RouteRegistry } from '../../console/routes.js';
import { EmbeddedStore } from '../../store/index.js';
import { giveBackupPolicies, login, seedTwoDepartments, seedUser, testApp, type Client } from './support.js';

/**
 * The OpenAPI links Schemathesis's stateful phase follows, checked against the real answers: every
 * operation has its own operationId, every link's runtime expression resolves in the source's real
 * response, the target answers 2xx with it, and both answers fit the response schema the document declares.
 */

interface Link { operationId: string; parameters?: Record<string, string>; requestBody?: unknown }
interface Operation { operationId: string; responses: Record<string, { links?: Record<string, Link> }> }
type Doc = { paths: Record<string, Record<string, Operation>> };

/** `$response.body#/a/0/b` in the source's answer; nested in objects and arrays like a requestBody. */
function evaluate(expression: unknown, body: unknown): unknown {
  if (Array.isArray(expression)) return expression.map((e) => evaluate(e, body));
  if (expression && typeof expression === 'object') {
    return Object.fromEntries(Object.entries(expression).map(([k, v]) => [k, evaluate(v, body)]));
  }
  if (typeof expression !== 'string' || !expression.startsWith('$response.body#')) return expression;
  return expression.slice('$response.body#'.length).split('/').slice(1)
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((value, token) => (value as Record<string, unknown> | undefined)?.[token], body);
}

/** The response schema of each linked operation, to read the real answers with. */
const VIEWS: Record<string, z.ZodType> = {
  [operationIdOf('GET', '/api/alerts')]: views.AlertPage,
  [operationIdOf('GET', '/api/alerts/:id')]: views.AlertDetail,
  [operationIdOf('GET', '/api/alerts/:id/related')]: views.RelatedAlerts,
  [operationIdOf('PATCH', '/api/alerts/:id')]: views.AlertView,
  [operationIdOf('GET', '/api/events')]: views.EventPage,
  [operationIdOf('GET', '/api/events/:id')]: views.EventView,
  [operationIdOf('GET', '/api/inventory')]: views.InventoryView,
  [operationIdOf('POST', '/api/backup/verify')]: views.BackupJobQueued,
  [operationIdOf('POST', '/api/backup/drill')]: views.BackupJobQueued,
  [operationIdOf('GET', '/api/backup/jobs/:id')]: views.BackupJobView,
  [operationIdOf('POST', '/api/evidence')]: views.EvidenceJobQueued,
  [operationIdOf('GET', '/api/evidence/:job')]: views.EvidenceJobView,
};

const dir = mkdtempSync(join(tmpdir(), 'shouwang-links-'));
const store = new EmbeddedStore({ path: join(dir, 'links.db') });
const prefix = `test-links-${process.pid}-${Date.now()}`;
let app: FastifyInstance;
let admin: Client;
let backupQueues: BackupQueues;
let evidence: EvidenceQueue;
let doc: Doc;
let seeded: Awaited<ReturnType<typeof seedTwoDepartments>>;

beforeAll(async () => {
  seeded = await seedTwoDepartments(store);
  await giveBackupPolicies(store, dir);
  await seedUser(store, 'links-admin-7d2e', 'admin');
  const redisUrl = inject('redisUrl');
  backupQueues = new BackupQueues({ redis: redisUrl, prefix, attempts: 1, backoffMs: 100 });
  evidence = new EvidenceQueue({ redis: redisUrl, prefix });
  app = await testApp(store, {
    backupQueues, evidence: { queue: evidence, dataDir: dir },
    rules: { catalog: () => [], switches: await RuleSwitches.open(join(dir, 'rules-disabled.json')) },
  });
  admin = await login(app, 'links-admin-7d2e');
  doc = (await admin.get('/api/docs')).json();
}, 60_000);

afterAll(async () => {
  await app?.close();
  await backupQueues?.verify.obliterate({ force: true }).catch(() => undefined);
  await backupQueues?.drill.obliterate({ force: true }).catch(() => undefined);
  await backupQueues?.close();
  await evidence?.queue.obliterate({ force: true }).catch(() => undefined);
  await evidence?.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const operations = () => Object.entries(doc.paths).flatMap(([path, methods]) =>
  Object.entries(methods).map(([method, operation]) => ({ path, method: method.toUpperCase(), operation })));

async function call(method: string, url: string, body?: unknown) {
  return method === 'GET' ? admin.get(url) : admin.send(method as 'POST' | 'PATCH' | 'DELETE', url, body);
}

describe('OpenAPI operation ids and links', () => {
  it('gives every operation its own stable operationId, from method and path', () => {
    const ids = operations().map(({ operation }) => operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { path, method, operation } of operations()) {
      expect(operation.operationId).toBe(operationIdOf(method as 'GET', path.replace(/\{(\w+)\}/g, ':$1')));
    }
    expect(operationIdOf('GET', '/api/alerts/:id/related')).toBe('getAlertsByIdRelated');
  });

  it('refuses a document whose link names no registered operation, or whose operationIds clash', async () => {
    const bare = Fastify();
    const registry = new RouteRegistry(async () => undefined);
    const base = { tag: 't', summary: 's', access: 'session', handler: async () => ({}) } as const;
    registry.add(bare, { ...base, method: 'GET', url: '/api/a', links: { Gone: { operationId: 'getNothing' } } });
    expect(() => registry.openApi()).toThrow(/unknown operation getNothing/);
    const clash = new RouteRegistry(async () => undefined);
    clash.add(bare, { ...base, method: 'GET', url: '/api/b', operationId: 'same' });
    clash.add(bare, { ...base, method: 'GET', url: '/api/c', operationId: 'same' });
    expect(() => clash.openApi()).toThrow(/duplicate operationId same/);
    await bare.close();
  });

  it('declares links from the lists and queued jobs to what their answers name', () => {
    const links = operations().flatMap(({ operation }) =>
      Object.values(operation.responses).flatMap((r) => Object.keys(r.links ?? {}).map((name) => `${operation.operationId}.${name}`)));
    expect(links.sort()).toEqual([
      'getAlerts.GetAlert', 'getAlerts.GetRelatedAlerts', 'getAlerts.GetSampleEvent', 'getAlerts.TriageAlert',
      'getEvents.GetEvent', 'getInventory.DrillBackup', 'getInventory.VerifyBackup',
      'patchAlertsById.GetAlert', 'postBackupDrill.GetJob', 'postBackupVerify.GetJob', 'postEvidence.GetEvidenceJob',
    ]);
  });

  /** A valid request of each link's source, as a client would send it. */
  const sources = (): Record<string, { method: string; url: string; body?: unknown }> => ({
    getAlerts: { method: 'GET', url: '/api/alerts' },
    getEvents: { method: 'GET', url: '/api/events' },
    getInventory: { method: 'GET', url: '/api/inventory' },
    patchAlertsById: { method: 'PATCH', url: `/api/alerts/${encodeURIComponent(seeded.a.alert)}`, body: { comment: 'link check' } },
    postBackupVerify: { method: 'POST', url: '/api/backup/verify', body: { system: seeded.a.system } },
    postBackupDrill: { method: 'POST', url: '/api/backup/drill', body: { system: seeded.b.system } },
    postEvidence: { method: 'POST', url: '/api/evidence', body: { all: true, from: '2026-04-01T00:00:00Z', to: '2026-05-01T00:00:00Z' } },
  });

  it('resolves every link in the real answer of its source, and the target answers 2xx inside its schema', async () => {
    const byId = new Map(operations().map((o) => [o.operation.operationId, o]));
    const followed: string[] = [];
    for (const { operation } of operations()) {
      for (const [status, response] of Object.entries(operation.responses)) {
        for (const [name, link] of Object.entries(response.links ?? {})) {
          const source = sources()[operation.operationId]!;
          const answer = await call(source.method, source.url, source.body);
          expect(answer.statusCode, `${operation.operationId} ${answer.body}`).toBe(Number(status));
          VIEWS[operation.operationId]!.parse(answer.json());

          const target = byId.get(link.operationId)!;
          const parameters = evaluate(link.parameters ?? {}, answer.json()) as Record<string, unknown>;
          let targetUrl = target.path;
          for (const [key, value] of Object.entries(parameters)) {
            expect(typeof value, `${operation.operationId}.${name}: ${key}`).toBe('string');
            targetUrl = targetUrl.replace(`{${key}}`, encodeURIComponent(value as string));
          }
          const targetBody = link.requestBody !== undefined ? evaluate(link.requestBody, answer.json())
            : target.method === 'PATCH' ? { comment: 'followed a link' } : undefined;
          const reached = await call(target.method, targetUrl, targetBody);
          expect(reached.statusCode, `${operation.operationId}.${name} → ${target.method} ${targetUrl}: ${reached.body}`).toBeLessThan(300);
          VIEWS[link.operationId]!.parse(reached.json());
          followed.push(`${operation.operationId}.${name}`);
        }
      }
    }
    expect(followed).toHaveLength(11);
  });
});
