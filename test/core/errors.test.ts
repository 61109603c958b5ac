import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const SOURCE_DIRS = ['core', 'store', 'collectors', 'analyzers', 'backup', 'evidence', 'console', 'bin'];

/** Every `defineError('SW_ERR_…'` in the source, wherever a folder declares its errors. */
function declaredCodes(): string[] {
  const codes: string[] = [];
  for (const dir of SOURCE_DIRS) {
    for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
      const text = readFileSync(join(entry.parentPath, entry.name), 'utf8');
      for (const match of text.matchAll(/defineError\(\s*'(SW_ERR_[A-Z0-9_]+)'/g)) codes.push(match[1]!);
    }
  }
  return codes;
}

describe('error codes', () => {
  it('are unique and each is documented in docs/reference/errors.md', () => {
    const codes = declaredCodes();
    expect(codes.length).toBeGreaterThan(30); // the scan finds the folders' error sets
    expect(codes.filter((code, i) => codes.indexOf(code) !== i)).toEqual([]);
    const table = readFileSync('docs/reference/errors.md', 'utf8');
    expect(codes.filter((code) => !table.includes(`| \`${code}\` |`))).toEqual([]);
  });
});
