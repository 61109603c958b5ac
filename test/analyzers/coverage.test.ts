import { mkdtempSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import {
  coverageBySystem, expectedSources, raiseSilentSourceAlerts, SILENT_SOURCE_RULE, sourceStatuses,
} from '../../analyzers/coverage/index.js';
import { parseInventory, type ShouwangEvent } from '../../core/index.js';
import { ElasticsearchStore, EmbeddedStore, type Store } from '../../store/index.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-coverage-'));
const esPrefixes: string[] = [];
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  if (!esPrefixes.length) return;
  const cleanup = await ElasticsearchStore.open({ url: inject('elasticsearchUrl'), indexPrefix: 'cleanup' });
  for (const prefix of esPrefixes) await cleanup.client.indices.delete({ index: `${prefix}-*`, ignore_unavailable: true });
  await cleanup.close();
});

const inventory = parseInventory({
  departments: [{ id: 'gaj', name: '市公安局' }, { id: 'rsj', name: '市人社局' }],
  systems: [
    {
      id: 'jwzh', name: '警务综合', department: 'gaj', mlpsLevel: 3, zone: '政务外网',
      owner: { name: '张工' }, hosts: ['gaj-app01', 'gaj-app02'],
    },
    {
      id: 'shbx', name: '社会保险', department: 'rsj', mlpsLevel: 2, zone: '政务外网',
      owner: { name: '李工' }, hosts: ['rsj-db01'],
      logSources: [{ name: '数据库审计', dataset: 'mariadb.audit', silentAfter: '30m' }],
    },
  ],
}, 'test inventory');

const now = new Date('2026-11-26T10:00:00Z');
const minutesAgo = (minutes: number) => new Date(now.getTime() - minutes * 60_000).toISOString();

function event(system: string, department: string, host: string, dataset: string, minutes: number): ShouwangEvent {
  return {
    id: randomUUID(), '@timestamp': minutesAgo(minutes), message: `${host} ${dataset}`,
    event: { dataset }, host: { name: host }, shouwang: { system, department, mlps_level: 3 },
  };
}

function describeCoverage(name: string, open: () => Promise<Store>, refresh: (store: Store) => Promise<void>) {
  describe(`silent sources and audit coverage (${name})`, () => {
    it('finds the sources that went quiet, with when they last spoke, and the coverage per system', async () => {
      const store = await open();
      await store.events.write([
        event('jwzh', 'gaj', 'gaj-app01', 'syslog', 10),
        event('jwzh', 'gaj', 'gaj-app02', 'syslog', 180),
        event('shbx', 'rsj', 'rsj-db01', 'mariadb.audit', 120),
        event('shbx', 'rsj', 'rsj-db01', 'syslog', 5),
      ]);
      await refresh(store);
      const statuses = await sourceStatuses(store.events, expectedSources(inventory, 3600), now);
      expect(statuses.map((s) => [s.name, s.silent, s.lastSeen])).toEqual([
        ['gaj-app01', false, minutesAgo(10)],
        ['gaj-app02', true, minutesAgo(180)],
        ['数据库审计', true, minutesAgo(120)],
      ]);
      expect(coverageBySystem(statuses)).toEqual([
        { system: 'jwzh', department: 'gaj', expected: 2, reporting: 1, ratio: 0.5, silent: ['gaj-app02'] },
        { system: 'shbx', department: 'rsj', expected: 1, reporting: 0, ratio: 0, silent: ['数据库审计'] },
      ]);
      await store.close();
    });

    it('raises one alert per silence episode, with the MLPS clauses of the system’s level, and not again on the next check', async () => {
      const store = await open();
      await store.events.write([event('jwzh', 'gaj', 'gaj-app02', 'syslog', 180)]);
      await refresh(store);
      const expected = expectedSources(inventory, 3600).filter((s) => s.system === 'jwzh');
      const first = await raiseSilentSourceAlerts(store.alerts, await sourceStatuses(store.events, expected, now), now);
      expect(first.map((a) => [a.system, a.mlps, a.priority])).toEqual([
        ['jwzh', ['8.1.4.3', '8.1.5.4'], 9],
        ['jwzh', ['8.1.4.3', '8.1.5.4'], 9],
      ]);
      await refresh(store);
      const later = new Date(now.getTime() + 600_000);
      expect(await raiseSilentSourceAlerts(store.alerts, await sourceStatuses(store.events, expected, later), later)).toEqual([]);
      await refresh(store);
      const stored = await store.alerts.search({ system: ['jwzh'] });
      expect(stored.items.map((a) => a.count)).toEqual([1, 1]);

      // The source speaks, then falls silent again: a new episode, a new alert.
      await store.events.write([event('jwzh', 'gaj', 'gaj-app02', 'syslog', -5)]);
      await refresh(store);
      const muchLater = new Date(now.getTime() + 3 * 3600_000);
      const again = await raiseSilentSourceAlerts(store.alerts, await sourceStatuses(store.events, expected, muchLater), muchLater);
      expect(again.map((a) => a.groupKey)).toContain('jwzh|gaj-app02|*');
      expect(again.find((a) => a.groupKey === 'jwzh|gaj-app02|*')!.id).not.toBe(first.find((a) => a.groupKey === 'jwzh|gaj-app02|*')!.id);
      await store.close();
    });

    it('stores the alert of a silent source a triage suppression covers, but does not return it to be notified', async () => {
      const store = await open();
      const expected = expectedSources(inventory, 3600).filter((s) => s.system === 'shbx');
      const at = new Date();
      await store.alerts.createSuppression({
        id: `sup-${at.getTime()}`, ruleId: SILENT_SOURCE_RULE.id, groupKey: 'shbx|*|mariadb.audit', department: 'rsj', reason: '迁移中 / being moved',
        createdBy: 'officer', createdAt: at.toISOString(), expiresAt: new Date(at.getTime() + 86_400_000).toISOString(),
      });
      const statuses = await sourceStatuses(store.events, expected, now);
      expect(statuses.filter((s) => s.silent).length).toBeGreaterThan(0);
      expect(await raiseSilentSourceAlerts(store.alerts, statuses, now)).toEqual([]);
      await refresh(store);
      const stored = (await store.alerts.search({ system: ['shbx'] })).items;
      expect(stored.length).toBeGreaterThan(0);
      expect(stored.every((a) => a.suppressed !== undefined)).toBe(true);
      await store.close();
    });

    it('reports only the departments in scope', async () => {
      const store = await open();
      const statuses = await sourceStatuses(store.events, expectedSources(inventory, 3600), now, { departments: ['rsj'] });
      expect(statuses.map((s) => s.system)).toEqual(['shbx']);
      await store.close();
    });
  });
}

let embeddedCount = 0;
describeCoverage('embedded', async () => new EmbeddedStore({ path: join(dir, `store-${embeddedCount++}.db`) }), async () => undefined);
describeCoverage('elasticsearch', async () => {
  const indexPrefix = `test-cov-${randomUUID().slice(0, 8)}`;
  esPrefixes.push(indexPrefix);
  return ElasticsearchStore.open({ url: inject('elasticsearchUrl'), indexPrefix });
}, async (store) => {
  const es = store as ElasticsearchStore;
  await es.client.indices.refresh({ index: `${es.names.prefix}-*` });
});
