import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ShouwangEvent } from '../../core/index.js';
import { EventSink, FileDeadLetterSink } from '../../collectors/index.js';
import type { EventStore, WriteResult } from '../../store/index.js';
import { eventually } from '../support/eventually.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-spool-append-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Events whose NDJSON lines are exactly 1,024 bytes (a sender picks its datagram sizes), so each 512 KiB chunk
 * Node's appendFile writes ends at a line's end: a replay that reads the segment between two chunks parses
 * cleanly, stores that prefix and removes the segment while the rest of the append is still being written.
 */
const events = (from: number, n: number): ShouwangEvent[] => Array.from({ length: n }, (_, i) => {
  const event = { id: `e${String(from + i).padStart(8, '0')}`, '@timestamp': '2026-11-26T10:00:00Z', message: '' };
  event.message = 'x'.repeat(1023 - JSON.stringify(event).length);
  return event;
});

describe('spool replay while an append is still writing its segment', () => {
  it('stores every spilled event and leaves nothing unaccounted for (a replay never removes a segment still being appended)', async () => {
    const stored = new Set<string>();
    // A plain fake store (pure logic): takes everything at once.
    const store = {
      write: async (batch: readonly ShouwangEvent[]): Promise<WriteResult> => {
        batch.forEach((event) => stored.add(event.id));
        return { written: batch.length, duplicates: 0, rejected: [] };
      },
    } as unknown as EventStore;
    const spoolDir = join(dir, 'spool');
    const sink = new EventSink({
      store, spoolDir, deadLetters: new FileDeadLetterSink(join(dir, 'dead')), batchSize: 500, flushIntervalMs: 10, replayIntervalMs: 1,
    });
    const rounds = 20;
    const per = 4000; // about 4 MiB per append: eight chunks
    for (let round = 0; round < rounds; round += 1) expect(await sink.spill(events(round * per, per))).toBe(true);
    await eventually(async () => expect(await sink.spooledBytes()).toBe(0));
    await sink.close();
    expect(readdirSync(spoolDir)).toEqual([]);
    expect(stored.size).toBe(rounds * per); // every event the sink answered "spooled" for
  });
});
