import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AssetIndex, loadInventory, type ShouwangEvent } from '../../core/index.js';
import {
  EventSink, FileCheckpoints, FileDeadLetterSink, FileTailer, ingestLines, resolveFormat, type FileSourceConfig, type TailSink,
} from '../../collectors/index.js';
import type { EventStore, WriteResult } from '../../store/index.js';
import { eventually } from '../support/eventually.js';

const root = mkdtempSync(join(tmpdir(), 'shouwang-tail-in-flight-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const assets = new AssetIndex(loadInventory('config/inventory.demo.yaml'));
// Lines 10…33: all the same length, so a chunk of two lines is one write of two events.
const line = (n: number) => `Nov 20 10:00:01 gaj-jwzh-app01 app[7]: line ${n} of the test\n`;
const LINE = Buffer.byteLength(line(10));
const LINES = Array.from({ length: 24 }, (_, i) => 10 + i);

/** A plain fake store (pure ordering logic): writes wait until the test answers them, in any order; `stored` is shared across restarts. */
function gatedStore(stored: Map<string, string>, gated = true) {
  const calls: { messages: string[]; answer: () => void }[] = [];
  const store = {
    write: (events: readonly ShouwangEvent[]) => new Promise<WriteResult>((resolve) => {
      const answer = () => {
        const fresh = events.filter((event) => !stored.has(event.id));
        for (const event of fresh) stored.set(event.id, String(event.message));
        resolve({ written: fresh.length, duplicates: events.length - fresh.length, rejected: [] });
      };
      if (gated) calls.push({ messages: events.map((event) => String(event.message)), answer });
      else answer();
    }),
  } as unknown as EventStore;
  /** The write holding line n (its batch: lines n and n+1). */
  const callFor = (n: number) => calls.find((call) => call.messages[0]?.includes(`line ${n} `))!;
  return { store, calls, callFor };
}

function tailerOn(dir: string, name: string, store: EventStore, file: string, checkpointPath: string) {
  const deadLetters = new FileDeadLetterSink(join(dir, name, 'dead'));
  const sink = new EventSink({ store, spoolDir: join(dir, name, 'spool'), deadLetters, batchSize: 2, flushIntervalMs: 10_000, inFlight: 3 });
  const source: FileSourceConfig = {
    id: 'files', paths: [file], format: 'syslog', encoding: 'utf-8', startAt: 'beginning', pollMs: 20, maxLineBytes: 4096,
  };
  const start = () => FileTailer.start({ source, sink, assets, deadLetters, checkpointPath, chunkBytes: 2 * LINE, maxInFlight: 4 });
  return { sink, start };
}

describe('file source with several writes in flight', () => {
  it('keeps three batches at the store, moves the checkpoint only past acknowledged ones when they finish out of order, and a restart from it loses and doubles nothing', async () => {
    const dir = mkdtempSync(join(root, 'case-'));
    mkdirSync(join(dir, 'logs'));
    const file = join(dir, 'logs', 'app.log');
    writeFileSync(file, LINES.map(line).join(''));
    const stored = new Map<string, string>();
    const first = gatedStore(stored);
    const run = tailerOn(dir, 'first', first.store, file, join(dir, 'first', 'checkpoints.json'));
    const tailer = await run.start();

    // Three writes at the store at once; the fourth waits for a slot and the reader pauses.
    await eventually(() => expect(first.calls).toHaveLength(3));
    expect(run.sink.busy).toBe(true);
    first.callFor(14).answer();
    first.callFor(12).answer();
    // A freed slot took the waiting batch; the reader waits, four writes being unacknowledged (maxInFlight).
    await eventually(() => expect(first.calls).toHaveLength(4));
    // Stored, but the first batch is not: the checkpoint stays at the file's start.
    expect(tailer.checkpoint(file)?.offset).toBe(0);
    first.callFor(10).answer();
    await eventually(() => expect(tailer.checkpoint(file)?.offset).toBe(6 * LINE)); // lines 10–15, acknowledged in order
    await eventually(() => expect(first.calls).toHaveLength(6)); // reading went on: lines 18–21 at the store, 22–23 waiting
    first.callFor(18).answer(); // ahead of 16, still unanswered
    await eventually(() => expect(first.calls).toHaveLength(7));
    expect(tailer.checkpoint(file)?.offset).toBe(6 * LINE);

    // Killed now: what survives is that checkpoint. A restart reads from it into a store that answers at once.
    const checkpoint = tailer.checkpoint(file)!;
    const saved = await FileCheckpoints.load(join(dir, 'second', 'checkpoints.json'));
    const info = statSync(file, { bigint: true });
    saved.set(`${info.dev}:${info.ino}`, checkpoint);
    await saved.save();
    const second = tailerOn(dir, 'second', gatedStore(stored, false).store, file, join(dir, 'second', 'checkpoints.json'));
    const restarted = await second.start();
    try {
      await eventually(() => expect(stored.size).toBe(24));
      await restarted.nextPoll();
      await second.sink.flush();
      expect(restarted.checkpoint(file)?.offset).toBe(24 * LINE);
      // Every line once: ids come from the file and the offset, so lines 18–19 stored before the kill were not stored again.
      expect([...stored.values()].map((message) => Number(/line (\d+)/.exec(message)![1])).sort((a, b) => a - b)).toEqual(LINES);
    } finally {
      await restarted.close();
      await second.sink.close();
      // The killed run is let go: its writes answered, so it can stop.
      const answerAll = () => first.calls.splice(0).forEach((call) => call.answer());
      const timer = setInterval(answerAll, 10);
      await tailer.close();
      await run.sink.close();
      clearInterval(timer);
    }
  });

  it('reads again from the last acknowledged batch when the sink refuses one with later ones already written', async () => {
    const dir = mkdtempSync(join(root, 'refused-'));
    const file = join(dir, 'app.log');
    writeFileSync(file, LINES.map(line).join(''));
    const taken: string[] = [];
    const answers: { ok: boolean; settle: () => void }[] = [];
    let writes = 0;
    // Answers out of order, the second write refused (as an EventSink never does out of order, but the tailer must not rely on it).
    const sink: TailSink = {
      saturated: false,
      write: (events) => new Promise<void>((resolve, reject) => {
        const ok = ++writes !== 2;
        answers.push({ ok, settle: () => (ok ? (taken.push(...events.map((event) => String(event.message))), resolve()) : reject(new Error('refused'))) });
      }),
    };
    const tailer = await FileTailer.start({
      source: { id: 'refused', paths: [file], format: 'syslog', encoding: 'utf-8', startAt: 'beginning', pollMs: 20, maxLineBytes: 4096 },
      sink, assets, deadLetters: new FileDeadLetterSink(join(dir, 'dead')), checkpointPath: join(dir, 'checkpoints.json'), chunkBytes: 2 * LINE, maxInFlight: 3,
    });
    try {
      await eventually(() => expect(answers).toHaveLength(3));
      answers[2]!.settle();
      answers[1]!.settle(); // refused: lines 12–13
      answers[0]!.settle();
      await eventually(() => expect(tailer.checkpoint(file)?.offset).toBe(2 * LINE)); // only lines 10–11 are acknowledged
      const settleAll = setInterval(() => answers.forEach((answer) => answer.settle()), 5);
      try {
        await eventually(() => expect(tailer.checkpoint(file)?.offset).toBe(24 * LINE));
      } finally {
        clearInterval(settleAll);
      }
      const lineNumbers = new Set(taken.map((message) => Number(/line (\d+)/.exec(message)![1])));
      expect([...lineNumbers].sort((a, b) => a - b)).toEqual(LINES);
    } finally {
      await tailer.close();
    }
  });
});

describe('file source whose correlation state cannot be saved', () => {
  it('keeps its checkpoint before the events whose state save failed, reads them again, and moves on once saves work', async () => {
    const dir = mkdtempSync(join(root, 'unsaved-'));
    const file = join(dir, 'app.log');
    writeFileSync(file, LINES.map(line).join(''));
    const stored = new Map<string, string>();
    let diskFull = true;
    const analysed: string[] = [];
    // The analyzers' observer as bin/runtime.ts wires it: analyse, then save the state (here: a disk that is full, then not).
    const sink = new EventSink({
      store: gatedStore(stored, false).store, spoolDir: join(dir, 'spool'), deadLetters: new FileDeadLetterSink(join(dir, 'dead')),
      batchSize: 2, flushIntervalMs: 10_000, inFlight: 3,
      observe: (events) => {
        analysed.push(...events.map((event) => String(event.message)));
        return diskFull ? Promise.reject(new Error('ENOSPC: no space left on device')) : Promise.resolve();
      },
    });
    const tailer = await FileTailer.start({
      source: { id: 'unsaved', paths: [file], format: 'syslog', encoding: 'utf-8', startAt: 'beginning', pollMs: 20, maxLineBytes: 4096 },
      sink, assets, deadLetters: new FileDeadLetterSink(join(dir, 'dead')), checkpointPath: join(dir, 'checkpoints.json'), chunkBytes: 2 * LINE, maxInFlight: 4,
    });
    try {
      await eventually(() => expect(analysed.length).toBeGreaterThanOrEqual(8)); // read, stored and analysed, more than once
      expect(tailer.checkpoint(file)?.offset ?? 0).toBe(0); // before: it moved on as if the state were on disk
      diskFull = false;
      await eventually(() => expect(tailer.checkpoint(file)?.offset).toBe(24 * LINE));
      expect(stored.size).toBe(24); // read again, stored once (ids from the file and offset)
    } finally {
      await tailer.close();
      await sink.close();
    }
  });
});

describe('shouwang ingest (ingestLines) with several writes in flight', () => {
  it('keeps three batches at the store, answers only once every batch is acknowledged, and stores each line once', async () => {
    const dir = mkdtempSync(join(root, 'ingest-'));
    const stored = new Map<string, string>();
    const { store, calls, callFor } = gatedStore(stored);
    const deadLetters = new FileDeadLetterSink(join(dir, 'dead'));
    const sink = new EventSink({ store, spoolDir: join(dir, 'spool'), deadLetters, batchSize: 2, flushIntervalMs: 10_000, inFlight: 3 });
    const lines = LINES.map((n, i) => ({ text: line(n).trimEnd(), position: `app.log:${i + 1}` }));
    let finished = false;
    const ingest = ingestLines(lines, { source: 'app', format: resolveFormat({ source: 'app', format: 'syslog', assets }), sink, deadLetters, batchSize: 2, inFlight: 4 })
      .then((stats) => ((finished = true), stats));
    try {
      await eventually(() => expect(calls).toHaveLength(3)); // one at a time before
      callFor(14).answer();
      callFor(12).answer();
      await eventually(() => expect(calls).toHaveLength(4));
      expect(sink.busy).toBe(false);
      callFor(16).answer();
      // Four writes unacknowledged (inFlight): reading waits for the first, whatever came after it.
      await eventually(() => expect(stored.size).toBe(6));
      expect(calls).toHaveLength(4);
      expect(finished).toBe(false);
      callFor(10).answer();
      const all = setInterval(() => calls.forEach((call) => call.answer()), 5);
      try {
        expect(await ingest).toEqual({ lines: 24, events: 24, deadLettered: 0 });
      } finally {
        clearInterval(all);
      }
      expect([...stored.values()].map((message) => Number(/line (\d+)/.exec(message)![1])).sort((a, b) => a - b)).toEqual(LINES);
    } finally {
      calls.forEach((call) => call.answer());
      await sink.close();
    }
  });

  it('fails the ingest when the sink refuses a write, with later refusals in flight handled too', async () => {
    const dir = mkdtempSync(join(root, 'ingest-refused-'));
    let writes = 0;
    const pending: (() => void)[] = [];
    const sink = {
      write: (events: readonly ShouwangEvent[]) => new Promise<{ deadLettered: [] }>((resolve, reject) => {
        const n = ++writes;
        pending.push(() => (n === 1 ? resolve({ deadLettered: [] }) : reject(new Error(`refused write ${n} of ${events.length}`))));
      }),
      flush: async () => undefined,
    };
    const lines = LINES.map((n, i) => ({ text: line(n).trimEnd(), position: `app.log:${i + 1}` }));
    const ingest = ingestLines(lines, {
      source: 'app', format: resolveFormat({ source: 'app', format: 'syslog', assets }), sink, deadLetters: new FileDeadLetterSink(join(dir, 'dead')),
      batchSize: 2, inFlight: 3,
    });
    await eventually(() => expect(pending).toHaveLength(3));
    pending.forEach((settle) => settle()); // 1 taken, 2 and 3 refused
    await expect(ingest).rejects.toThrow(/refused write 2/);
  });
});
