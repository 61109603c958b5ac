import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createMetricsRegistry, type ShouwangEvent } from '../../core/index.js';
import { createIngestMetrics, EventSink, FileDeadLetterSink } from '../../collectors/index.js';
import type { EventStore, WriteResult } from '../../store/index.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-sink-close-metrics-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A plain fake store (pure logic: only the metrics registration is under test) that takes everything. */
const store = {
  write: async (events: readonly ShouwangEvent[]): Promise<WriteResult> => ({ written: events.length, duplicates: 0, rejected: [] }),
} as unknown as EventStore;

const sinkOn = (name: string, metrics: ReturnType<typeof createIngestMetrics>) => new EventSink({
  store, spoolDir: join(dir, name, 'spool'), deadLetters: new FileDeadLetterSink(join(dir, name, 'dead')), metrics, name,
});

const memorySeries = (text: string) => text.split('\n').filter((line) => line.startsWith('shouwang_ingest_sink_memory_events{'));

describe('a closed event sink and the metrics', () => {
  it('is forgotten by the metrics when closed: no stale memory gauge, and a later sink of the same name is read, not the closed one', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const metrics = createIngestMetrics(registry);
    const first = sinkOn('a', metrics);
    const other = sinkOn('b', metrics);
    expect(memorySeries(await registry.metrics())).toEqual(['shouwang_ingest_sink_memory_events{sink="a"} 0', 'shouwang_ingest_sink_memory_events{sink="b"} 0']);
    await first.close();
    expect(memorySeries(await registry.metrics())).toEqual(['shouwang_ingest_sink_memory_events{sink="b"} 0']);
    // A new sink under the closed one's name (a restarted collector): the old one closing twice must not unregister it.
    const second = sinkOn('a', metrics);
    await first.close();
    expect(memorySeries(await registry.metrics())).toEqual(['shouwang_ingest_sink_memory_events{sink="b"} 0', 'shouwang_ingest_sink_memory_events{sink="a"} 0']);
    await Promise.all([second.close(), other.close()]);
    expect(memorySeries(await registry.metrics())).toEqual([]);
  });
});
