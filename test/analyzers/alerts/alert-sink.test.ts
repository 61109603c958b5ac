import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it, vi } from 'vitest';
import { AlertBuilder, AlertSink } from '../../../analyzers/alerts/index.js';
import type { Signal } from '../../../analyzers/types.js';
import { ElasticsearchStore, EmbeddedStore, type Store } from '../../../store/index.js';
import { dropTestIndices } from '../../harness/elasticsearch.js';

const T0 = Date.parse('2026-03-02T08:00:00Z');
const builder = new AlertBuilder();

function signals(system: string, count: number, fromMinute = 0): Signal[] {
  return Array.from({ length: count }, (_, i) => ({
    rule: { id: 'ssh-brute', title: 'SSH 暴力破解', level: 'high' as const, tags: ['mlps.8.1.4.3.a'] },
    eventId: `${system}-e${fromMinute + i}`,
    time: T0 + (fromMinute + i) * 60_000,
    event: { shouwang: { system, department: 'd-fin', mlps_level: 3 } },
  }));
}

async function deliver(store: Store, batch: Signal[], options: { batchSize?: number } = {}) {
  const sink = new AlertSink({ store: store.alerts, latenessMs: 120_000, ...options });
  for (const signal of batch) sink.add(builder.fromSignal(signal));
  const result = await sink.flush();
  await sink.close();
  return result;
}

/** The store's alerts, with the size of each write (once done) and the most reads at once kept. */
function watched(store: Store) {
  const seen = { writes: [] as number[], mostReads: 0 };
  let reading = 0;
  const alerts = {
    get: async (id: string) => {
      seen.mostReads = Math.max(seen.mostReads, (reading += 1));
      try {
        return await store.alerts.get(id);
      } finally {
        reading -= 1;
      }
    },
    upsert: async (batch: Parameters<Store['alerts']['upsert']>[0]) => {
      const result = await store.alerts.upsert(batch);
      seen.writes.push(batch.length);
      return result;
    },
  };
  return { alerts, seen };
}

function describeReplay(name: string, open: () => Promise<Store>) {
  describe(`AlertSink on the ${name} store`, () => {
    it('folds repeats into one alert per window and counts each event once under replay', async () => {
      const store = await open();
      const system = `sys-${randomUUID().slice(0, 8)}`;
      const first = signals(system, 25);
      expect(await deliver(store, first, { batchSize: 13 })).toEqual({ created: 1, updated: 1, skipped: 0 });
      const id = builder.fromSignal(first[0]!).alert.id;
      expect(await store.alerts.get(id)).toMatchObject({ count: 25, mlps: ['8.1.4.3 a)'], system, priority: 12 });

      // A fresh sink (a restarted process, a re-run ingest) replays everything: nothing is counted twice.
      expect(await deliver(store, first)).toEqual({ created: 0, updated: 0, skipped: 25 });
      // Replay of the tail plus new events: only the new ones count.
      const next = signals(system, 10, 25);
      expect(await deliver(store, [...first.slice(20), ...next])).toEqual({ created: 0, updated: 1, skipped: 5 });
      const stored = await store.alerts.get(id);
      expect(stored).toMatchObject({ count: 35, firstSeen: '2026-03-02T08:00:00.000Z', lastSeen: '2026-03-02T08:34:00.000Z' });
      expect(stored!.sampleEventIds).toHaveLength(20);

      // The next hour is another alert.
      const later = signals(system, 2, 60);
      expect(await deliver(store, later)).toEqual({ created: 1, updated: 0, skipped: 0 });
      await store.close();
    });

    it('counts a repeat once within one process, and a late event within the lateness', async () => {
      const store = await open();
      const system = `sys-${randomUUID().slice(0, 8)}`;
      const sink = new AlertSink({ store: store.alerts, latenessMs: 120_000, batchSize: 3 });
      const [a, b, c, d] = signals(system, 4, 10);
      for (const signal of [c!, d!, c!, d!]) sink.add(builder.fromSignal(signal));
      await sink.flush();
      sink.add(builder.fromSignal(b!)); // one minute late: counted
      sink.add(builder.fromSignal(d!)); // a replay: skipped
      sink.add(builder.fromSignal({ ...a!, time: T0 + 10 * 60_000 - 300_000, eventId: 'too-late' })); // beyond the lateness
      expect(await sink.flush()).toEqual({ created: 0, updated: 1, skipped: 2 });
      await sink.close();
      expect((await store.alerts.get(builder.fromSignal(a!).alert.id))?.count).toBe(3);
      await store.close();
    });

    it('keeps a batch the store refused and writes it once when the store is back', async () => {
      const store = await open();
      const system = `sys-${randomUUID().slice(0, 8)}`;
      let failures = 1;
      const flaky = {
        get: store.alerts.get.bind(store.alerts),
        upsert: async (alerts: Parameters<Store['alerts']['upsert']>[0]) => {
          const result = await store.alerts.upsert(alerts);
          // The write landed but the answer was lost: the worst case for an additive upsert.
          if (failures-- > 0) throw new Error('connection reset');
          return result;
        },
      };
      const sink = new AlertSink({ store: flaky, latenessMs: 120_000, flushMs: 600_000 });
      const batch = signals(system, 5);
      for (const signal of batch) sink.add(builder.fromSignal(signal));
      await expect(sink.flush()).rejects.toThrow('connection reset');
      expect(sink.pending).toBe(5);
      expect(await sink.flush()).toEqual({ created: 0, updated: 0, skipped: 5 });
      await sink.close();
      expect((await store.alerts.get(builder.fromSignal(batch[0]!).alert.id))?.count).toBe(5);
      await store.close();
    });

    it('adds up what several processes count into the same alert, one lagging behind the other, and each replays idempotently', async () => {
      // Two collectors behind a load balancer: the same rule and group, each its own events; two store clients.
      const [one, two] = [await open(), await open()];
      const system = `sys-${randomUUID().slice(0, 8)}`;
      const all = signals(system, 40);
      const own = (parity: number) => all.filter((_, i) => i % 2 === parity);
      const sinkOf = (store: Store, writer: string) => new AlertSink({ store: store.alerts, latenessMs: 120_000, batchSize: 4, flushMs: 600_000, writer });
      const a = sinkOf(one, 'collector-a');
      const b = sinkOf(two, 'collector-b');
      const id = builder.fromSignal(all[0]!).alert.id;
      // Collector a is ahead: its first ten events are stored before b writes b's first, which are older.
      for (const signal of own(0).slice(0, 10)) a.add(builder.fromSignal(signal));
      await a.flush();
      for (const signal of own(1).slice(0, 10)) b.add(builder.fromSignal(signal));
      await b.flush();
      expect((await one.alerts.get(id))?.count).toBe(20);
      // Then both at once, batches racing each other into the store.
      for (let i = 10; i < 20; i += 1) {
        a.add(builder.fromSignal(own(0)[i]!));
        b.add(builder.fromSignal(own(1)[i]!));
      }
      await Promise.all([a.close(), b.close()]);
      expect((await one.alerts.get(id))?.count).toBe(40);

      // Each collector restarted replays everything it saw: nothing counts twice, whatever the other wrote since.
      for (const [store, writer, parity] of [[one, 'collector-a', 0], [two, 'collector-b', 1]] as const) {
        const again = sinkOf(store, writer);
        for (const signal of own(parity)) again.add(builder.fromSignal(signal));
        expect(await again.flush()).toEqual({ created: 0, updated: 0, skipped: 20 });
        await again.close();
      }
      // A third collector's first event, older than everything stored, still counts.
      const late = sinkOf(one, 'collector-c');
      late.add(builder.fromSignal({ ...all[0]!, eventId: 'collector-c-e0' }));
      expect(await late.flush()).toEqual({ created: 0, updated: 1, skipped: 0 });
      await late.close();
      const stored = await two.alerts.get(id);
      expect(stored).toMatchObject({ count: 41, firstSeen: '2026-03-02T08:00:00.000Z', lastSeen: '2026-03-02T08:39:00.000Z' });
      expect(stored?.writers).toEqual({
        'collector-a': '2026-03-02T08:38:00.000Z', 'collector-b': '2026-03-02T08:39:00.000Z', 'collector-c': '2026-03-02T08:00:00.000Z',
      });
      await one.close();
      await two.close();
    });

    it('writes a burst of matching events in one store call, not one per few hundred', async () => {
      const store = await open();
      const system = `sys-${randomUUID().slice(0, 8)}`;
      const { alerts, seen } = watched(store);
      const sink = new AlertSink({ store: alerts, latenessMs: 3_600_000, flushMs: 600_000 });
      // 2,000 events of one brute force within an hour: one alert, written once.
      const burst = Array.from({ length: 2_000 }, (_, i) => ({ ...signals(system, 1)[0]!, eventId: `${system}-b${i}`, time: T0 + i }));
      for (const signal of burst) sink.add(builder.fromSignal(signal));
      await sink.flush();
      expect(seen.writes).toEqual([1]);
      expect((await store.alerts.get(builder.fromSignal(burst[0]!).alert.id))?.count).toBe(2_000);
      await sink.close();
      await store.close();
    });

    it('writes many new alerts 200 to a write, reading their stored state a hundred at a time', async () => {
      const store = await open();
      const system = `sys-${randomUUID().slice(0, 8)}`;
      const { alerts, seen } = watched(store);
      const sink = new AlertSink({ store: alerts, latenessMs: 3_600_000, flushMs: 600_000 });
      // 1,000 systems hit at once: 1,000 alerts this process has not seen, written 200 to a request or transaction.
      for (let i = 0; i < 1_000; i += 1) sink.add(builder.fromSignal(signals(`${system}-${i}`, 1)[0]!));
      expect(await sink.flush()).toEqual({ created: 1_000, updated: 0, skipped: 0 });
      expect(seen.mostReads).toBe(100);
      expect(seen.writes).toEqual([200, 200, 200, 200, 200]);
      await sink.close();
      await store.close();
    });

    it('retries a timed flush that failed, on its own', async () => {
      const store = await open();
      const system = `sys-${randomUUID().slice(0, 8)}`;
      let failures = 1;
      const errors: unknown[] = [];
      const flaky = {
        get: store.alerts.get.bind(store.alerts),
        upsert: async (alerts: Parameters<Store['alerts']['upsert']>[0]) => {
          if (failures-- > 0) throw new Error('store down');
          return store.alerts.upsert(alerts);
        },
      };
      const sink = new AlertSink({ store: flaky, flushMs: 20, onError: (error) => errors.push(error) });
      const batch = signals(system, 3);
      for (const signal of batch) sink.add(builder.fromSignal(signal));
      const id = builder.fromSignal(batch[0]!).alert.id;
      await vi.waitFor(async () => expect((await store.alerts.get(id))?.count).toBe(3), { timeout: 10_000, interval: 50 });
      expect(errors).toEqual([new Error('store down')]);
      await sink.close();
      await store.close();
    });
  });
}

describe('AlertSink after a failed write', () => {
  it('waits flushMs before the next try, however many contributions fill the batch meanwhile', async () => {
    vi.useFakeTimers();
    try {
      let tries = 0;
      const down = { get: async () => undefined, upsert: async () => { tries += 1; throw new Error('store down'); } };
      const sink = new AlertSink({ store: down, batchSize: 5, flushMs: 10_000 });
      const batch = signals('sys-down', 30);
      for (const signal of batch.slice(0, 5)) sink.add(builder.fromSignal(signal));
      await vi.advanceTimersByTimeAsync(1);
      expect(tries).toBe(1);
      // Each of these fills a batch again: before, each one started a new try at once.
      for (const signal of batch.slice(5)) {
        sink.add(builder.fromSignal(signal));
        await vi.advanceTimersByTimeAsync(1);
      }
      await vi.advanceTimersByTimeAsync(5_000);
      expect(tries).toBe(1);
      await vi.advanceTimersByTimeAsync(5_100);
      expect(tries).toBe(2);
      expect(sink.pending).toBe(30);
    } finally {
      vi.useRealTimers();
    }
  });
});

const dir = mkdtempSync(join(tmpdir(), 'shouwang-alerts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const dbPath = join(dir, 'alerts.db');
describeReplay('embedded (SQLite)', async () => new EmbeddedStore({ path: dbPath }));

const url = inject('elasticsearchUrl');
const indexPrefix = `test-${randomUUID().slice(0, 8)}`;
afterAll(() => dropTestIndices(url, indexPrefix));
describeReplay('Elasticsearch', () => ElasticsearchStore.open({ url, indexPrefix }));
