// a 0-byte segment (kill -9 between the append's open() and its write, or a write that failed with
// ENOSPC before any byte: the file is created, never listed, and found at the next start) is read as no events and no
// damaged lines. Replay then takes "nothing left == everything left" for "the store is down" and returns without
// removing it: every later segment waits behind it for ever, the spool fills, ingestion stops.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ShouwangEvent } from '../../core/index.js';
import { EventSink, FileDeadLetterSink } from '../../collectors/index.js';
import { eventually } from '../support/eventually.js';
import { fakeEventStore } from './fake-store.js';

const dir = mkdtempSync(join(tmpdir(), 'spool-empty-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const event = (n: number): ShouwangEvent => ({ id: `e${n}`, '@timestamp': '2026-11-26T10:00:00Z', message: `event ${n}` });

describe('an empty spool segment left by a crash', () => {
  it('is removed by the replay, and what was spooled after it is stored', async () => {
    const spoolDir = join(dir, 'spool');
    mkdirSync(spoolDir, { recursive: true });
    writeFileSync(join(spoolDir, '000000000001.ndjson'), '');
    writeFileSync(join(spoolDir, '000000000002.ndjson'), `${JSON.stringify(event(1))}\n${JSON.stringify(event(2))}\n`);
    const { store, stored } = fakeEventStore();
    const sink = new EventSink({ store, spoolDir, deadLetters: new FileDeadLetterSink(join(dir, 'dead')), flushIntervalMs: 10, replayIntervalMs: 20 });
    try {
      const written = sink.write([event(3)]);
      await eventually(() => expect([...stored].sort()).toEqual(['e1', 'e2', 'e3']), { timeout: 3000 });
      await written;
      expect(await sink.spooledBytes()).toBe(0);
    } finally {
      await sink.close();
    }
  });
});
