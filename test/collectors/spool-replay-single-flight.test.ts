import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { ShouwangEvent } from '../../core/index.js';
import { EventSink, type DeadLetter, type DeadLetterSink } from '../../collectors/index.js';
import { ElasticsearchStore } from '../../store/index.js';
import { dropTestIndices } from '../harness/elasticsearch.js';
import { eventually } from '../support/eventually.js';
import { relayTo } from './elasticsearch-relay.js';

const url = inject('elasticsearchUrl');
const dir = mkdtempSync(join(tmpdir(), 'shouwang-spool-single-flight-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Six events, three slices of two; the store refuses `e3` (not an IP in an `ip` field). */
const events: ShouwangEvent[] = Array.from({ length: 6 }, (_, i) => ({
  id: `e${i}`, '@timestamp': '2026-11-26T10:00:00.000Z', message: `event ${i}`, ...(i === 3 ? { source: { ip: 'not-an-ip' } } : {}),
}));

describe('spool replay when one slice rejects while others are in flight', () => {
  it('stays one replay until every slice has finished: no second replay of the segment starts meanwhile', async () => {
    const prefix = `test-${randomUUID().slice(0, 8)}`;
    const relay = relayTo(url);
    const store = await ElasticsearchStore.open({ url: await relay.listen(), indexPrefix: prefix, requestTimeoutMs: 60_000 });
    // What an earlier process spooled: one segment of three slices.
    const spoolDir = join(dir, prefix, 'spool');
    mkdirSync(spoolDir, { recursive: true });
    writeFileSync(join(spoolDir, '000000000001.ndjson'), events.map((event) => `${JSON.stringify(event)}\n`).join(''));
    // A plain fake dead-letter sink (pure logic) whose disk is full at first: the slice holding e3 rejects.
    const letters: DeadLetter[] = [];
    const state = { failing: true, attempts: 0 };
    const deadLetters: DeadLetterSink = {
      write: async (batch) => {
        state.attempts += 1;
        if (state.failing) throw new Error('test: dead-letter disk full');
        letters.push(...batch);
      },
    };
    relay.state.hold = true;
    const sink = new EventSink({ store: store.events, spoolDir, deadLetters, batchSize: 2, inFlight: 2, replayIntervalMs: 600_000 });
    try {
      const first = sink.replay(); // the replay the sink started on its own
      let settled = false;
      void first.then(() => (settled = true));
      // The first slice alone, then the two others at once through the two slots.
      await eventually(() => expect(relay.held).toHaveLength(1));
      relay.held.splice(0).forEach((bulk) => bulk.forward());
      await eventually(() => expect(relay.held).toHaveLength(2));
      // The slice of e2 and e3 goes on (e3 never reaches Elasticsearch: the store refuses it first). Its dead letter
      // fails, so the sink narrows it down by halves (e2 alone is sent again) and fails on e3 alone: the slice rejects.
      await eventually(() => {
        relay.held.filter((bulk) => bulk.body.includes('"_id":"e2"')).forEach((bulk) => (relay.held.splice(relay.held.indexOf(bulk), 1), bulk.forward()));
        expect(state.attempts).toBe(3);
      });
      expect(relay.held.map((bulk) => bulk.body.includes('"_id":"e4"'))).toEqual([true]); // e4 and e5 still in flight
      await new Promise((resolve) => setImmediate(resolve));
      expect(settled).toBe(false);
      expect(sink.replay()).toBe(first); // the same replay, not a second one of the same segment
      relay.held.splice(0).forEach((bulk) => bulk.forward());
      await first;
      expect(readdirSync(spoolDir)).toEqual(['000000000001.ndjson']); // kept: e3's dead letter was not written

      relay.state.hold = false;
      state.failing = false;
      await sink.replay();
      expect(readdirSync(spoolDir)).toEqual([]);
      expect(letters.map((letter) => letter.position)).toEqual(['e3']);
      await store.client.indices.refresh({ index: `${prefix}-*` });
      const stored = await store.events.search({}, { size: 100 });
      expect(stored.items.map((event) => event.id).sort()).toEqual(['e0', 'e1', 'e2', 'e4', 'e5']);
    } finally {
      relay.state.hold = false;
      relay.held.splice(0).forEach((bulk) => bulk.forward());
      await sink.close();
      await store.close();
      await relay.close();
      await dropTestIndices(url, prefix);
    }
  }, 120_000);
});
