// With the state read lazily (when the write starts), a save still resolves only once the state of its
// call, or a newer one, is on disk; a failed write refuses every call that shared it; a throwing read refuses too.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { CorrelationStateFile } from '../../../analyzers/correlation/state-file.js';

const dir = mkdtempSync(join(tmpdir(), 'state-lazy-state-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.useRealTimers());

describe('lazy correlation state save', () => {
  it('a resolved save means the state at its call (or newer) is on disk, across bursts', async () => {
    const file = new CorrelationStateFile(join(dir, 'a.json'));
    let version = 0;
    const checks: Promise<void>[] = [];
    for (let i = 0; i < 200; i += 1) {
      version += 1;
      const atCall = version;
      checks.push(file.save(() => ({ version })).then(() => {
        const onDisk = (JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8')) as { version: number }).version;
        expect(onDisk).toBeGreaterThanOrEqual(atCall);
      }));
      if (i % 7 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(checks);
  });

  it('a failed write refuses every call sharing it; a read that throws refuses its calls; the next save works', async () => {
    // A file where the folder should be: the write fails for any user, root included.
    const sub = join(dir, 'blocked');
    writeFileSync(sub, 'not a folder');
    const file = new CorrelationStateFile(join(sub, 'b.json'));
    const first = file.save(() => ({ n: 1 }));
    const second = file.save(() => ({ n: 2 }));
    const third = file.save(() => ({ n: 3 }));
    const results = await Promise.allSettled([first, second, third]);
    rmSync(sub);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    await expect(file.save(() => { throw new Error('hostile state'); })).rejects.toThrow('hostile state');
    await expect(file.save(() => ({ big: 1n }))).rejects.toThrow();
    await file.save(() => ({ n: 4 }));
    expect(JSON.parse(readFileSync(join(sub, 'b.json'), 'utf8'))).toEqual({ n: 4 });
  });
});

describe('a correlation state that is slow to serialise (a brute force fills the reorder buffer)', () => {
  it('is read and written again only after four times its last serialisation; the calls made meanwhile share that write', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    // The clock the file measures with moves only while the state is read: each read "costs" 100 ms.
    let clock = 0;
    const reads: number[] = [];
    const read = (n: number) => () => {
      reads.push(n);
      clock += 100;
      return { n };
    };
    const file = new CorrelationStateFile(join(dir, 'slow.json'), { now: () => clock });
    await file.save(read(1));
    expect(reads).toEqual([1]);

    const later = [file.save(read(2)), file.save(read(3)), file.save(read(4))];
    let settled = 0;
    later.forEach((save) => void save.then(() => (settled += 1)));
    await vi.advanceTimersByTimeAsync(399);
    clock += 399;
    expect({ reads, settled }).toEqual({ reads: [1], settled: 0 });
    await vi.advanceTimersByTimeAsync(1);
    clock += 1;
    await Promise.all(later);
    expect(reads).toEqual([1, 4]);
    expect(JSON.parse(readFileSync(join(dir, 'slow.json'), 'utf8'))).toEqual({ n: 4 });
  });

  it('writes a state that is quick to serialise again at once', async () => {
    const file = new CorrelationStateFile(join(dir, 'quick.json'), { now: () => 0 });
    const reads: number[] = [];
    for (let n = 1; n <= 3; n += 1) await file.save(() => reads.push(n));
    expect(reads).toEqual([1, 2, 3]);
  });
});
