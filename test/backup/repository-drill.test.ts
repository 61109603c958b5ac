import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { drillLatestSnapshot } from '../../backup/drill/repository-drill.js';
import type { RepositoryTarget } from '../../backup/targets/index.js';

/** A repository whose listing an attacker with write access wrote: one path climbs out of the restore directory. */
function hostileRepository(files: Record<string, string>, reads: string[]): RepositoryTarget {
  const time = new Date('2026-12-06T02:00:00Z');
  return {
    kind: 'restic', description: 'restic:/srv/hostile',
    listSets: async () => [{ name: '20261206T020000Z', time }],
    listFiles: async () => Object.entries(files).map(([path, text]) => ({ path, size: Buffer.byteLength(text) })),
    restore: async (_set: string, dir: string) => {
      for (const [path, text] of Object.entries(files)) {
        if (path.includes('..')) continue; // the tool itself keeps files inside its target
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), text);
      }
    },
    openRead: (_set: string, path: string) => {
      reads.push(path);
      return Readable.from([Buffer.from(files[path] ?? '')]);
    },
    checkRepository: async () => ({ ok: true, command: 'restic check', output: '' }),
    readSmallFile: async () => undefined,
    close: async () => {},
  } as unknown as RepositoryTarget;
}

describe('snapshot drill over a hostile listing', () => {
  it('reports a listed path that leaves the restore directory as a finding and never reads or hashes it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'shouwang-repo-drill-'));
    const outside = join(root, 'secret.txt');
    writeFileSync(outside, 'not part of any backup');
    const reads: string[] = [];
    const restoreDir = join(root, 'restore', 'deep');
    const target = hostileRepository({ 'etc/app.conf': 'port=8080\n', '../../secret.txt': 'not part of any backup' }, reads);
    const drill = await drillLatestSnapshot(target, restoreDir, AbortSignal.timeout(10_000), 10);
    expect(drill.mismatches).toEqual(['"../../secret.txt": 路径越界 unsafe path']);
    expect(reads).toEqual(['etc/app.conf']);
    expect(readFileSync(outside, 'utf8')).toBe('not part of any backup');
  });
});
