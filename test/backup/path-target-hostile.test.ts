import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PathTarget } from '../../backup/index.js';

const SET = '20261201T000000Z';
let root: string;
let target: PathTarget;

async function read(path: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of target.openRead(SET, path)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'shouwang-path-hostile-'));
  const set = join(root, SET);
  mkdirSync(join(set, 'db'), { recursive: true });
  writeFileSync(join(set, 'db', 'main.dump'), 'PGDMP');
  mkdirSync(join(root, 'outside'));
  writeFileSync(join(root, 'outside', 'secret'), 'not part of the set');
  symlinkSync(join(root, 'outside', 'secret'), join(set, 'link'));
  symlinkSync(join(root, 'outside'), join(set, 'dir'));
  symlinkSync('/dev/zero', join(set, 'zero'));
  execFileSync('mkfifo', [join(set, 'fifo')]);
  // A character device like /dev/zero (mknod needs root; as another user the FIFO and symlink cases still run).
  try {
    execFileSync('mknod', [join(set, 'zero-device'), 'c', '1', '5'], { stdio: 'ignore' });
  } catch {
    writeFileSync(join(set, 'zero-device'), '');
    rmSync(join(set, 'zero-device'));
  }
  // The set's own directory reached through a symlink inside it stays inside.
  symlinkSync(join(set, 'db'), join(set, 'db-again'));
  target = new PathTarget(root);
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('path target against names a set writer chose', () => {
  it('reads a regular file inside the set', async () => {
    await expect(read('db/main.dump')).resolves.toBe('PGDMP');
  });

  it('does not follow a symbolic link out of the set, as the last step or through a directory', async () => {
    await expect(read('link')).rejects.toThrow(/symbolic link/);
    await expect(read('dir/secret')).rejects.toThrow(/outside its set/);
  });

  it('refuses a FIFO and a device instead of waiting on it or reading without end', async () => {
    await expect(read('fifo')).rejects.toThrow(/not a regular file/);
    await expect(read('zero')).rejects.toThrow(/symbolic link/);
    if (process.getuid?.() === 0) await expect(read('zero-device')).rejects.toThrow(/not a regular file/);
  });

  it('a missing file still fails as ENOENT', async () => {
    await expect(read('absent')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('lists only the regular file: links, FIFOs and devices are not files of the set', async () => {
    expect((await target.listFiles(SET)).map((file) => file.path)).toEqual(['db/main.dump']);
  });
});
