import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createMetricsRegistry, type ShouwangEvent } from '../../core/index.js';
import { createIngestMetrics, EventSink, FileDeadLetterSink, sinkOutcomes, type DeadLetter } from '../../collectors/index.js';
import { ElasticsearchStore, StoreErrors, type EventStore, type WriteResult } from '../../store/index.js';
import { dropTestIndices } from '../harness/elasticsearch.js';
import { eventually } from '../support/eventually.js';
import { relayTo } from './elasticsearch-relay.js';

const url = inject('elasticsearchUrl');
const dir = mkdtempSync(join(tmpdir(), 'shouwang-spool-dead-once-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const event = (n: number, extra: Partial<ShouwangEvent> = {}): ShouwangEvent => ({ id: `e${n}`, '@timestamp': '2026-11-26T10:00:00.000Z', message: `event ${n}`, ...extra });
/** The store refuses it (not an IP in an `ip` field), every time it is offered. */
const refused = (n: number) => event(n, { source: { ip: 'not-an-ip' } });

const lettersIn = (deadDir: string): DeadLetter[] => (existsSync(deadDir) ? readdirSync(deadDir) : [])
  .flatMap((name) => readFileSync(join(deadDir, name), 'utf8').trim().split('\n')).filter(Boolean).map((line) => JSON.parse(line) as DeadLetter);

/** What an earlier process spooled: one segment holding these lines. */
function spoolOf(name: string, text: string): string {
  const spoolDir = join(dir, name, 'spool');
  mkdirSync(spoolDir, { recursive: true });
  writeFileSync(join(spoolDir, '000000000001.ndjson'), text);
  return spoolDir;
}

async function elasticsearchBehindRelay() {
  const prefix = `test-${randomUUID().slice(0, 8)}`;
  const relay = relayTo(url);
  const store = await ElasticsearchStore.open({ url: await relay.listen(), indexPrefix: prefix, requestTimeoutMs: 60_000 });
  const storedIds = async () => {
    await store.client.indices.refresh({ index: `${prefix}-*`, ignore_unavailable: true, allow_no_indices: true });
    return (await store.events.search({}, { size: 100 })).items.map(({ id }) => id).sort();
  };
  const close = async () => {
    relay.state.hold = false;
    relay.state.cut = false;
    relay.held.splice(0).forEach((bulk) => bulk.forward());
    await store.close();
    await relay.close();
    await dropTestIndices(url, prefix);
  };
  return { prefix, relay, store, storedIds, close };
}

describe('a spooled event the store refuses, when the replay of its segment is retried', () => {
  it('is one dead letter after a replay that failed part-way is retried (the segment keeps only what is left)', async () => {
    const es = await elasticsearchBehindRelay();
    const name = `retry-${es.prefix}`;
    const spoolDir = spoolOf(name, [event(0), refused(1), event(2), event(3), event(4), event(5)].map((e) => `${JSON.stringify(e)}\n`).join(''));
    const deadDir = join(dir, name, 'dead');
    const metrics = createIngestMetrics(createMetricsRegistry({ defaultMetrics: false }));
    es.relay.state.hold = true;
    const sink = new EventSink({
      store: es.store.events, spoolDir, deadLetters: new FileDeadLetterSink(deadDir), batchSize: 2, inFlight: 1, replayIntervalMs: 600_000, metrics, name: 'test',
    });
    try {
      const first = sink.replay();
      // The first slice (e0, and e1 which the store refuses) is stored: e1 becomes a dead letter.
      await eventually(() => expect(es.relay.held).toHaveLength(1));
      es.relay.held.splice(0).forEach((bulk) => bulk.forward());
      await eventually(() => expect(lettersIn(deadDir).map((letter) => letter.position)).toEqual(['e1']));
      // The next slice finds the node gone: the replay stops part-way and the segment stays.
      await eventually(() => expect(es.relay.held).toHaveLength(1));
      es.relay.state.cut = true;
      es.relay.held.splice(0).forEach((bulk) => bulk.drop(false));
      await first;
      expect(readdirSync(spoolDir)).toEqual(['000000000001.ndjson']);

      es.relay.state.cut = false;
      es.relay.state.hold = false;
      await sink.replay(); // the retry
      expect(readdirSync(spoolDir)).toEqual([]);
      expect(lettersIn(deadDir).map((letter) => letter.position)).toEqual(['e1']);
      expect(await es.storedIds()).toEqual(['e0', 'e2', 'e3', 'e4', 'e5']);
      // Each spooled event left the spool once.
      expect(await sinkOutcomes(metrics, 'test')).toMatchObject({ replayed: 6, dead_letter: 1 });
    } finally {
      await sink.close();
      await es.close();
    }
  }, 120_000);

  it('is one dead letter for a torn line however often the store is down when its segment is replayed', async () => {
    const es = await elasticsearchBehindRelay();
    const name = `torn-${es.prefix}`;
    const torn = JSON.stringify(event(2)).slice(0, 20);
    const spoolDir = spoolOf(name, `${JSON.stringify(event(0))}\n${JSON.stringify(event(1))}\n${torn}`);
    const deadDir = join(dir, name, 'dead');
    es.relay.state.cut = true; // the node is unreachable
    const sink = new EventSink({ store: es.store.events, spoolDir, deadLetters: new FileDeadLetterSink(deadDir), replayIntervalMs: 600_000 });
    try {
      for (let attempt = 0; attempt < 3; attempt += 1) await sink.replay();
      expect(readdirSync(spoolDir)).toEqual(['000000000001.ndjson']);
      es.relay.state.cut = false;
      await sink.replay();
      expect(readdirSync(spoolDir)).toEqual([]);
      expect(await es.storedIds()).toEqual(['e0', 'e1']);
      expect(lettersIn(deadDir)).toEqual([expect.objectContaining({ raw: torn, reason: expect.stringContaining('cut short by a crash') })]);
    } finally {
      await sink.close();
      await es.close();
    }
  }, 120_000);

  it('is one dead letter when the store failed on it alone while finding the node gone for the rest of its batch', async () => {
    // A plain fake store (pure logic: which events the sink spools): fails on `bad` itself, and is down for the others.
    const state = { down: true };
    const stored: string[] = [];
    const store = {
      write: async (events: readonly ShouwangEvent[]): Promise<WriteResult> => {
        if (events.some((e) => e.id === 'bad')) throw new Error('mapping conflict'); // not "down": narrowed down by halves
        if (state.down) throw StoreErrors.unavailable('test: node unreachable');
        stored.push(...events.map((e) => e.id));
        return { written: events.length, duplicates: 0, rejected: [] };
      },
    } as unknown as EventStore;
    const deadDir = join(dir, 'halves', 'dead');
    const sink = new EventSink({
      store, spoolDir: join(dir, 'halves', 'spool'), deadLetters: new FileDeadLetterSink(deadDir), batchSize: 2, replayIntervalMs: 600_000,
    });
    try {
      const outcome = await sink.write([{ ...event(0), id: 'bad' }, event(1)]);
      expect(outcome.deadLettered).toEqual([{ id: 'bad', reason: 'store failed: mapping conflict' }]);
      expect(await sink.spooledBytes()).toBeGreaterThan(0); // e1, which found the node gone
      state.down = false;
      await sink.replay();
      expect(await sink.spooledBytes()).toBe(0);
      expect(stored).toEqual(['e1']);
      expect(lettersIn(deadDir).map((letter) => letter.position)).toEqual(['bad']);
    } finally {
      await sink.close();
    }
  });
});
