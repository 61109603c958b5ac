import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ShouwangEvent } from '../../core/index.js';
import { EventSink, FileDeadLetterSink } from '../../collectors/index.js';
import { eventually } from '../support/eventually.js';
import { fakeEventStore } from './fake-store.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-spool-torn-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const event = (n: number): ShouwangEvent => ({ id: `e${n}`, '@timestamp': '2026-11-26T10:00:00Z', message: `event ${n}` });

describe('a spool segment torn by a crash (kill -9 in the middle of an append)', () => {
  it('replays the whole lines it holds and the store gets new events again after the restart', async () => {
    // What an earlier process left: two whole lines and a third cut short (appendFile writes in 512 KiB chunks).
    const spoolDir = join(dir, 'spool');
    mkdirSync(spoolDir, { recursive: true });
    const whole = [event(1), event(2)].map((e) => JSON.stringify(e)).join('\n');
    writeFileSync(join(spoolDir, '000000000001.ndjson'), `${whole}\n${JSON.stringify(event(3)).slice(0, 20)}`);
    const { store, stored } = fakeEventStore();
    const sink = new EventSink({ store, spoolDir, deadLetters: new FileDeadLetterSink(join(dir, 'dead')), flushIntervalMs: 10, replayIntervalMs: 20 });
    await sink.write([event(10)]);
    await eventually(() => expect([...stored].sort()).toEqual(['e1', 'e10', 'e2']));
    await eventually(async () => expect(await sink.spooledBytes()).toBe(0));
    await sink.close();
    // The torn line is not dropped silently: it is a dead letter that says why.
    const letters = readdirSync(join(dir, 'dead')).flatMap((name) => readFileSync(join(dir, 'dead', name), 'utf8').trim().split('\n'))
      .map((line) => JSON.parse(line) as { reason: string; raw: string });
    expect(letters).toEqual([expect.objectContaining({ reason: expect.stringContaining('cut short by a crash'), raw: JSON.stringify(event(3)).slice(0, 20) })]);
  });
});

describe('a spool segment rewrite cut short by a crash (the replay keeps only what is left of a segment)', () => {
  it('removes the half-written copy at start and replays the segment, which the rewrite never touched', async () => {
    const spoolDir = join(dir, 'rewrite', 'spool');
    mkdirSync(spoolDir, { recursive: true });
    writeFileSync(join(spoolDir, '000000000001.ndjson'), [event(1), event(2)].map((e) => `${JSON.stringify(e)}\n`).join(''));
    writeFileSync(join(spoolDir, '000000000001.ndjson.tmp'), JSON.stringify(event(2)).slice(0, 7));
    const { store, stored } = fakeEventStore();
    const sink = new EventSink({ store, spoolDir, deadLetters: new FileDeadLetterSink(join(dir, 'rewrite', 'dead')), replayIntervalMs: 600_000 });
    await sink.replay();
    await sink.close();
    expect([...stored].sort()).toEqual(['e1', 'e2']);
    expect(readdirSync(spoolDir)).toEqual([]);
  });
});
