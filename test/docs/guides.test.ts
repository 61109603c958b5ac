import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readText } from './markdown.js';
import { runnableBlocks } from './runnable.js';

const REPO = resolve('.');
const GUIDES = readdirSync('docs/guides').filter((name) => name.endsWith('.md')).map((name) => join('docs/guides', name));

/**
 * A fresh "repository folder" per guide: the guides are read as run from it (config/, rules/, the built
 * dist/), with `data/` its own. `shouwang` is the built CLI, as `alias shouwang='node dist/bin/shouwang.js'`.
 */
function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'shouwang-guide-'));
  for (const name of ['config', 'rules', 'dist', 'node_modules', 'package.json']) symlinkSync(join(REPO, name), join(dir, name));
  return dir;
}

/** The environment without any SHOUWANG_* setting of this machine, so the guide's own settings decide. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('SHOUWANG_')));
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe('runnable blocks', () => {
  it('finds blocks, their stated output and exit code', () => {
    const blocks = runnableBlocks('x.md', 'text\n<!-- runnable exit=1 -->\n```sh\nshouwang a\n# → 通过 pass\n```\n```sh\nnot runnable\n```\n');
    expect(blocks).toEqual([{ page: 'x.md', line: 3, script: 'shouwang a\n# → 通过 pass', exitCode: 1, expected: ['通过 pass'] }]);
    expect(() => runnableBlocks('y.md', '<!-- runnable -->\ntext\n')).toThrow(/not followed/);
  });

  it('every guide with commands has runnable ones', () => {
    const counts = Object.fromEntries(GUIDES.map((page) => [page, runnableBlocks(page, readText(page)).length]));
    expect(counts['docs/guides/backup-drills.md']).toBeGreaterThan(2);
    expect(counts['docs/guides/evidence.md']).toBeGreaterThan(2);
  });
});

for (const page of GUIDES) {
  const blocks = runnableBlocks(page, readText(page));
  if (!blocks.length) continue;
  describe(page, () => {
    const dir = workspace();
    dirs.push(dir);
    for (const block of blocks) {
      it(`runs the block at line ${block.line} (exit ${block.exitCode})`, () => {
        const script = `set -euo pipefail\nshouwang() { node ${JSON.stringify(join(REPO, 'dist/bin/shouwang.js'))} "$@"; }\n${block.script}\n`;
        const run = spawnSync('bash', ['-c', script], { cwd: dir, env: cleanEnv(), encoding: 'utf8', timeout: 170_000 });
        const output = `${run.stdout}${run.stderr}`;
        expect(run.status, `${page}:${block.line}\n${output}`).toBe(block.exitCode);
        for (const text of block.expected) expect(output, `${page}:${block.line} should print "${text}"`).toContain(text);
      }, 180_000);
    }
  });
}
