import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../core/index.js';
import type { Store } from '../../store/index.js';
import { onBothStores, twoDepartmentConsole, type Client, type TwoDepartments } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-suppress-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A new alert of the seeded rule in `department`, in a later window (another id), with a group key. */
const repeatOf = (department: string, system: string, groupKey: string, at: string): Alert => ({
  id: `alert-${randomUUID()}`, rule: { id: 'rule-ssh-brute', title: 'SSH 暴力破解 / SSH brute force', level: 'high' }, mlps: ['8.1.4.3 a)'],
  department, system, mlpsLevel: 3, priority: 12, status: 'new', groupKey,
  timeline: [{ at, actor: 'analyzer', action: 'raised' }], firstSeen: at, lastSeen: at, count: 1, sampleEventIds: [],
});

onBothStores(dir, 'suppress.db', (name, open, refresh = async () => {}) => {
  describe(`alert suppression: ${name}`, () => {
    let store: Store;
    let seeded: TwoDepartments;
    let officerA: Client;
    let viewerA: Client;
    let admin: Client;
    let officerName: string;
    const fixture = twoDepartmentConsole(open, refresh, {
      officerA: { role: 'security_officer', scopedToA: true }, viewerA: { role: 'department_viewer', scopedToA: true }, admin: { role: 'admin' },
    });
    beforeAll(() => {
      ({ store, seeded } = fixture);
      ({ officerA, viewerA, admin } = fixture.clients);
      officerName = fixture.usernames.officerA;
    });

    it('suppresses an alert group: later alerts of it are stored, marked and reported as suppressed; the list hides them unless asked', async () => {
      // The seeded alert has no group key: give the group one through a first alert that has it.
      const now = new Date().toISOString();
      const first = repeatOf(seeded.a.department, seeded.a.system, 'source.ip=10.9.9.9', now);
      await store.alerts.upsert([first]);
      await refresh(store);
      const created = await officerA.send('POST', `/api/alerts/${first.id}/suppress`, { reason: '已知漏洞扫描器 known scanner', days: 30 });
      expect(created.statusCode, created.body).toBe(201);
      const suppression = created.json();
      expect(suppression).toMatchObject({ ruleId: 'rule-ssh-brute', ruleTitle: first.rule.title, groupKey: 'source.ip=10.9.9.9', department: seeded.a.department, createdBy: officerName });
      expect(Date.parse(suppression.expiresAt) - Date.parse(suppression.createdAt)).toBe(30 * 86_400_000);
      // The alert it was made from leaves the triage list at once, before any repeat.
      const ids = async (query: string) => (await viewerA.get(`/api/alerts?size=100${query}`)).json().items.map((a: Alert) => a.id);
      await refresh(store);
      expect(await ids('')).not.toContain(first.id);
      expect(await ids('&suppressed=only')).toContain(first.id);

      const same = repeatOf(seeded.a.department, seeded.a.system, 'source.ip=10.9.9.9', now);
      const otherHost = repeatOf(seeded.a.department, seeded.a.system, 'source.ip=10.1.1.1', now);
      const otherDepartment = repeatOf(seeded.b.department, seeded.b.system, 'source.ip=10.9.9.9', now);
      const result = await store.alerts.upsert([same, otherHost, otherDepartment]);
      expect(result).toMatchObject({ created: 3, suppressed: [same.id] });
      await refresh(store);
      // Nothing lost: stored, with the mark.
      expect(await store.alerts.get(same.id)).toMatchObject({ count: 1, suppressed: { id: suppression.id, until: suppression.expiresAt } });
      expect((await store.alerts.get(otherHost.id))?.suppressed).toBeUndefined();
      expect((await store.alerts.get(otherDepartment.id))?.suppressed).toBeUndefined();
      // A repeat of it stays marked.
      expect((await store.alerts.upsert([first])).suppressed).toEqual([first.id]);
      await refresh(store);

      expect(await ids('')).not.toContain(same.id);
      expect(await ids('')).toContain(otherHost.id);
      expect(await ids('&suppressed=show')).toEqual(expect.arrayContaining([same.id, otherHost.id]));
      expect(await ids('&suppressed=only')).toEqual(expect.arrayContaining([same.id, first.id]));
      expect(await ids('&suppressed=only')).not.toContain(otherHost.id);
      // Evidence and other store readers that ask for no filter count them all.
      expect((await store.alerts.search({ ruleId: ['rule-ssh-brute'], scope: { departments: [seeded.a.department] } }, { size: 100 })).items.map((a) => a.id))
        .toEqual(expect.arrayContaining([same.id, first.id, otherHost.id]));

      // Listed in scope, audited, deleted early; its alerts are listed again and later ones are no longer marked.
      expect((await officerA.get('/api/suppressions')).json().items.map((s: { id: string }) => s.id)).toContain(suppression.id);
      expect((await admin.get('/api/suppressions')).json().items.map((s: { id: string }) => s.id)).toContain(suppression.id);
      expect((await officerA.send('DELETE', `/api/suppressions/${suppression.id}`)).statusCode).toBe(204);
      expect((await officerA.get('/api/suppressions')).json().items.map((s: { id: string }) => s.id)).not.toContain(suppression.id);
      // Its alerts are back in the triage list at once, with no repeat.
      await refresh(store);
      expect(await ids('')).toEqual(expect.arrayContaining([same.id, first.id]));
      const later = repeatOf(seeded.a.department, seeded.a.system, 'source.ip=10.9.9.9', now);
      expect((await store.alerts.upsert([later])).suppressed).toBeUndefined();
      const trail = (await store.audit.list({}, { size: 1000 })).items;
      expect(trail.find((e) => e.action === 'alert.suppress' && e.target === suppression.id)).toMatchObject({
        actor: officerName, departments: [seeded.a.department], detail: { alert: first.id, reason: '已知漏洞扫描器 known scanner', days: 30 },
      });
      expect(trail.find((e) => e.action === 'alert.unsuppress' && e.target === suppression.id)).toMatchObject({ actor: officerName });
    });

    it('needs a reason and a bounded expiry, the triage permission, and the alert in the caller\'s departments', async () => {
      const url = `/api/alerts/${encodeURIComponent(seeded.a.alert)}/suppress`;
      for (const body of [{ days: 7 }, { reason: '  ', days: 7 }, { reason: 'x' }, { reason: 'x', days: 0 }, { reason: 'x', days: 91 }, { reason: 'x', days: 1.5 },
        { reason: 'x'.repeat(501), days: 7 }, { reason: 'x', days: 7, match: 'everything' }, { reason: 'x', days: 7, department: seeded.b.department }]) {
        const response = await officerA.send('POST', url, body);
        expect(response.statusCode, JSON.stringify(body)).toBe(400);
      }
      expect((await viewerA.send('POST', url, { reason: 'x', days: 7 })).statusCode).toBe(403);
      // Another department's alert reads as absent.
      const other = await officerA.send('POST', `/api/alerts/${encodeURIComponent(seeded.b.alert)}/suppress`, { reason: 'x', days: 7 });
      expect(other.statusCode).toBe(404);
      expect((await store.alerts.activeSuppressions(new Date())).filter((s) => s.department === seeded.b.department)).toEqual([]);
      // B's suppression (made by an unscoped admin) is neither listed to nor deletable by A's officer.
      const made = await admin.send('POST', `/api/alerts/${encodeURIComponent(seeded.b.alert)}/suppress`, { reason: 'B 的扫描器', days: 1, match: 'rule' });
      expect(made.statusCode, made.body).toBe(201);
      const idOfB = made.json().id as string;
      expect((await officerA.get('/api/suppressions')).body).not.toContain(idOfB);
      expect((await officerA.send('DELETE', `/api/suppressions/${idOfB}`)).statusCode).toBe(404);
      expect((await admin.get('/api/suppressions')).body).toContain(idOfB);
      // A whole-rule suppression covers every group of the rule in B, none in A.
      const inB = repeatOf(seeded.b.department, seeded.b.system, 'source.ip=10.7.7.7', new Date().toISOString());
      const inA = repeatOf(seeded.a.department, seeded.a.system, 'source.ip=10.7.7.7', new Date().toISOString());
      expect((await store.alerts.upsert([inB, inA])).suppressed).toEqual([inB.id]);
      expect((await admin.send('DELETE', `/api/suppressions/${idOfB}`)).statusCode).toBe(204);
    });
  });
});
