import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createMetricsRegistry, type ShouwangEvent } from '../../core/index.js';
import { createIngestMetrics, EventSink, FileDeadLetterSink } from '../../collectors/index.js';
import { ElasticsearchStore, EmbeddedStore, type EventStore } from '../../store/index.js';
import { startElasticsearch } from '../harness/elasticsearch.js';
import { eventually } from '../support/eventually.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-sink-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const events = (batch: number, size: number): ShouwangEvent[] =>
  Array.from({ length: size }, (_, i) => ({
    id: `b${batch}-${i}`, '@timestamp': new Date(Date.UTC(2026, 10, 1, 0, batch, i)).toISOString(), message: `batch ${batch} event ${i}`,
  }));

describe('event sink when the store goes down', () => {
  it('spools to disk while Elasticsearch is stopped and replays every event exactly once when it is back', async () => {
    const dataDir = join(dir, 'es-data');
    let node = await startElasticsearch({ dataDir });
    const port = Number(new URL(node.url).port);
    const store = await ElasticsearchStore.open({ url: node.url, indexPrefix: 'sink', requestTimeoutMs: 3000 });
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const sink = new EventSink({
      store: store.events, spoolDir: join(dir, 'spool'), deadLetters: new FileDeadLetterSink(join(dir, 'dead')),
      batchSize: 100, flushIntervalMs: 20, replayIntervalMs: 300, metrics: createIngestMetrics(registry), name: 'test',
    });
    try {
      for (let batch = 0; batch < 20; batch += 1) {
        if (batch === 5) await node.stop(); // the store goes away mid-ingest
        await sink.write(events(batch, 100)); // resolves once stored or spooled: nothing waits on the store
      }
      expect(await sink.spooledBytes()).toBeGreaterThan(0);

      node = await startElasticsearch({ dataDir, port });
      await eventually(async () => expect(await sink.spooledBytes()).toBe(0), { timeout: 60_000, interval: 200 });

      await store.client.indices.refresh({ index: 'sink-*' });
      const stored = await store.events.search({}, { size: 1 });
      expect(stored.total).toBe(2000);
      const counts = await registry.getSingleMetricAsString('shouwang_ingest_lines_total');
      expect(counts).toMatch(/outcome="spooled"} 1[45]00/);
      expect(counts).toMatch(/outcome="replayed"} 1[45]00/);
    } finally {
      await sink.close();
      await store.close();
      await node.stop();
    }
  }, 180_000);
});

describe('event sink observer (the analyzers’ stream matcher)', () => {
  it('sees events only once they are stored: a batch the store failed on is dead-lettered, not analysed, and the writer goes on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shouwang-observe-'));
    let refuse = true;
    const stored: string[] = [];
    const store = new EmbeddedStore({ path: join(dir, 'events.db') });
    // The sink only writes; the rest of the port stays the real store's.
    const flaky: EventStore = Object.assign(Object.create(store.events) as EventStore, {
      write: async (events: readonly ShouwangEvent[]) => {
        if (refuse) throw new Error('mapping conflict'); // not "store down": each event it fails on alone is a dead letter
        stored.push(...events.map((e) => e.id));
        return store.events.write(events);
      },
    });
    const observed: string[] = [];
    const sink = new EventSink({
      store: flaky, spoolDir: join(dir, 'spool'), deadLetters: new FileDeadLetterSink(join(dir, 'dead')), batchSize: 2,
      observe: (events) => observed.push(...events.map((e) => e.id)),
    });
    const batch = [0, 1].map((n) => ({ id: `e${n}`, '@timestamp': '2026-11-26T10:00:00Z', message: `event ${n}` }));
    await sink.write(batch);
    expect(observed).toEqual([]);
    const letters = readdirSync(join(dir, 'dead')).flatMap((file) => readFileSync(join(dir, 'dead', file), 'utf8').trim().split('\n'));
    expect(letters.map((line) => (JSON.parse(line) as { reason: string }).reason)).toEqual(['store failed: mapping conflict', 'store failed: mapping conflict']);
    refuse = false;
    await sink.write(batch); // the dead letters, sent again
    expect(observed).toEqual(['e0', 'e1']);
    expect(stored).toEqual(['e0', 'e1']);
    await sink.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
