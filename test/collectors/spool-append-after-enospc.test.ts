// Needs root (mounts a 256 KiB tmpfs), skipped otherwise. An append that fails part-way (ENOSPC) leaves part of a line at
// the end of the segment being appended; the next append (acknowledged once synced) is glued to it, so that event is a
// "damaged on disk" dead letter at replay, never stored. No crash needed. Same cause as a torn tail after a restart.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { ShouwangEvent } from '../../core/index.js';
import { EventSink, FileDeadLetterSink } from '../../collectors/index.js';
import { fakeEventStore } from './fake-store.js';

const mount = `/tmp/spool-enospc-${randomUUID().slice(0, 8)}`;
let mounted = false;
try {
  mkdirSync(mount, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mount], { stdio: 'ignore' });
  mounted = true;
} catch {
  // not root: skipped below
}
afterAll(() => {
  if (mounted) execFileSync('umount', [mount]);
  rmSync(mount, { recursive: true, force: true });
});
const event = (n: number, size = 10): ShouwangEvent => ({ id: `e${n}`, '@timestamp': '2026-11-26T10:00:00Z', message: `event ${n} ${'x'.repeat(size)}` });

describe.skipIf(!mounted)('a spool append that fails part-way (disk full)', () => {
  it('does not glue the next acknowledged event to the partial line', async () => {
    const spoolDir = join(mount, 'spool');
    const deadDir = `/tmp/spool-enospc-dead-${randomUUID().slice(0, 8)}`; // dead letters on another disk
    const { store, stored, state } = fakeEventStore(true);
    const sink = new EventSink({ store, spoolDir, deadLetters: new FileDeadLetterSink(deadDir), flushIntervalMs: 5, replayIntervalMs: 600_000 });
    try {
      await sink.write([event(1)]); // segment 1
      await sink.write([event(2)]); // segment 2 (one segment only: a fresh one)
      await sink.write([event(3)]); // appended to segment 2
      // The disk fills up (another writer): about 8 KiB left.
      const filler = join(mount, 'filler');
      writeFileSync(filler, Buffer.alloc(256 * 1024 - 12 * 1024));
      const refused = await sink.write([event(4, 64 * 1024)]).then(() => 'acknowledged', (error: Error) => error.message);
      expect(refused).toMatch(/ENOSPC/); // not acknowledged: the sender keeps it
      rmSync(filler); // room again
      await sink.write([event(5)]); // acknowledged: synced to the spool
      state.down = false;
      await sink.replay();
      await sink.replay();
      const letters = readdirSync(deadDir).flatMap((name) => readFileSync(join(deadDir, name), 'utf8').trim().split('\n'))
        .map((line) => (JSON.parse(line) as { raw: string }).raw.slice(0, 40));
      expect({ stored: [...stored].sort(), letters }).toEqual({ stored: ['e1', 'e2', 'e3', 'e5'], letters: expect.any(Array) });
    } finally {
      await sink.close();
      rmSync(deadDir, { recursive: true, force: true });
    }
  });
});
