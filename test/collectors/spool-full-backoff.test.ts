import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type { ShouwangEvent } from '../../core/index.js';
import { EventSink, FileDeadLetterSink } from '../../collectors/index.js';
import { StoreErrors, type EventStore, type WriteResult } from '../../store/index.js';
import { eventually } from '../support/eventually.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-spool-backoff-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.useRealTimers());

const batch = (name: string): ShouwangEvent[] =>
  Array.from({ length: 10 }, (_, i) => ({ id: `${name}${i}`, '@timestamp': '2026-11-26T10:00:00.000Z', message: `event ${name}${i}` }));
/** Bytes of one batch in the spool: the spool holds exactly one. */
const BATCH_BYTES = Buffer.byteLength(batch('a').map((event) => JSON.stringify(event)).join('\n') + '\n');
const REPLAY_INTERVAL_MS = 5000;

describe('a full spool while the store is down', () => {
  it('re-reads the spooled segment less and less often (doubling up to the replay interval) while the store keeps refusing, and from the start again for the next full spool once a write worked', async () => {
    // Only the timers are fake (the sink's pauses, counted in simulated time); the disk is real.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const now = () => vi.getMockedSystemTime()!.getTime();
    // A plain fake store (pure logic: when the sink asks). Down, each replay reads the segment and asks once (the
    // first slice alone): the calls count the segment reads.
    const state = { down: true };
    const asked: number[] = [];
    const stored = new Set<string>();
    const store = {
      write: async (events: readonly ShouwangEvent[]): Promise<WriteResult> => {
        asked.push(now());
        if (state.down) throw StoreErrors.unavailable('test: node unreachable');
        events.forEach((event) => stored.add(event.id));
        return { written: events.length, duplicates: 0, rejected: [] };
      },
    } as unknown as EventStore;
    const sink = new EventSink({
      store, spoolDir: join(dir, 'spool'), deadLetters: new FileDeadLetterSink(join(dir, 'dead')),
      batchSize: 10, replayIntervalMs: REPLAY_INTERVAL_MS, maxSpoolBytes: BATCH_BYTES,
    });
    /** Fills the spool with one batch, then holds a second writer on the full spool (the 200 ms loop, before). */
    const fill = async (first: string, second: string) => {
      const spooled = sink.write(batch(first));
      void sink.flush();
      await spooled;
      const held = sink.write(batch(second));
      void sink.flush();
      await eventually(() => expect(sink.saturated).toBe(true));
      return { held };
    };
    /** Simulated time passes timer by timer; each wakes one replay, which has read and asked before the next. */
    const run = async (ms: number) => {
      const end = now() + ms;
      while (now() < end) {
        const before = asked.length;
        await vi.advanceTimersToNextTimerAsync();
        await eventually(() => expect(asked.length).toBe(before + 1));
        await eventually(() => expect(vi.getTimerCount()).toBe(2)); // the held writer sleeps again, beside the replay interval
        await new Promise((resolve) => setImmediate(resolve)); // and that replay is over
      }
    };
    /** The store is back: timers fire until the backlog is stored and the held writer is answered. */
    const drain = async (held: Promise<unknown>) => {
      let answered = false;
      void held.then(() => (answered = true));
      await eventually(async () => {
        if (!answered || (await sink.spooledBytes()) > 0) await vi.advanceTimersToNextTimerAsync();
        expect(answered).toBe(true);
        expect(await sink.spooledBytes()).toBe(0);
      });
    };

    const { held } = await fill('a', 'b');
    const start = now();
    const readsBefore = asked.length;
    await run(60_000);
    const reads = asked.slice(readsBefore).filter((at) => at <= start + 60_000).length;
    // Every 200 ms that would be 300 reads of up to 16 MiB; doubling up to 5 s: 200, 400 … 3200, then every 5 s, beside
    // the replay interval's own every 5 s.
    expect(reads).toBeGreaterThanOrEqual(60_000 / REPLAY_INTERVAL_MS);
    expect(reads).toBeLessThanOrEqual(5 + 2 * (60_000 / REPLAY_INTERVAL_MS));
    state.down = false;
    await drain(held);
    expect(stored.size).toBe(20);

    // Down again and full again: the first retry comes 200 ms later, not 5 s.
    state.down = true;
    const { held: heldAgain } = await fill('c', 'd');
    const readsNow = asked.length;
    await vi.advanceTimersByTimeAsync(200);
    await eventually(() => expect(asked.length).toBe(readsNow + 1));
    state.down = false;
    await drain(heldAgain);
    expect(stored.size).toBe(40);
    await sink.close();
  });
});
