import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertBuilder, AlertSink } from '../../analyzers/alerts/index.js';
import type { Signal } from '../../analyzers/types.js';
import { createIngestMetrics, EventSink, FileDeadLetterSink } from '../../collectors/index.js';
import { createMetricsRegistry, type ShouwangEvent } from '../../core/index.js';
import { ElasticsearchStore, type ElasticsearchStoreOptions } from '../../store/index.js';
import { startElasticsearchCluster, type ElasticsearchClusterHandle, type ElasticsearchClusterNode } from '../harness/elasticsearch.js';
import { eventually } from '../support/eventually.js';

// Three JVMs on a shared 2-core machine: this file alone starts the cluster, and stops it afterwards.
let cluster: ElasticsearchClusterHandle;
const dir = mkdtempSync(join(tmpdir(), 'shouwang-es-cluster-test-'));
const stores: ElasticsearchStore[] = [];

beforeAll(async () => {
  const started = performance.now();
  cluster = await startElasticsearchCluster();
  console.info(`3-node Elasticsearch cluster ready in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}, 300_000);

afterAll(async () => {
  for (const store of stores) await store.close();
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function open(options: Partial<ElasticsearchStoreOptions> = {}): Promise<ElasticsearchStore> {
  const store = await ElasticsearchStore.open({ nodes: cluster.urls, indexPrefix: `test-${randomUUID().slice(0, 8)}`, requestTimeoutMs: 10_000, ...options });
  stores.push(store);
  return store;
}

const health = async (store: ElasticsearchStore) =>
  (await store.client.cluster.health({ index: `${store.names.prefix}-*`, timeout: '1s' })).status;

/** The node holding the primary of one shard of an index: the one whose death hurts that index. */
async function primaryHolder(store: ElasticsearchStore, index: string): Promise<ElasticsearchClusterNode> {
  const shards = await store.client.cat.shards({ index, format: 'json', h: ['prirep', 'node'] });
  const name = shards.find((shard) => shard.prirep === 'p')?.node;
  const node = cluster.nodes.find((candidate) => candidate.name === name);
  if (!node) throw new Error(`no primary of ${index} found: ${JSON.stringify(shards)}`);
  return node;
}

describe('the adapter on a 3-node cluster', () => {
  // Creating indices takes cluster-state rounds across three busy JVMs: the client tests share one prefix.
  const shared = `test-${randomUUID().slice(0, 8)}`;

  it('spreads requests over the nodes it is given and learns no other node while sniffing is off (the default)', async () => {
    const store = await open({ nodes: [cluster.urls[0]!], indexPrefix: shared });
    await store.health();
    expect(store.client.connectionPool.size).toBe(1);
    const all = await open({ indexPrefix: shared });
    expect(all.client.connectionPool.size).toBe(3);
  }, 120_000);

  it('learns the other nodes from the one it is given when sniffing is on', async () => {
    const store = await open({ nodes: [cluster.urls[0]!], sniff: true, indexPrefix: shared });
    await eventually(() => expect(store.client.connectionPool.size).toBe(3));
    const learned = store.client.connectionPool.connections.map((connection) => connection.url.origin).sort();
    expect(learned).toEqual([...cluster.urls].sort());
  }, 120_000);

  it('puts events in monthly indices by event time, with the configured shards and replicas, under the events alias', async () => {
    const store = await open({ shards: 3, replicas: 1 });
    const result = await store.events.write([
      { id: 'dec-last', '@timestamp': '2026-12-31T23:59:59.999Z', message: 'the last moment of December' },
      { id: 'jan-first', '@timestamp': '2027-01-01T00:00:00.000Z', message: 'the first moment of January' },
      // Event time, not arrival time, picks the month; an offset is read as the instant it names (UTC months).
      { id: 'jan-offset', '@timestamp': '2027-01-01T07:59:59+08:00', message: 'still December in UTC' },
    ]);
    expect(result).toMatchObject({ written: 3, rejected: [] });
    const prefix = store.names.prefix;
    const settings = await store.client.indices.getSettings({ index: `${prefix}-*`, flat_settings: true });
    const layout = Object.fromEntries(Object.entries(settings).map(([index, { settings: s }]) =>
      [index, [s!['index.number_of_shards'], s!['index.number_of_replicas']]]));
    expect(layout).toMatchObject({ [`${prefix}-events-2026.12`]: ['3', '1'], [`${prefix}-events-2027.01`]: ['3', '1'], [`${prefix}-alerts`]: ['1', '1'] });
    // Every primary has its replica on another node.
    await eventually(async () => expect(await health(store)).toBe('green'), { timeout: 60_000, interval: 250 });

    await store.client.indices.refresh({ index: `${prefix}-*` });
    const byAlias = await store.client.search({ index: store.names.eventsAlias, size: 10, sort: ['_doc'] });
    expect(byAlias.hits.hits.map((hit) => `${hit._index}/${hit._id}`).sort()).toEqual([
      `${prefix}-events-2026.12/dec-last`, `${prefix}-events-2026.12/jan-offset`, `${prefix}-events-2027.01/jan-first`,
    ]);
    expect((await store.events.search({})).items.map((event) => event.id).sort()).toEqual(['dec-last', 'jan-first', 'jan-offset']);

    // A changed replica count reaches the indices that exist at the next start; shards only new months.
    const again = await open({ indexPrefix: prefix, shards: 2, replicas: 2 });
    const after = await again.client.indices.getSettings({ index: `${prefix}-events-2026.12`, flat_settings: true });
    expect(after[`${prefix}-events-2026.12`]!.settings).toMatchObject({ 'index.number_of_shards': '3', 'index.number_of_replicas': '2' });
    await again.events.write([{ id: 'feb', '@timestamp': '2027-02-01T00:00:00Z' }]);
    const february = await again.client.indices.getSettings({ index: `${prefix}-events-2027.02`, flat_settings: true });
    expect(february[`${prefix}-events-2027.02`]!.settings).toMatchObject({ 'index.number_of_shards': '2', 'index.number_of_replicas': '2' });
  }, 120_000);
});

// ---- Writing through a node's death ----

const T0 = Date.parse('2026-12-01T00:00:00Z');
const SYSTEMS = 20;
const BATCHES = 30;
const PER_BATCH = 100;
const builder = new AlertBuilder();

const eventsOf = (batch: number): ShouwangEvent[] => Array.from({ length: PER_BATCH }, (_, i) => ({
  id: `b${batch}-${i}`, '@timestamp': new Date(T0 + (batch * PER_BATCH + i) * 1000).toISOString(), message: `batch ${batch} event ${i}`,
}));

/** One signal per event, spread over SYSTEMS systems: an alert per system and hour. */
const signalOf = (event: ShouwangEvent, n: number): Signal => ({
  rule: { id: 'ssh-brute', title: 'SSH 暴力破解', level: 'high', tags: ['mlps.8.1.4.3.a'] },
  eventId: event.id,
  time: Date.parse(event['@timestamp']),
  event: { shouwang: { system: `sys-${n % SYSTEMS}`, department: 'd-fin', mlps_level: 3 } },
});

interface Run {
  store: ElasticsearchStore;
  spooled: number;
}

/**
 * Writes BATCHES batches of events (through the collector's event sink) and their alerts (through the analyzers'
 * alert sink); after a third of them `victim` is killed, after two thirds started again. Then checks that every
 * event is stored exactly once and every alert counts each of its events exactly once.
 */
async function writeThroughNodeDeath(options: Partial<ElasticsearchStoreOptions>, pickVictim: (store: ElasticsearchStore) => Promise<ElasticsearchClusterNode>): Promise<Run> {
  const store = await open({ shards: 3, requestTimeoutMs: 5000, ...options });
  const spoolDir = mkdtempSync(join(dir, 'run-'));
  const registry = createMetricsRegistry({ defaultMetrics: false });
  const events = new EventSink({
    store: store.events, spoolDir: join(spoolDir, 'spool'), deadLetters: new FileDeadLetterSink(join(spoolDir, 'dead')),
    batchSize: PER_BATCH, flushIntervalMs: 20, replayIntervalMs: 500, metrics: createIngestMetrics(registry), name: 'cluster',
  });
  const alertErrors: unknown[] = [];
  const alerts = new AlertSink({ store: store.alerts, latenessMs: 3_600_000, flushMs: 200, onError: (error) => alertErrors.push(error) });
  // The month index exists before the kill, so the victim can be picked by the shards it holds.
  await events.write(eventsOf(0));
  for (const [n, event] of eventsOf(0).entries()) alerts.add(builder.fromSignal(signalOf(event, n)));
  await alerts.flush();
  const victim = await pickVictim(store);
  let restarted: Promise<void> | undefined;
  try {
    for (let batch = 1; batch < BATCHES; batch += 1) {
      if (batch === BATCHES / 3) await victim.kill();
      if (batch === (2 * BATCHES) / 3) {
        // Writes go on while it comes back.
        const started = performance.now();
        restarted = victim.start().then(() => console.info(`${victim.name} back in ${((performance.now() - started) / 1000).toFixed(1)} s`));
      }
      const written = eventsOf(batch);
      await events.write(written); // resolves once stored or spooled
      for (const [i, event] of written.entries()) alerts.add(builder.fromSignal(signalOf(event, batch * PER_BATCH + i)));
    }
    await restarted;
    await eventually(async () => {
      await events.replay();
      expect(await events.spooledBytes()).toBe(0);
    }, { timeout: 120_000, interval: 500 });
    await eventually(() => alerts.flush(), { timeout: 120_000, interval: 500 }); // a failed batch stays pending
  } finally {
    await restarted?.catch(() => undefined);
    await events.close();
    await alerts.close().catch(() => undefined);
  }

  const total = BATCHES * PER_BATCH;
  await store.client.indices.refresh({ index: `${store.names.prefix}-*` });
  const stored = await store.client.search({ index: store.names.eventsPattern, size: total + 100, _source: false, track_total_hits: true });
  const ids = stored.hits.hits.map((hit) => hit._id!);
  expect(stored.hits.total).toEqual({ value: total, relation: 'eq' });
  expect(new Set(ids).size).toBe(total);
  expect(new Set(ids)).toEqual(new Set(Array.from({ length: BATCHES }, (_, b) => eventsOf(b).map((event) => event.id)).flat()));

  // Each system's alerts (one per hour window) add up to that system's events: none lost, none counted twice.
  const page = await store.alerts.search({}, { size: 500 });
  const bySystem = new Map<string, number>();
  for (const alert of page.items) bySystem.set(alert.system!, (bySystem.get(alert.system!) ?? 0) + alert.count);
  expect(page.total).toBe(new Set(Array.from({ length: total }, (_, n) => `${n % SYSTEMS}/${Math.floor(n / 3600)}`)).size);
  expect([...bySystem.values()]).toEqual(Array.from({ length: SYSTEMS }, () => total / SYSTEMS));

  const lines = await registry.getSingleMetricAsString('shouwang_ingest_lines_total');
  const spooled = Number(/outcome="spooled"} (\d+)/.exec(lines)?.[1] ?? 0);
  return { store, spooled };
}

describe('writing through a node killed and restarted', () => {
  it('with a replica of every shard (a real cluster): stores every event and alert exactly once, killing the elected master', async () => {
    await writeThroughNodeDeath({ replicas: 1 }, async (store) => {
      await eventually(async () => expect(await health(store)).toBe('green'), { timeout: 60_000, interval: 250 });
      const master = (await store.client.cat.master({ format: 'json' }))[0]?.node;
      return cluster.nodes.find((node) => node.name === master)!;
    });
  }, 300_000);

  it('with no replicas: the dead node’s shards refuse writes, the sink spools and replays them, and nothing is lost or doubled', async () => {
    const { spooled } = await writeThroughNodeDeath({ replicas: 0 }, (store) => primaryHolder(store, store.names.alerts));
    expect(spooled).toBeGreaterThan(0); // the spool did its job: those events were replayed after the restart
  }, 300_000);
});
