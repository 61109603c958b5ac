import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AssetIndex, createMetricsRegistry, loadInventory, type ShouwangEvent } from '../../core/index.js';
import { createIngestMetrics, EventSink, FileDeadLetterSink, sinkOutcomes, syslogHandler } from '../../collectors/index.js';
import type { EventStore, WriteResult } from '../../store/index.js';
import { eventually } from '../support/eventually.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-sink-spill-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const assets = new AssetIndex(loadInventory('config/inventory.demo.yaml'));

/** A plain fake store (pure logic): every write waits until `release`. */
function heldStore() {
  const stored = new Set<string>();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const store = {
    write: async (events: readonly ShouwangEvent[]): Promise<WriteResult> => {
      await gate;
      const fresh = events.filter((event) => !stored.has(event.id));
      fresh.forEach((event) => stored.add(event.id));
      return { written: fresh.length, duplicates: events.length - fresh.length, rejected: [] };
    },
  } as unknown as EventStore;
  return { store, stored, release };
}

const events = (from: number, n: number): ShouwangEvent[] =>
  Array.from({ length: n }, (_, i) => ({ id: `e${from + i}`, '@timestamp': '2026-11-26T10:00:00Z', message: `event ${from + i}` }));

describe('event sink memory bound (spill)', () => {
  it('counts events held in memory, is overloaded at the bound, and spills to disk what a UDP listener hands it then', async () => {
    const { store, stored, release } = heldStore();
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const metrics = createIngestMetrics(registry);
    const deadLetters = new FileDeadLetterSink(join(dir, 'a', 'dead'));
    const observed: string[] = [];
    const sink = new EventSink({
      store, spoolDir: join(dir, 'a', 'spool'), deadLetters, batchSize: 5, flushIntervalMs: 10, replayIntervalMs: 50, maxMemoryEvents: 10, metrics,
      observe: (batch) => observed.push(...batch.map((event) => event.id)),
    });
    const held = sink.write(events(0, 10));
    expect(sink.memoryEvents).toBe(10);
    expect(sink.overloaded).toBe(true);
    const handle = syslogHandler({ source: 'syslog', sink, assets, deadLetters, metrics });
    // TCP is not spilled (it pauses instead); UDP is.
    const tcp = handle(Buffer.from('<13>Nov 26 10:00:00 host app: over tcp'), { address: '10.0.0.1', port: 1 }, 'tcp');
    expect(sink.memoryEvents).toBe(11);
    await Promise.all(Array.from({ length: 7 }, (_, i) => handle(Buffer.from(`<13>Nov 26 10:00:00 host app: over udp ${i}`), { address: '10.0.0.1', port: 1 }, 'udp')));
    expect(await sinkOutcomes(metrics, 'syslog')).toMatchObject({ spilled: 7 });
    expect(sink.memoryEvents).toBe(11); // the spilled ones are on disk, not here
    expect(observed).toHaveLength(7); // seen by the analyzers once spooled
    release();
    await Promise.all([held, tcp]);
    await eventually(async () => expect(await sink.spooledBytes()).toBe(0));
    expect(stored.size).toBe(18);
    expect(sink.memoryEvents).toBe(0);
    await sink.close();
  });

  it('answers false when the spool is full too, and the UDP handler counts the drop', async () => {
    const { store, release } = heldStore();
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const metrics = createIngestMetrics(registry);
    const deadLetters = new FileDeadLetterSink(join(dir, 'b', 'dead'));
    const sink = new EventSink({
      store, spoolDir: join(dir, 'b', 'spool'), deadLetters, batchSize: 1, flushIntervalMs: 10, replayIntervalMs: 60_000, maxMemoryEvents: 1, maxSpoolBytes: 100, metrics,
    });
    const held = sink.write(events(0, 1));
    expect(await sink.spill(events(1, 1))).toBe(true);
    expect(await sink.spill(events(2, 1))).toBe(false); // 100 bytes hold one
    expect(sink.saturated).toBe(true);
    const handle = syslogHandler({ source: 'syslog', sink, assets, deadLetters, metrics });
    await handle(Buffer.from('<13>Nov 26 10:00:00 host app: lost'), { address: '10.0.0.1', port: 1 }, 'udp');
    expect(await registry.metrics()).toMatch(/^shouwang_ingest_dropped_total\{source="syslog"\} 1$/m);
    release();
    await held;
    await sink.close();
  });
});
