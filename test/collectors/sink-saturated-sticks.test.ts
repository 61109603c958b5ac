// a UDP spill that finds the spool full sets `saturated`, and
// only a later successful append clears it. Every source that could append is gated by `saturated` itself (UDP drops
// before spilling, HTTP answers 503, file sources wait), so once the replay has emptied the spool nothing clears it:
// with no TCP sender, UDP, HTTP and file ingestion stop until a restart.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AssetIndex, loadInventory, type ShouwangEvent } from '../../core/index.js';
import { EventSink, FileDeadLetterSink, HttpSource } from '../../collectors/index.js';
import { eventually } from '../support/eventually.js';
import { fakeEventStore } from './fake-store.js';

const dir = mkdtempSync(join(tmpdir(), 'spool-saturated-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const assets = new AssetIndex(loadInventory('config/inventory.demo.yaml'));
const TOKEN = 'token-a-0123456789abcdef';
const event = (n: number): ShouwangEvent => ({ id: `e${n}`, '@timestamp': '2026-11-26T10:00:00Z', message: `udp event ${n}` });

describe('a spool full once to a UDP spill', () => {
  it('is not saturated any more once the replay has emptied it, and HTTP is admitted again', async () => {
    const { store, stored, state } = fakeEventStore(true);
    const deadLetters = new FileDeadLetterSink(join(dir, 'dead'));
    const sink = new EventSink({
      store, spoolDir: join(dir, 'spool'), deadLetters, batchSize: 1, flushIntervalMs: 5, replayIntervalMs: 20, maxMemoryEvents: 1, maxSpoolBytes: 400,
    });
    const http = new HttpSource({ port: 0, sink, assets, deadLetters, sources: [{ id: 'a', token: TOKEN, format: 'json' }] });
    await http.start();
    try {
      // A UDP flood while the store is down: spilled until the spool is full, then dropped.
      const answers: boolean[] = [];
      for (let n = 0; n < 10; n += 1) answers.push(await sink.spill([event(n)]));
      expect(answers).toContain(false);
      expect(sink.saturated).toBe(true);
      state.down = false; // the store is back: the replay timer empties the spool
      await eventually(async () => expect(await sink.spooledBytes()).toBe(0));
      expect(stored.size).toBe(answers.filter(Boolean).length);
      const post = await fetch(`http://127.0.0.1:${http.port}/ingest/a`, {
        method: 'POST', headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ '@timestamp': '2026-11-20T02:00:00Z', message: 'after' }),
      });
      expect({ saturated: sink.saturated, status: post.status }).toEqual({ saturated: false, status: 200 });
    } finally {
      await http.close();
      await sink.close();
    }
  });
});
