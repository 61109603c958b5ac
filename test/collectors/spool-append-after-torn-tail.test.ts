// after a crash tore the last append of the NEWEST of two or more segments, the restarted spool appends
// new (acknowledged) events to that same segment, right after the torn bytes: the first new event is glued to the torn
// line, the whole line is "damaged on disk", and the acknowledged event becomes a dead letter instead of being stored.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ShouwangEvent } from '../../core/index.js';
import { EventSink, FileDeadLetterSink } from '../../collectors/index.js';
import { eventually } from '../support/eventually.js';
import { fakeEventStore } from './fake-store.js';

const dir = mkdtempSync(join(tmpdir(), 'spool-torn-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const event = (n: number): ShouwangEvent => ({ id: `e${n}`, '@timestamp': '2026-11-26T10:00:00Z', message: `event ${n}` });

describe('a torn tail on the newest of several segments', () => {
  it('an event acknowledged after the restart is stored, not glued to the torn line', async () => {
    const spoolDir = join(dir, 'spool');
    mkdirSync(spoolDir, { recursive: true });
    writeFileSync(join(spoolDir, '000000000001.ndjson'), `${JSON.stringify(event(1))}\n`);
    // kill -9 during the append to the newest segment: its last line has no newline.
    writeFileSync(join(spoolDir, '000000000002.ndjson'), `${JSON.stringify(event(2))}\n${JSON.stringify(event(3)).slice(0, 20)}`);
    const { store, stored, state } = fakeEventStore(true);
    const deadDir = join(dir, 'dead');
    const sink = new EventSink({ store, spoolDir, deadLetters: new FileDeadLetterSink(deadDir), flushIntervalMs: 10, replayIntervalMs: 600_000 });
    await sink.replay(); // the store is down: segment 1 stays, segment 2 is not read
    await sink.write([event(10)]); // acknowledged: on disk in the spool
    state.down = false;
    await sink.replay();
    await eventually(async () => expect(await sink.spooledBytes()).toBe(0));
    await sink.close();
    const letters = readdirSync(deadDir).flatMap((name) => readFileSync(join(deadDir, name), 'utf8').trim().split('\n'))
      .map((line) => JSON.parse(line) as { reason: string; raw: string });
    expect({ stored: [...stored].sort(), letters: letters.map((l) => l.raw) })
      .toEqual({ stored: ['e1', 'e10', 'e2'], letters: [JSON.stringify(event(3)).slice(0, 20)] });
  });
});
