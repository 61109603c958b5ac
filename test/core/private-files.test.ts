import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writePrivateFileAtomically } from '../../core/index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'shouwang-private-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const modeOf = (path: string) => statSync(path).mode & 0o777;

describe('writePrivateFileAtomically', () => {
  it('creates the missing folder 0700 and the file 0600 whatever the umask', async () => {
    const old = process.umask(0);
    try {
      const path = join(dir, 'checkpoints', 'state.json');
      await writePrivateFileAtomically(path, '{"a":1}\n');
      expect(readFileSync(path, 'utf8')).toBe('{"a":1}\n');
      expect(modeOf(path)).toBe(0o600);
      expect(modeOf(join(dir, 'checkpoints'))).toBe(0o700);
    } finally {
      process.umask(old);
    }
  });

  it('replaces the whole file, also over a 0644 temporary file an older version left behind', async () => {
    const path = join(dir, 'rules-disabled.json');
    writeFileSync(path, 'x'.repeat(10_000));
    writeFileSync(`${path}.tmp`, 'left over', { mode: 0o644 });
    await writePrivateFileAtomically(path, 'short\n');
    expect(readFileSync(path, 'utf8')).toBe('short\n');
    expect(modeOf(path)).toBe(0o600);
  });
});
