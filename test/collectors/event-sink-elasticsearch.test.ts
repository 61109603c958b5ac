import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createMetricsRegistry, type ShouwangEvent } from '../../core/index.js';
import { createIngestMetrics, EventSink, FileDeadLetterSink, sinkOutcomes } from '../../collectors/index.js';
import { ElasticsearchStore } from '../../store/index.js';
import { eventually } from '../support/eventually.js';
import { relayTo } from './elasticsearch-relay.js';

const url = inject('elasticsearchUrl');
const dir = mkdtempSync(join(tmpdir(), 'shouwang-sink-es-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const events = (batch: number, size: number): ShouwangEvent[] =>
  Array.from({ length: size }, (_, i) => ({
    id: `b${batch}-${i}`, '@timestamp': new Date(Date.UTC(2026, 10, 1, 0, batch, i)).toISOString(), message: `batch ${batch} event ${i}`,
  }));

describe('event sink with several bulks in flight to Elasticsearch', () => {
  it('loses and doubles nothing when the node becomes unreachable with bulks in flight, and acknowledges in order', async () => {
    const prefix = `test-${randomUUID().slice(0, 8)}`;
    const relay = relayTo(url);
    const store = await ElasticsearchStore.open({ url: await relay.listen(), indexPrefix: prefix, requestTimeoutMs: 10_000 });
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const metrics = createIngestMetrics(registry);
    const observed: string[] = [];
    const acked: number[] = [];
    const sink = new EventSink({
      store: store.events, spoolDir: join(dir, prefix, 'spool'), deadLetters: new FileDeadLetterSink(join(dir, prefix, 'dead')),
      batchSize: 50, flushIntervalMs: 10_000, replayIntervalMs: 200, inFlight: 3, metrics, name: 'test',
      observe: (batch) => observed.push(...batch.map((event) => event.id)),
    });
    try {
      const first = await Promise.all([0, 1].map((n) => sink.write(events(n, 50)).then(() => acked.push(n))));
      expect(first).toHaveLength(2);

      relay.state.hold = true;
      const writes = [2, 3, 4, 5, 6].map((n) => sink.write(events(n, 50)).then(() => acked.push(n)));
      await eventually(() => expect(relay.held).toHaveLength(3)); // three bulks in flight; 5 and 6 wait for a slot
      expect(sink.busy).toBe(true);
      // The node goes away: bulk 2 landed but its answer is lost, 3 never arrived, 4 landed; 5 and 6 find no node.
      relay.state.cut = true;
      relay.held.splice(0).forEach((request, i) => request.drop(i !== 1));
      await Promise.all(writes); // all spooled: writers (and checkpoints) may move on
      expect(acked).toEqual([0, 1, 2, 3, 4, 5, 6]);
      expect(await sink.spooledBytes()).toBeGreaterThan(0);

      relay.state.cut = false;
      relay.state.hold = false;
      await eventually(async () => expect(await sink.spooledBytes()).toBe(0), { timeout: 60_000, interval: 200 });
      await sink.write(events(7, 50)); // after the outage, straight to the store again
      await store.client.indices.refresh({ index: `${prefix}-*` });
      const stored = await store.events.search({}, { size: 1000 });
      const ids = stored.items.map((event) => event.id);
      expect(stored.total).toBe(400);
      expect(new Set(ids).size).toBe(400);
      expect(ids.sort()).toEqual(Array.from({ length: 8 }, (_, b) => events(b, 50).map((event) => event.id)).flat().sort());
      // The analyzers saw every batch once, in arrival order.
      expect(observed).toEqual(Array.from({ length: 8 }, (_, b) => events(b, 50).map((event) => event.id)).flat());
      const outcomes = await sinkOutcomes(metrics, 'test');
      expect(outcomes.spooled).toBe(250);
      expect(outcomes.replayed).toBe(250);
      expect((outcomes.written ?? 0) + (outcomes.duplicate ?? 0)).toBe(400);
      expect(outcomes.duplicate).toBeGreaterThanOrEqual(100); // the two bulks that landed, met again on replay
    } finally {
      await sink.close();
      await store.client.indices.delete({ index: `${prefix}-*`, ignore_unavailable: true, allow_no_indices: true }).catch(() => undefined);
      await store.client.indices.deleteIndexTemplate({ name: `${prefix}-events` }).catch(() => undefined);
      await store.close();
      await relay.close();
    }
  }, 120_000);
});
