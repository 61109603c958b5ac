import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ShouwangEvent } from '../../core/index.js';
import { EventSink, FileDeadLetterSink } from '../../collectors/index.js';
import { fakeEventStore } from './fake-store.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-file-room-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const events = (tag: string, n: number): ShouwangEvent[] =>
  Array.from({ length: n }, (_, i) => ({ id: `${tag}-${i}`, '@timestamp': '2026-11-20T02:00:00Z', message: `${tag} ${i}` }));

describe('the sink’s memory bound between file sources and the network', () => {
  it('counts file events against maxMemoryEvents only up to half of it, holds the tailer at that half, and frees it once they are stored', async () => {
    const { store, stored } = fakeEventStore();
    const sink = new EventSink({
      store, spoolDir: join(dir, 'spool'), deadLetters: new FileDeadLetterSink(join(dir, 'dead')), maxMemoryEvents: 1000, batchSize: 10_000, flushIntervalMs: 60_000,
    });
    try {
      expect(sink.whenFileRoom()).toBeUndefined();
      // A tailer's chunk of 900 lines: all of it in memory, but only 500 count against the network's bound.
      const file = sink.write(events('file', 900), { fromFile: true });
      expect(sink.memoryEvents).toBe(900);
      expect(sink.heldAgainstBound).toBe(500);
      expect(sink.overloaded).toBe(false);
      const room = sink.whenFileRoom();
      expect(room).toBeInstanceOf(Promise);
      // The network fills the other half: now the sink is at its bound for everyone.
      const network = sink.write(events('tcp', 499));
      expect(sink.overloaded).toBe(false);
      const last = sink.write(events('udp', 1));
      expect(sink.heldAgainstBound).toBe(1000);
      expect(sink.overloaded).toBe(true);

      let freed = false;
      void room!.then(() => (freed = true));
      await sink.flush();
      await Promise.all([file, network, last]);
      await room;
      expect(freed).toBe(true);
      expect(stored.size).toBe(1400);
      expect([sink.memoryEvents, sink.heldAgainstBound, sink.overloaded, sink.whenFileRoom()]).toEqual([0, 0, false, undefined]);
    } finally {
      await sink.close();
    }
  });
});
