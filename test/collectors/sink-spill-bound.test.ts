import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { ShouwangEvent } from '../../core/index.js';
import { EventSink, FileDeadLetterSink } from '../../collectors/index.js';
import { ElasticsearchStore } from '../../store/index.js';
import { dropTestIndices } from '../harness/elasticsearch.js';
import { eventually } from '../support/eventually.js';

const url = inject('elasticsearchUrl');
const dir = mkdtempSync(join(tmpdir(), 'shouwang-sink-spill-bound-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const events = (from: number, n: number): ShouwangEvent[] =>
  Array.from({ length: n }, (_, i) => ({ id: `e${from + i}`, '@timestamp': '2026-11-26T10:00:00.000Z', message: `udp ${from + i}` }));

describe('UDP spill while a spool append is still running', () => {
  it('holds at most maxMemoryEvents waiting for the next append, answers false past it (which the UDP handler counts as dropped, as for a full spool), and stores every event it took once', async () => {
    const prefix = `test-${randomUUID().slice(0, 8)}`;
    const store = await ElasticsearchStore.open({ url, indexPrefix: prefix });
    // The spill of the first batch does not finish until the test says so (its observer, part of the spill, waits).
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const observed: string[] = [];
    const sink = new EventSink({
      store: store.events, spoolDir: join(dir, prefix, 'spool'), deadLetters: new FileDeadLetterSink(join(dir, prefix, 'dead')),
      batchSize: 5, flushIntervalMs: 10, replayIntervalMs: 50, maxMemoryEvents: 20,
      observe: (batch) => {
        observed.push(...batch.map((event) => event.id));
        return observed.length === 5 ? held : undefined;
      },
    });
    try {
      const first = sink.spill(events(0, 5));
      await eventually(() => expect(observed).toHaveLength(5)); // on disk; the spill is not done yet
      // A flood meanwhile: 40 datagrams of 5 events.
      const answers: (boolean | undefined)[] = Array.from({ length: 40 }, () => undefined);
      const spills = answers.map((_, i) => sink.spill(events(5 + i * 5, 5)).then((spooled) => (answers[i] = spooled)));
      await eventually(() => expect(answers.filter((answer) => answer === false)).toHaveLength(36));
      expect(answers.slice(0, 4)).toEqual([undefined, undefined, undefined, undefined]); // the first 20 wait for the next append
      expect(sink.memoryEvents).toBe(20);
      release();
      expect(await first).toBe(true);
      await Promise.all(spills);
      expect(answers.slice(0, 4)).toEqual([true, true, true, true]);
      await eventually(async () => expect(await sink.spooledBytes()).toBe(0));
      await store.client.indices.refresh({ index: `${prefix}-*` });
      const stored = await store.events.search({}, { size: 1000 });
      expect(stored.items.map((event) => event.id).sort()).toEqual(events(0, 25).map((event) => event.id).sort());
      expect(sink.memoryEvents).toBe(0);
    } finally {
      release();
      await sink.close();
      await store.close();
      await dropTestIndices(url, prefix);
    }
  }, 120_000);

  it('drops nothing while no append runs: a spill past the bound then goes to disk with what was waiting for the flush timer', async () => {
    const prefix = `test-${randomUUID().slice(0, 8)}`;
    const store = await ElasticsearchStore.open({ url, indexPrefix: prefix });
    const sink = new EventSink({
      store: store.events, spoolDir: join(dir, prefix, 'spool'), deadLetters: new FileDeadLetterSink(join(dir, prefix, 'dead')),
      batchSize: 50, flushIntervalMs: 600_000, replayIntervalMs: 50, maxMemoryEvents: 20,
    });
    try {
      const waiting = sink.spill(events(0, 5)); // below the batch: waits for the timer
      expect(await sink.spill(events(5, 18))).toBe(true);
      expect(await waiting).toBe(true);
      await eventually(async () => expect(await sink.spooledBytes()).toBe(0));
      await store.client.indices.refresh({ index: `${prefix}-*` });
      expect((await store.events.search({}, { size: 100 })).total).toBe(23);
    } finally {
      await sink.close();
      await store.close();
      await dropTestIndices(url, prefix);
    }
  }, 120_000);
});
