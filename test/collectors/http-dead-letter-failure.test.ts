// A request's dead letters were written beside the sink write: when their write failed, the sender was told 503
// (retry, nothing taken) although its good records were already handed to the sink and got stored. They are written
// first now, so a 503 is true: nothing was taken.
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AssetIndex, loadInventory, type ShouwangEvent } from '../../core/index.js';
import { EventSink, FileDeadLetterSink, HttpSource } from '../../collectors/index.js';
import type { EventStore, WriteResult } from '../../store/index.js';
import { eventually } from '../support/eventually.js';

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

describe('HTTP ingest when the sink reaches its bound while a body is read', () => {
  it('answers 503 before writing the dead letters, so the retry writes each once', async () => {
    const stored: string[] = [];
    let release = () => {};
    const held = new Promise<void>((resolve) => { release = resolve; });
    // A store that holds its first write until told (the sink stays at its bound), then takes everything.
    const store = {
      write: async (batch: readonly ShouwangEvent[]): Promise<WriteResult> => {
        await held;
        stored.push(...batch.map((e) => String(e.message)));
        return { written: batch.length, duplicates: 0, rejected: [] };
      },
    } as unknown as EventStore;
    const deadLetters = new FileDeadLetterSink(join(dir, 'dead-bound'));
    const letters: string[] = [];
    deadLetters.write = async (batch) => {
      letters.push(...batch.map((letter) => letter.raw));
    };
    const sink = new EventSink({ store, spoolDir: join(dir, 'spool-bound'), deadLetters, flushIntervalMs: 10, maxMemoryEvents: 2 });
    const http = new HttpSource({ port: 0, sink, assets, deadLetters, sources: [{ id: 'a', token: TOKEN, format: 'json' }] });
    await http.start();
    const record = (message: string) => JSON.stringify({ '@timestamp': '2026-11-20T02:00:00Z', message });
    const headers = { 'content-type': 'application/x-ndjson', authorization: `Bearer ${TOKEN}` };
    try {
      // Admitted on its headers while the sink is empty; its body ends only after another request filled the sink.
      let answer: (status: number) => void = () => {};
      const slowStatus = new Promise<number>((resolve) => { answer = resolve; });
      const slow = request({ port: http.port, method: 'POST', path: '/ingest/a', headers }, (response) => {
        response.resume();
        answer(response.statusCode ?? 0);
      });
      slow.write(`${record('late')}\n`);
      await eventually(() => expect(http.reservedRecords).toBeGreaterThan(0));
      const filling = fetch(`http://127.0.0.1:${http.port}/ingest/a`, { method: 'POST', headers, body: `${record('one')}\n${record('two')}\n` });
      await eventually(() => expect(sink.memoryEvents).toBe(2));
      slow.end('{"broken\n');
      expect({ status: await slowStatus, letters }).toEqual({ status: 503, letters: [] });

      release();
      expect((await filling).status).toBe(200);
      const retried = await fetch(`http://127.0.0.1:${http.port}/ingest/a`, { method: 'POST', headers, body: `${record('late')}\n{"broken\n` });
      await sink.flush();
      expect({ status: retried.status, stored: stored.sort(), letters }).toEqual({ status: 207, stored: ['late', 'one', 'two'], letters: ['{"broken'] });
    } finally {
      release();
      await http.close();
      await sink.close();
    }
  });
});
