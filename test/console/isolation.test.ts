import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Store } from '../../store/index.js';
import { onBothStores, twoDepartmentConsole, type Client, type TwoDepartments } from './support.js';

/**
 * A department_viewer of A, and a security officer scoped to A, ask for B's data through every
 * route, filter and id; the store's scope must answer nothing (404 by id, empty lists).
 */
function describeIsolation(name: string, open: () => Promise<Store>, refresh: (store: Store) => Promise<void> = async () => {}) {
  describe(`department isolation: ${name}`, () => {
    let store: Store;
    let seeded: TwoDepartments;
    let viewer: Client;
    let officer: Client;
    let admin: Client;

    const fixture = twoDepartmentConsole(open, refresh, {
      viewer: { role: 'department_viewer', scopedToA: true }, officer: { role: 'security_officer', scopedToA: true }, admin: { role: 'admin' },
    });
    beforeAll(() => {
      ({ store, seeded } = fixture);
      ({ viewer, officer, admin } = fixture.clients);
    });

    const ids = (response: { json(): unknown }) => (response.json() as { items: { id: string }[] }).items.map((item) => item.id);

    it('inventory: only A’s department and system', async () => {
      const inventory = (await viewer.get('/api/inventory')).json();
      expect(inventory.departments.map((d: { id: string }) => d.id)).toEqual([seeded.a.department]);
      expect(inventory.systems.map((s: { id: string }) => s.id)).toEqual([seeded.a.system]);
      expect((await admin.get('/api/inventory')).json().systems).toHaveLength(2);
    });

    it('alerts: list, department/system filters and by id never show B', async () => {
      const { a, b } = seeded;
      expect(ids(await viewer.get(`/api/alerts?department=${a.department},${b.department}`))).toEqual([a.alert]);
      expect(ids(await viewer.get(`/api/alerts?department=${b.department}`))).toEqual([]);
      expect(ids(await viewer.get(`/api/alerts?system=${b.system}`))).toEqual([]);
      expect(ids(await viewer.get('/api/alerts?rule=rule-ssh-brute&level=high'))).not.toContain(b.alert);
      expect((await viewer.get(`/api/alerts/${b.alert}`)).statusCode).toBe(404);
      expect((await viewer.get(`/api/alerts/${a.alert}`)).json()).toMatchObject({ id: a.alert, department: a.department });
      expect(ids(await admin.get(`/api/alerts?department=${a.department},${b.department}`)).sort()).toEqual([a.alert, b.alert].sort());
    });

    it('alert triage: a viewer may not triage; an officer scoped to A cannot touch B’s alert, alone or in bulk', async () => {
      const { a, b } = seeded;
      expect((await viewer.send('PATCH', `/api/alerts/${a.alert}`, { status: 'acknowledged' })).statusCode).toBe(403);
      expect((await officer.send('PATCH', `/api/alerts/${b.alert}`, { status: 'acknowledged' })).statusCode).toBe(404);
      const bulk = await officer.send('POST', '/api/alerts/bulk', { ids: [a.alert, b.alert], change: { status: 'acknowledged', comment: '已确认' } });
      expect(bulk.statusCode).toBe(200);
      expect(bulk.json().results).toEqual([
        { id: a.alert, ok: true, status: 'acknowledged' },
        { id: b.alert, ok: false, code: 'SW_ERR_STORE_NOT_FOUND', message: expect.any(String) },
      ]);
      await refresh(store);
      expect((await admin.get(`/api/alerts/${b.alert}`)).json()).toMatchObject({ status: 'new' });
    });

    it('events: list, department/system/field filters, full text and by id never show B', async () => {
      const { a, b } = seeded;
      expect(ids(await viewer.get('/api/events?filter=user.name:root'))).toEqual([a.event]);
      expect(ids(await viewer.get(`/api/events?department=${b.department}`))).toEqual([]);
      expect(ids(await viewer.get(`/api/events?system=${b.system}`))).toEqual([]);
      expect(ids(await viewer.get(`/api/events?filter=shouwang.department:${b.department}`))).toEqual([]);
      expect(ids(await viewer.get(`/api/events?q=marker-${b.department}`))).toEqual([]);
      expect((await viewer.get(`/api/events/${b.event}`)).statusCode).toBe(404);
      expect((await viewer.get(`/api/events/${a.event}`)).statusCode).toBe(200);
      expect(ids(await admin.get(`/api/events?q=marker-${b.department}`))).toEqual([b.event]);
    });

    it('backup results: list, system filter and by id never show B', async () => {
      const { a, b } = seeded;
      expect(ids(await viewer.get('/api/backup/results?kind=backup-check'))).toEqual([a.result]);
      expect(ids(await viewer.get(`/api/backup/results?system=${b.system}`))).toEqual([]);
      expect((await viewer.get(`/api/backup/results/${b.result}`)).statusCode).toBe(404);
      expect((await admin.get(`/api/backup/results/${b.result}`)).statusCode).toBe(200);
    });

    it('admin-only routes refuse a viewer', async () => {
      for (const url of ['/api/users', '/api/audit', '/api/audit/verify']) {
        const response = await viewer.get(url);
        expect(response.statusCode, url).toBe(403);
        expect(response.json(), url).toMatchObject({ code: 'SW_ERR_FORBIDDEN' });
      }
      expect((await viewer.send('POST', '/api/users', { username: 'sneaky', displayName: 'x', role: 'admin', password: 'long enough password' })).statusCode).toBe(403);
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'shouwang-isolation-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
onBothStores(dir, 'iso.db', describeIsolation);

