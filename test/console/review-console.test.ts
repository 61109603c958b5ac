import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertId, type Alert } from '../../core/index.js';
import { type Store } from '../../store/index.js';
import { onBothStores, twoDepartmentConsole, type Client, type TwoDepartments } from './support.js';

/**
 * Findings of the hostile console review (session 10), each on both stores: a scoped user must not
 * see city-wide data through an audit entry, and a valid request must not fail on data it did not choose.
 */
function describeReview(name: string, open: () => Promise<Store>, refresh: (store: Store) => Promise<void> = async () => {}) {
  describe(`console review: ${name}`, () => {
    let store: Store;
    let seeded: TwoDepartments;
    let admin: Client;
    let reviewer: Client;
    let viewer: Client;
    /** An alert of an unknown asset: no department, so city-wide (unscoped users only). */
    const unknownAlert = alertId('rule-ssh-brute', `unknown-${randomUUID()}`, '2026-04-01T08:00:00.000Z');
    const secret = `city-wide-${randomUUID()}`;

    const fixture = twoDepartmentConsole(open, refresh, {
      admin: { role: 'admin' }, reviewer: { role: 'compliance_reviewer', scopedToA: true }, viewer: { role: 'department_viewer', scopedToA: true },
    }, async (store, seeded) => {
      const at = '2026-04-01T08:00:00.000Z';
      const alert: Alert = {
        id: unknownAlert, rule: { id: 'rule-ssh-brute', title: 'SSH 暴力破解 / SSH brute force', level: 'high' }, mlps: [], priority: 10,
        status: 'new', timeline: [{ at, actor: 'analyzer', action: 'raised' }], firstSeen: at, lastSeen: at, count: 1, sampleEventIds: [],
      };
      await store.alerts.upsert([alert]);
      // A sender with a reset clock (1970) next to today's events in department A.
      await store.events.write([{
        id: `${seeded.a.department}-epoch`, '@timestamp': '1970-01-01T00:00:05.000Z', message: 'clock reset',
        shouwang: { department: seeded.a.department, system: seeded.a.system, mlps_level: 3 },
      }]);
    });
    beforeAll(() => {
      ({ store, seeded } = fixture);
      ({ admin, reviewer, viewer } = fixture.clients);
    });

    it('a bulk change that touches an alert without a department is city-wide in the audit trail, never shown to a scoped reviewer', async () => {
      const bulk = await admin.send('POST', '/api/alerts/bulk', { ids: [seeded.a.alert, unknownAlert], change: { comment: secret } });
      expect(bulk.statusCode).toBe(200);
      expect(bulk.json().results.every((r: { ok: boolean }) => r.ok)).toBe(true);
      await refresh(store);
      const all = (await admin.get('/api/audit?size=1000')).json().items as { action: string; departments?: string[]; detail?: { change?: { comment?: string } } }[];
      const entry = all.find((e) => e.action === 'alert.bulk_update' && e.detail?.change?.comment === secret);
      expect(entry).toBeDefined();
      expect(entry!.departments).toBeUndefined();
      const scoped = await reviewer.get('/api/audit?size=1000');
      expect(scoped.statusCode).toBe(200);
      expect(scoped.body).not.toContain(unknownAlert);
      expect(scoped.body).not.toContain(secret);
    });

    it('the events histogram without a time range or interval spans data decades apart (a reset clock) in at most 200 buckets', async () => {
      const response = await viewer.get('/api/events/histogram');
      expect(response.statusCode, response.body).toBe(200);
      const body = response.json() as { interval: number; buckets: { count: number }[] };
      expect(body.buckets.reduce((n, b) => n + b.count, 0)).toBe(2);
      expect((Date.parse('2026-04-01T08:00:01Z') - Date.parse('1970-01-01T00:00:05Z')) / body.interval).toBeLessThanOrEqual(200);
      // The same for a range the user chose; only an interval the user chose may be too fine (400).
      expect((await viewer.get('/api/events/histogram?from=1900-01-01T00:00:00Z&to=2100-01-01T00:00:00Z')).statusCode).toBe(200);
      expect((await viewer.get('/api/events/histogram?from=1900-01-01T00:00:00Z&to=2100-01-01T00:00:00Z&interval=86400000')).statusCode).toBe(400);
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'shouwang-review-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
onBothStores(dir, 'review.db', describeReview);
