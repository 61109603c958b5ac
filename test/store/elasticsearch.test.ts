import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ElasticsearchStore, type Store } from '../../store/index.js';
import type { Alert, ChainedAuditEntry } from '../../core/index.js';
import { describeAuditTamper } from './audit-tamper.js';
import { describeStoreContract } from './contract.js';
import { eventually } from '../support/eventually.js';

const url = inject('elasticsearchUrl');
const prefixes: string[] = [];

/** A store under its own index prefix, removed after the file. */
async function openTestStore(): Promise<ElasticsearchStore> {
  const indexPrefix = `test-${randomUUID().slice(0, 8)}`;
  prefixes.push(indexPrefix);
  return ElasticsearchStore.open({ url, indexPrefix });
}

const refresh = async (store: Store) => {
  const es = store as ElasticsearchStore;
  await es.client.indices.refresh({ index: `${es.names.prefix}-*` });
};

afterAll(async () => {
  const cleanup = await openTestStore();
  for (const prefix of prefixes) {
    await cleanup.client.indices.delete({ index: `${prefix}-*`, ignore_unavailable: true, allow_no_indices: true });
    await cleanup.client.indices.deleteIndexTemplate({ name: `${prefix}-events` }).catch(() => undefined);
  }
  await cleanup.close();
});

describeStoreContract('elasticsearch', openTestStore, refresh);

describe('elasticsearch store specifics', () => {
  let store: ElasticsearchStore;
  beforeAll(async () => {
    store = await openTestStore();
  });
  afterAll(() => store.close());

  it('rejects a document the mapping refuses, with Elasticsearch’s reason, and stores the rest of the bulk', async () => {
    const department = `d-${randomUUID().slice(0, 8)}`;
    const result = await store.events.write([
      { id: `${department}-ok`, '@timestamp': '2026-05-01T00:00:00Z', shouwang: { department }, source: { ip: '10.1.2.3' } },
      // A typed field both stores check (source.ip) is refused before the bulk; this one only the mapping refuses.
      { id: `${department}-bad`, '@timestamp': '2026-05-01T00:00:01Z', shouwang: { department }, event: { ingested: 'not a date' } },
    ]);
    expect(result.written).toBe(1);
    expect(result.rejected).toEqual([{ id: `${department}-bad`, reason: expect.stringMatching(/parsing.*event\.ingested/) }]);
  });

  it('stores Windows EventData of any names and types (flattened), searchable by field (issue #17)', async () => {
    const department = `d-${randomUUID().slice(0, 8)}`;
    const result = await store.events.write([
      { id: `${department}-1`, '@timestamp': '2026-05-02T00:00:00Z', shouwang: { department }, winlog: { event_id: 4688, event_data: { NewProcessName: 'C:\\x.exe', Extra: { nested: 1 } } } },
      { id: `${department}-2`, '@timestamp': '2026-05-02T00:00:01Z', shouwang: { department }, winlog: { event_id: 1, event_data: { Extra: 'text now', ProcessId: 42 } } },
    ]);
    expect(result).toMatchObject({ written: 2, rejected: [] });
    await refresh(store);
    const found = await store.events.search({ filters: { 'shouwang.department': department, 'winlog.event_data.NewProcessName': 'C:\\x.exe' } });
    expect(found.items.map((e) => e.id)).toEqual([`${department}-1`]);
  });

  it('retries items Elasticsearch refuses for now (429) until they land', async () => {
    const department = `d-${randomUUID().slice(0, 8)}`;
    const event = (n: number) => ({ id: `${department}-b${n}`, '@timestamp': '1998-07-01T00:00:00Z', shouwang: { department } });
    await store.events.write([event(0)]);
    const index = `${store.names.prefix}-events-1998.07`;
    // Bulk items Elasticsearch answered with 429, as the client saw them.
    let refused = 0;
    const count = (_error: unknown, result: { body?: unknown } | null) => {
      const items = (result?.body as { items?: Record<string, { status?: number }>[] } | undefined)?.items ?? [];
      refused += items.filter((item) => Object.values(item)[0]?.status === 429).length;
    };
    store.client.diagnostic.on('response', count);
    try {
      // The flood-stage disk block: Elasticsearch answers writes with 429 until it is lifted.
      await store.client.indices.putSettings({ index, settings: { 'index.blocks.read_only_allow_delete': true } });
      const writing = store.events.write([event(1), event(2)]);
      await eventually(() => expect(refused).toBeGreaterThanOrEqual(2)); // both items refused at least once
      await store.client.indices.putSettings({ index, settings: { 'index.blocks.read_only_allow_delete': null } });
      expect(await writing).toEqual({ written: 2, duplicates: 0, rejected: [] });
    } finally {
      store.client.diagnostic.off('response', count);
    }
  });

  it('keeps events in monthly indices and drops whole months past retention', async () => {
    // A store of its own: retention is global, and other tests write old months too.
    const store = await openTestStore();
    const department = `d-${randomUUID().slice(0, 8)}`;
    await store.events.write(['1999-01-05', '1999-02-05', '1999-03-05', '1999-03-25'].map((day, n) => ({
      id: `${department}-r${n}`, '@timestamp': `${day}T00:00:00Z`, shouwang: { department },
    })));
    await refresh(store);
    const indices = async () => (await store.client.cat.indices({ index: `${store.names.prefix}-events-1999*`, format: 'json' })).map((i) => i.index).sort();
    expect(await indices()).toEqual([1, 2, 3].map((m) => `${store.names.prefix}-events-1999.0${m}`));
    expect(await store.events.deleteBefore('1999-03-10T00:00:00Z')).toBe(3);
    expect(await indices()).toEqual([`${store.names.prefix}-events-1999.03`]);
    await refresh(store);
    expect(await store.events.range({ departments: [department] })).toMatchObject({ count: 1, oldest: '1999-03-25T00:00:00.000Z' });
    await store.close();
  });

  it('turns an unreachable cluster into SW_ERR_STORE_UNAVAILABLE', async () => {
    await expect(ElasticsearchStore.open({ url: 'http://127.0.0.1:1', indexPrefix: 'nowhere', requestTimeoutMs: 2000 }))
      .rejects.toMatchObject({ code: 'SW_ERR_STORE_UNAVAILABLE', statusCode: 503 });
  });

  it('chains audit entries appended at once by two writers (as two console processes) without a gap or a refusal', async () => {
    const other = await ElasticsearchStore.open({ url, indexPrefix: store.names.prefix });
    const appends = Array.from({ length: 12 }, (_, i) =>
      (i % 2 ? other : store).audit.append({ at: '2026-11-26T10:00:00Z', actor: `u${i}`, action: 'session.login' }));
    const entries = await Promise.all(appends);
    await other.close();
    expect(entries.map((e) => e.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(await store.audit.verify()).toMatchObject({ ok: true, count: 12, firstSeq: 1, lastSeq: 12 });
  });

  // The rules' alert sink and the console's audit trail write one batch (one entry) at a time: waiting for the index's next
  // scheduled refresh made each wait up to refresh_interval. A collector's alerts trailed a burst by ~17 s and its
  // shutdown outlasted the stop timeout. Without a schedule at all (-1, as during a bulk re-index) they never returned.
  it('returns from alert upserts and audit appends searchable, without waiting for a scheduled refresh', async () => {
    const own = await openTestStore();
    const { names } = own;
    await own.audit.append({ at: '2026-12-07T10:00:00Z', actor: 'u0', action: 'session.login' });
    await own.client.indices.putSettings({ index: [names.alerts, names.audit], settings: { index: { refresh_interval: '-1' } } });
    try {
      const department = `d-${randomUUID().slice(0, 8)}`;
      const raised: Alert = {
        id: `alert-${department}`, rule: { id: 'rule-x', title: 'Rule x', level: 'high' }, mlps: ['8.1.4.3 a)'], department,
        system: `${department}-sys`, mlpsLevel: 3, priority: 12, status: 'new', timeline: [{ at: '2026-12-07T10:00:00Z', actor: 'analyzer', action: 'raised' }],
        firstSeen: '2026-12-07T10:00:00Z', lastSeen: '2026-12-07T10:00:00Z', count: 1, sampleEventIds: [`${department}-e1`],
      };
      expect(await own.alerts.upsert([raised])).toMatchObject({ created: 1 });
      expect(await own.alerts.upsert([{ ...raised, count: 2, lastSeen: '2026-12-07T10:01:00Z' }])).toMatchObject({ updated: 1 });
      const listed = await own.alerts.search({ department: [department] });
      expect(listed.items.map((alert) => [alert.id, alert.count])).toEqual([[raised.id, 3]]);
      const second = await own.audit.append({ at: '2026-12-07T10:02:00Z', actor: 'u1', action: 'session.login' });
      expect((await own.audit.list({})).items.map((entry) => entry.seq)).toEqual([second.seq, 1]);
    } finally {
      await own.close(); // its indices go with the file's others
    }
  });

  it('turns a query Elasticsearch refuses into SW_ERR_STORE_INVALID_QUERY', async () => {
    await expect(store.events.countBy({}, 'message')).rejects.toMatchObject({ code: 'SW_ERR_STORE_INVALID_QUERY' });
  });
});

/** Raw Elasticsearch writes, as someone with an account that can write the indices would make them. */
const es = (store: Store) => store as ElasticsearchStore;
describeAuditTamper('elasticsearch', openTestStore, {
  deleteEntries: async (store, seqs) => {
    for (const seq of seqs) await es(store).client.delete({ index: es(store).names.audit, id: String(seq) });
  },
  replaceEntries: async (store, entries: ChainedAuditEntry[]) => {
    for (const entry of entries) {
      await es(store).client.index({ index: es(store).names.audit, id: String(entry.seq), document: { ...entry, departmentCount: entry.departments?.length ?? 0 } });
    }
  },
  setTime: async (store, seq, at) => {
    await es(store).client.update({ index: es(store).names.audit, id: String(seq), doc: { at } });
  },
  putCheckpoint: async (store, checkpoint) => {
    await es(store).client.index({ index: es(store).names.auditCheckpoints, id: String(checkpoint.seq), document: checkpoint });
  },
  deleteCheckpoints: async (store, seqs) => {
    for (const seq of seqs) await es(store).client.delete({ index: es(store).names.auditCheckpoints, id: String(seq) });
  },
  refresh,
});
