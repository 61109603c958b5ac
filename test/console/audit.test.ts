import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { EmbeddedStore, type Store } from '../../store/index.js';
import { login, onBothStores, seedTwoDepartments, seedUser, testApp, type Client } from './support.js';

interface Entry {
  seq: number;
  action: string;
  target?: string;
  departments?: string[];
}

/**
 * A compliance reviewer scoped to department A reads the console audit trail: only entries about
 * A's objects, never B's alert comments, backup runs or exports, nor city-wide user administration.
 */
function describeScopedAudit(name: string, open: () => Promise<Store>, refresh: (store: Store) => Promise<void> = async () => {}) {
  describe(`scoped audit trail: ${name}`, () => {
    let store: Store;
    let app: FastifyInstance;
    let seeded: Awaited<ReturnType<typeof seedTwoDepartments>>;
    let admin: Client;
    let reviewer: Client;
    const secretA = `comment-a-${randomUUID()}`;
    const secretB = `comment-b-${randomUUID()}`;

    beforeAll(async () => {
      store = await open();
      seeded = await seedTwoDepartments(store);
      const tag = randomUUID().slice(0, 6);
      await seedUser(store, `admin-${tag}`, 'admin');
      await seedUser(store, `reviewer-${tag}`, 'compliance_reviewer', [seeded.a.department]);
      await refresh(store);
      app = await testApp(store);
      admin = await login(app, `admin-${tag}`);
      reviewer = await login(app, `reviewer-${tag}`);
      expect((await admin.send('PATCH', `/api/alerts/${seeded.a.alert}`, { comment: secretA })).statusCode).toBe(200);
      expect((await admin.send('PATCH', `/api/alerts/${seeded.b.alert}`, { comment: secretB })).statusCode).toBe(200);
      expect((await admin.send('POST', '/api/alerts/bulk', { ids: [seeded.a.alert, seeded.b.alert], change: { comment: secretB } })).statusCode).toBe(200);
      expect((await admin.send('POST', '/api/alerts/bulk', { ids: [seeded.a.alert], change: { comment: secretA } })).statusCode).toBe(200);
      expect((await admin.send('POST', '/api/users', {
        username: `new-${tag}`, displayName: 'x', role: 'ops', password: 'a long enough password',
      })).statusCode).toBe(201);
      await refresh(store);
    });
    afterAll(async () => {
      await app?.close();
      await store?.close();
    });

    const entries = async (client: Client, query = '') => {
      const response = await client.get(`/api/audit?size=1000&order=asc${query}`);
      expect(response.statusCode).toBe(200);
      return response;
    };

    it('records the department of the alert acted on; several departments for a bulk change; none for user admin', async () => {
      const items = (await entries(admin)).json().items as Entry[];
      const byAlert = (target: string) => items.find((e) => e.action === 'alert.update' && e.target === target);
      expect(byAlert(seeded.a.alert)?.departments).toEqual([seeded.a.department]);
      expect(byAlert(seeded.b.alert)?.departments).toEqual([seeded.b.department]);
      const bulk = items.filter((e) => e.action === 'alert.bulk_update').map((e) => e.departments);
      expect(bulk).toEqual([[seeded.a.department, seeded.b.department].sort(), [seeded.a.department]]);
      expect(items.find((e) => e.action === 'user.create')?.departments).toBeUndefined();
    });

    it('shows a scoped reviewer only entries about their own department, in the list and its total', async () => {
      const response = await entries(reviewer);
      const page = response.json() as { items: Entry[]; total: number };
      expect(page.items.map((e) => e.action)).toEqual(['alert.update', 'alert.bulk_update']);
      expect(page.items.every((e) => e.departments?.every((d) => d === seeded.a.department))).toBe(true);
      expect(page.total).toBe(2);
      expect(response.body).toContain(secretA);
      expect(response.body).not.toContain(secretB);
      expect(response.body).not.toContain(seeded.b.department);
      expect(response.body).not.toContain('user.create');
      // Paging and time filters stay inside the scope too.
      const first = (await reviewer.get('/api/audit?size=1&order=asc')).json();
      const second = (await reviewer.get(`/api/audit?size=1&order=asc&after=${encodeURIComponent(first.next)}`)).json();
      expect([...first.items, ...second.items].map((e: Entry) => e.action)).toEqual(['alert.update', 'alert.bulk_update']);
      expect(second.next).toBeUndefined();
      expect((await reviewer.get('/api/audit?from=2000-01-01T00:00:00Z&size=1000')).json().total).toBe(2);
    });

    it('verifies the whole chain for a scoped reviewer but answers only the verdict, the count and the seq range', async () => {
      const full = (await admin.get('/api/audit/verify')).json();
      expect(full).toMatchObject({ ok: true, firstSeq: 1 });
      const scoped = (await reviewer.get('/api/audit/verify')).json();
      expect(scoped).toMatchObject({ ok: true, scoped: true, count: full.count, firstSeq: 1, lastSeq: full.lastSeq });
      expect(scoped).not.toHaveProperty('brokenAt');
      expect(JSON.stringify(scoped)).not.toContain(secretB);
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'shouwang-audit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
onBothStores(dir, 'audit.db', describeScopedAudit);

describe('scoped audit verify on a broken chain (SQLite file)', () => {
  it('tells a scoped reviewer the chain is broken without naming the entry; an admin gets the seq', async () => {
    const path = join(dir, `broken-${randomUUID()}.db`);
    const store = new EmbeddedStore({ path });
    const seeded = await seedTwoDepartments(store);
    await seedUser(store, 'root', 'admin');
    await seedUser(store, 'rev', 'compliance_reviewer', [seeded.a.department]);
    const app = await testApp(store);
    const admin = await login(app, 'root');
    const reviewer = await login(app, 'rev');
    await admin.send('PATCH', `/api/alerts/${seeded.b.alert}`, { comment: 'b' });
    const db = new Database(path);
    db.exec('DROP TRIGGER audit_trail_no_update');
    const row = db.prepare("SELECT seq, doc FROM audit_trail WHERE doc LIKE '%alert.update%'").get() as { seq: number; doc: string };
    db.prepare('UPDATE audit_trail SET doc = ? WHERE seq = ?').run(row.doc.replace('"comment":"b"', '"comment":"c"'), row.seq);
    db.close();
    expect((await admin.get('/api/audit/verify')).json()).toMatchObject({ ok: false, brokenAt: row.seq, problem: 'chain' });
    const scoped = (await reviewer.get('/api/audit/verify')).json();
    expect(scoped).toMatchObject({ ok: false, problem: 'chain', scoped: true });
    expect(scoped).not.toHaveProperty('brokenAt');
    await app.close();
    await store.close();
  });
});

