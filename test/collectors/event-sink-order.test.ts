import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ShouwangEvent } from '../../core/index.js';
import { EventSink, FileDeadLetterSink, SyslogServer } from '../../collectors/index.js';
import { StoreErrors, type EventStore, type WriteResult } from '../../store/index.js';
import { eventually } from '../support/eventually.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-sink-order-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const batch = (n: number, size = 2): ShouwangEvent[] =>
  Array.from({ length: size }, (_, i) => ({ id: `b${n}-${i}`, '@timestamp': '2026-11-26T10:00:00Z', message: `batch ${n} event ${i}` }));

/** A plain fake store (pure ordering logic): each write waits until the test answers it, in any order. */
function gatedStore() {
  const calls: { ids: string[]; answer: (outcome: 'stored' | 'down') => void }[] = [];
  const stored: string[] = [];
  const mode = { storeAll: false };
  const store = {
    write: (events: readonly ShouwangEvent[]) => new Promise<WriteResult>((resolve, reject) => {
      const ids = events.map((event) => event.id);
      if (mode.storeAll) {
        stored.push(...ids);
        return resolve({ written: ids.length, duplicates: 0, rejected: [] });
      }
      calls.push({
        ids,
        answer: (outcome) => {
          if (outcome === 'down') return reject(StoreErrors.unavailable('test: node unreachable'));
          const fresh = ids.filter((id) => !stored.includes(id));
          stored.push(...fresh);
          resolve({ written: fresh.length, duplicates: ids.length - fresh.length, rejected: [] });
        },
      });
    }),
  } as unknown as EventStore;
  const callFor = (n: number) => calls.find((call) => call.ids[0] === `b${n}-0`)!;
  return { store, calls, stored, callFor, mode };
}

function sinkOn(store: EventStore, name: string, observed: string[], inFlight = 3) {
  return new EventSink({
    store, spoolDir: join(dir, name, 'spool'), deadLetters: new FileDeadLetterSink(join(dir, name, 'dead')),
    batchSize: 2, flushIntervalMs: 3_600_000, replayIntervalMs: 50, inFlight,
    observe: (events) => observed.push(...events.map((event) => event.id)),
  });
}

describe('event sink with several store writes in flight', () => {
  it('offers up to inFlight batches at once but acknowledges writers in arrival order when later batches finish first', async () => {
    const { store, calls, callFor } = gatedStore();
    const observed: string[] = [];
    const sink = sinkOn(store, 'order', observed);
    const acked: number[] = [];
    const writes = [1, 2, 3].map((n) => sink.write(batch(n)).then(() => acked.push(n)));
    await eventually(() => expect(calls).toHaveLength(3)); // three bulks in flight, none answered
    callFor(3).answer('stored');
    callFor(2).answer('stored');
    // Stored, but an earlier batch is not: no writer may checkpoint past batch 1, and the analyzers see nothing yet.
    await new Promise((resolve) => setImmediate(resolve));
    expect(acked).toEqual([]);
    expect(observed).toEqual([]);
    callFor(1).answer('stored');
    await Promise.all(writes);
    expect(acked).toEqual([1, 2, 3]);
    expect(observed).toEqual(['b1-0', 'b1-1', 'b2-0', 'b2-1', 'b3-0', 'b3-1']);
    await sink.close();
  });

  it('holds a batch past the last free slot and reports busy until a slot frees (the backpressure TCP listens to)', async () => {
    const { store, calls, callFor } = gatedStore();
    const sink = sinkOn(store, 'busy', [], 2);
    const writes = [1, 2, 3, 4].map((n) => sink.write(batch(n)));
    await eventually(() => expect(calls).toHaveLength(2));
    expect(sink.busy).toBe(true); // batches 3 and 4 wait for 1 and 2
    callFor(2).answer('stored');
    await eventually(() => expect(calls).toHaveLength(3));
    expect(sink.busy).toBe(true); // batch 4 still waits
    callFor(1).answer('stored');
    await eventually(() => expect(calls).toHaveLength(4));
    expect(sink.busy).toBe(false);
    callFor(3).answer('stored');
    callFor(4).answer('stored');
    await Promise.all(writes);
    await sink.close();
  });

  it('spools a batch the store was down for while later ones were stored, acknowledges in order, and replays it once', async () => {
    const { store, calls, stored, callFor } = gatedStore();
    const observed: string[] = [];
    const sink = sinkOn(store, 'down', observed);
    const acked: number[] = [];
    const writes = [1, 2, 3].map((n) => sink.write(batch(n)).then(() => acked.push(n)));
    await eventually(() => expect(calls).toHaveLength(3));
    callFor(2).answer('stored');
    callFor(3).answer('stored');
    callFor(1).answer('down');
    await Promise.all(writes);
    expect(acked).toEqual([1, 2, 3]); // batch 1 spooled (durable), then 2 and 3
    expect(observed.slice(0, 2)).toEqual(['b1-0', 'b1-1']);
    expect(await sink.spooledBytes()).toBeGreaterThan(0);
    // The store is back: replay offers batch 1 again.
    await eventually(() => expect(calls.length).toBeGreaterThan(3));
    calls[calls.length - 1]!.answer('stored');
    await eventually(async () => expect(await sink.spooledBytes()).toBe(0));
    expect([...stored].sort()).toEqual(['b1-0', 'b1-1', 'b2-0', 'b2-1', 'b3-0', 'b3-1']);
    await sink.close();
  });

  it('pauses a TCP sender while every slot is busy and a batch waits, whatever the per-connection limit, and loses nothing', async () => {
    const { store, calls, stored, mode } = gatedStore();
    const sink = new EventSink({
      store, spoolDir: join(dir, 'tcp', 'spool'), deadLetters: new FileDeadLetterSink(join(dir, 'tcp', 'dead')),
      batchSize: 100, flushIntervalMs: 20, inFlight: 2,
    });
    let received = 0;
    const server = new SyslogServer({
      tcpPort: 0, maxInFlight: 1_000_000, whenSinkFree: () => sink.whenFree(),
      onMessage: async (message) => {
        received += 1;
        await sink.write([{ id: `m${received}`, '@timestamp': '2026-11-26T10:00:00Z', message: message.toString() }]);
      },
    });
    await server.start();
    const socket = connect({ port: server.ports.tcp!, host: '127.0.0.1' });
    await new Promise((resolve) => socket.once('connect', resolve));
    const total = 20_000;
    socket.write(Array.from({ length: total }, (_, n) => `<13>Nov 26 10:00:00 host app: message ${n} ${'x'.repeat(200)}\n`).join(''));
    await eventually(() => expect(server.pausedConnections).toBe(1));
    expect(calls).toHaveLength(2);
    expect(sink.busy).toBe(true);
    expect(received).toBeLessThan(total / 2); // the rest waits in the kernel's buffers, not in ours
    mode.storeAll = true;
    calls.splice(0).forEach((call) => call.answer('stored'));
    await eventually(() => expect(stored).toHaveLength(total));
    expect(new Set(stored).size).toBe(total);
    socket.end();
    await server.close();
    await sink.close();
  });

  it('replays a spooled backlog through the store slots, several bulks at once, and stores it once', async () => {
    const { store, calls, stored } = gatedStore();
    const sink = sinkOn(store, 'replay', [], 3);
    const answered = new Set<(typeof calls)[number]>();
    const answerAll = (outcome: 'stored' | 'down') => calls.filter((call) => !answered.has(call)).forEach((call) => (answered.add(call), call.answer(outcome)));
    // The store is down for four batches: all spooled (the first alone in its segment, the others after it).
    const writes = Promise.all([1, 2, 3, 4].map((n) => sink.write(batch(n))));
    const down = setInterval(() => answerAll('down'), 5);
    await writes;
    clearInterval(down);
    const spooledCalls = calls.length;
    // Back: the replay asks once alone, then up to three at once.
    let most = 0;
    await eventually(() => {
      const open = calls.filter((call) => !answered.has(call)).length;
      most = Math.max(most, open);
      if (open < 2) answerAll('stored');
      expect(most).toBeGreaterThanOrEqual(2);
    }, { interval: 5 });
    const rest = setInterval(() => answerAll('stored'), 5);
    await eventually(async () => expect(await sink.spooledBytes()).toBe(0));
    clearInterval(rest);
    expect(calls.length).toBeGreaterThan(spooledCalls);
    expect([...stored].sort()).toEqual([1, 2, 3, 4].flatMap((n) => batch(n).map((event) => event.id)).sort());
    await sink.close();
  });

  it('with inFlight 1 offers one batch at a time', async () => {
    const { store, calls, callFor } = gatedStore();
    const sink = sinkOn(store, 'one', [], 1);
    const writes = [1, 2].map((n) => sink.write(batch(n)));
    await eventually(() => expect(calls).toHaveLength(1));
    expect(sink.busy).toBe(true);
    callFor(1).answer('stored');
    await eventually(() => expect(calls).toHaveLength(2));
    callFor(2).answer('stored');
    await Promise.all(writes);
    await sink.close();
  });

  it('sends a part batch at once while a store slot is free, instead of waiting for the flush timer (an hour here), also right after the sink is made', async () => {
    const { store, calls, callFor } = gatedStore();
    const sink = sinkOn(store, 'prompt', [], 2);
    const lone = sink.write(batch(1, 1)); // batchSize is 2: before, this waited the full flushIntervalMs
    await eventually(() => expect(calls).toHaveLength(1));
    callFor(1).answer('stored');
    await lone;
    await sink.close();
  });

  it('gathers what arrives while every slot is busy into one batch, sent as soon as a slot frees', async () => {
    const { store, calls, callFor } = gatedStore();
    const sink = sinkOn(store, 'gather', [], 1);
    const first = sink.write(batch(1, 1));
    await eventually(() => expect(calls).toHaveLength(1));
    // One event per write, as a syslog listener writes them: with the slot busy they wait together.
    const later = [2, 3].map((n) => sink.write(batch(n, 1)));
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toHaveLength(1);
    callFor(1).answer('stored');
    await eventually(() => expect(calls).toHaveLength(2));
    expect(calls[1]!.ids).toEqual(['b2-0', 'b3-0']);
    calls[1]!.answer('stored');
    await Promise.all([first, ...later]);
    await sink.close();
  });

  it('observes the next batch while the observer still saves the last one, and answers each writer only once its own save is done, in order', async () => {
    const { store, mode } = gatedStore();
    mode.storeAll = true;
    const observed: string[][] = [];
    const saves: (() => void)[] = [];
    const sink = new EventSink({
      store, spoolDir: join(dir, 'observe', 'spool'), deadLetters: new FileDeadLetterSink(join(dir, 'observe', 'dead')),
      batchSize: 2, flushIntervalMs: 10_000, replayIntervalMs: 50, inFlight: 3,
      // The analyzers' state save: a disk sync that finishes when the test says so.
      observe: (events) => {
        observed.push(events.map((event) => event.id));
        return new Promise<void>((resolve) => saves.push(resolve));
      },
    });
    const acked: number[] = [];
    const writes = [1, 2].map((n) => sink.write(batch(n)).then(() => acked.push(n)));
    // Batch 2 is observed while batch 1's save is still on its way to disk.
    await eventually(() => expect(observed).toEqual([['b1-0', 'b1-1'], ['b2-0', 'b2-1']]));
    saves[1]!();
    await new Promise((resolve) => setImmediate(resolve));
    expect(acked).toEqual([]); // batch 1's state is not on disk: no writer (no file checkpoint) may move yet
    saves[0]!();
    await Promise.all(writes);
    expect(acked).toEqual([1, 2]);
    await sink.close();
  });

  it('with a backlog on disk and the store down, one-event writes gather into batches instead of one spool append each', async () => {
    const { store, calls } = gatedStore();
    const observed: number[] = [];
    const sink = new EventSink({
      store, spoolDir: join(dir, 'backlog', 'spool'), deadLetters: new FileDeadLetterSink(join(dir, 'backlog', 'dead')),
      batchSize: 50, flushIntervalMs: 20, replayIntervalMs: 60_000, inFlight: 3,
      observe: (events) => observed.push(events.length),
    });
    const first = sink.write(batch(0, 1));
    await eventually(() => expect(calls).toHaveLength(1));
    calls[0]!.answer('down');
    await first; // spooled: the backlog every later batch queues behind
    const writes: Promise<unknown>[] = [];
    for (let n = 1; n <= 200; n += 1) {
      writes.push(sink.write(batch(n, 1)));
      await new Promise((resolve) => setImmediate(resolve)); // one event per turn, as a slow trickle of syslog
    }
    await Promise.all(writes);
    expect(observed.slice(1).reduce((sum, n) => sum + n, 0)).toBe(200);
    expect(observed.length - 1).toBeLessThanOrEqual(20); // a flush per batch of 50 or per 20 ms, not 200
    await sink.close();
  });
});
