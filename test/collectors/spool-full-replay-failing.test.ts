// A writer held on a full spool re-reads the oldest segment after each pause. The pause doubled only while the store
// refused (store down); when the replay failed for another reason, such as a dead-letter disk that cannot be written,
// it stayed at 200 ms: 300 segment reads, store calls and logged errors a minute, until the disk was fixed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type { ShouwangEvent } from '../../core/index.js';
import { EventSink, FileDeadLetterSink } from '../../collectors/index.js';
import { StoreErrors, type EventStore, type WriteResult } from '../../store/index.js';
import { eventually } from '../support/eventually.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-spool-replay-failing-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.useRealTimers());

const batch = (name: string): ShouwangEvent[] =>
  Array.from({ length: 10 }, (_, i) => ({ id: `${name}${i}`, '@timestamp': '2026-11-26T10:00:00.000Z', message: `event ${name}${i}` }));
const BATCH_BYTES = Buffer.byteLength(batch('a').map((event) => JSON.stringify(event)).join('\n') + '\n');

describe('a full spool whose replay fails for a reason other than the store', () => {
  it('(the store fails on one event, the dead-letter disk is full) backs off as for a store that is down, and stores everything once the disk is fixed', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const now = () => vi.getMockedSystemTime()!.getTime();
    // Plain fakes (pure logic): the store is down, then up but failing on one event of each batch; the dead-letter disk is full.
    const state: { store: 'down' | 'failing' | 'up'; diskFull: boolean } = { store: 'down', diskFull: true };
    const stored = new Set<string>();
    const store = {
      write: async (events: readonly ShouwangEvent[]): Promise<WriteResult> => {
        if (state.store === 'down') throw StoreErrors.unavailable('test: node unreachable');
        if (state.store === 'failing' && events.some((event) => event.id.endsWith('9'))) throw new Error('test: mapping conflict');
        events.forEach((event) => stored.add(event.id));
        return { written: events.length, duplicates: 0, rejected: [] };
      },
    } as unknown as EventStore;
    const deadLetters = new FileDeadLetterSink(join(dir, 'dead'));
    const letterTries: number[] = [];
    deadLetters.write = async () => {
      letterTries.push(now());
      if (state.diskFull) throw new Error('ENOSPC: no space left on device');
    };
    const sink = new EventSink({ store, spoolDir: join(dir, 'spool'), deadLetters, batchSize: 10, replayIntervalMs: 5000, maxSpoolBytes: BATCH_BYTES });
    const spooled = sink.write(batch('a'));
    void sink.flush();
    await spooled;
    const held = sink.write(batch('b'));
    void sink.flush();
    await eventually(() => expect(sink.saturated).toBe(true));

    state.store = 'failing';
    const start = now();
    while (now() < start + 60_000) {
      const before = letterTries.length;
      await vi.advanceTimersToNextTimerAsync();
      await eventually(() => expect(letterTries.length).toBe(before + 1));
      await eventually(() => expect(vi.getTimerCount()).toBe(2)); // the held writer sleeps again, beside the replay interval
      await new Promise((resolve) => setImmediate(resolve));
    }
    const tries = letterTries.filter((at) => at <= start + 60_000).length;
    // Every 200 ms that was 300; doubling up to 5 s it is about 12 beside the replay interval's own 12.
    expect(tries).toBeLessThanOrEqual(5 + 2 * 12);

    state.diskFull = false;
    state.store = 'up';
    let answered = false;
    void held.then(() => (answered = true));
    await eventually(async () => {
      if (!answered || (await sink.spooledBytes()) > 0) await vi.advanceTimersToNextTimerAsync();
      expect(answered).toBe(true);
      expect(await sink.spooledBytes()).toBe(0);
    });
    // The store takes every event now: the spooled batch is stored whole, and the held one after it.
    expect(stored.size).toBe(20);
    await sink.close();
  });
});
