// A request's dead letters were written beside the sink write: when their write failed, the sender was told 503
// (retry, nothing taken) although its good records were already handed to the sink and got stored. They are written
// first now, so a 503 is true: nothing was taken.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AssetIndex, loadInventory, type ShouwangEvent } from '../../core/index.js';
import { EventSink, FileDeadLetterSink, HttpSource } from '../../collectors/index.js';
import type { EventStore, WriteResult } from '../../store/index.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-http-dl-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const assets = new AssetIndex(loadInventory('config/inventory.demo.yaml'));
const TOKEN = 'token-a-0123456789abcdef';

describe('HTTP ingest when the dead-letter write fails', () => {
  it('answers 503 with nothing taken, and the retry once the disk has room is taken whole', async () => {
    const stored: string[] = [];
    // Plain fakes (pure logic): a store that takes everything, a dead-letter sink whose disk is full until told otherwise.
    const store = {
      write: async (batch: readonly ShouwangEvent[]): Promise<WriteResult> => {
        stored.push(...batch.map((e) => String(e.message)));
        return { written: batch.length, duplicates: 0, rejected: [] };
      },
    } as unknown as EventStore;
    const deadLetters = new FileDeadLetterSink(join(dir, 'dead'));
    const letters: string[] = [];
    let diskFull = true;
    deadLetters.write = async (batch) => {
      if (diskFull) throw new Error('ENOSPC: no space left on device');
      letters.push(...batch.map((letter) => letter.raw));
    };
    const sink = new EventSink({ store, spoolDir: join(dir, 'spool'), deadLetters, flushIntervalMs: 10 });
    const http = new HttpSource({ port: 0, sink, assets, deadLetters, sources: [{ id: 'a', token: TOKEN, format: 'json' }] });
    await http.start();
    const body = `${JSON.stringify({ '@timestamp': '2026-11-20T02:00:00Z', message: 'good' })}\n{"broken\n`;
    const post = () => fetch(`http://127.0.0.1:${http.port}/ingest/a`, {
      method: 'POST', headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${TOKEN}` }, body,
    });
    try {
      const refused = await post();
      await sink.flush();
      expect({ status: refused.status, retryAfter: refused.headers.get('retry-after'), stored, memory: sink.memoryEvents })
        .toEqual({ status: 503, retryAfter: '5', stored: [], memory: 0 });

      diskFull = false;
      const retried = await post();
      await sink.flush();
      expect({ status: retried.status, body: await retried.json(), stored, letters })
        .toEqual({ status: 207, body: { accepted: 1, deadLettered: 1, failed: [{ line: 2, reason: expect.any(String) }] }, stored: ['good'], letters: ['{"broken'] });
    } finally {
      await http.close();
      await sink.close();
    }
  });
});
