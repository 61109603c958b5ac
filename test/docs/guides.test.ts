import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureExecutable } from '../../core/index.js';
import { readText } from './markdown.js';
import { runnableBlocks } from './runnable.js';
import { CLI } from '../harness/built.js';

const REPO = resolve('.');
/** The guides, and the contributing page (adding a rule), whose runnable blocks run. */
const GUIDES = [
  ...readdirSync('docs/guides').filter((name) => name.endsWith('.md')).map((name) => join('docs/guides', name)),
  'docs/contributing.md',
];

/**
 * A fresh "repository folder" per guide: the guides are read as run from it (config/, rules/, the built
 * dist/), with `data/` its own. `shouwang` runs the built CLI, as `alias shouwang='node dist/bin/shouwang.js'` does.
 */
function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'shouwang-guide-'));
  for (const name of ['config', 'rules', 'dist', 'node_modules', 'package.json']) symlinkSync(join(REPO, name), join(dir, name));
  // A command, not a shell function: `shouwang start &` then leaves the node process itself in $!.
  mkdirSync(join(dir, '.bin'));
  writeFileSync(join(dir, '.bin', 'shouwang'), `#!/bin/sh\nexec node ${JSON.stringify(CLI)} "$@"\n`, { mode: 0o755 });
  return dir;
}

/** The environment without any SHOUWANG_* setting of this machine, so the guide's own settings decide. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('SHOUWANG_')));
}

/** A guide that starts Shouwang in the background writes its pid to data/<guide>/start.pid; a failed block can leave it running. */
function stopLeftovers(dir: string): void {
  if (!existsSync(join(dir, 'data'))) return;
  for (const entry of readdirSync(join(dir, 'data'), { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name !== 'start.pid') continue;
    try {
      process.kill(Number(readFileSync(join(entry.parentPath, entry.name), 'utf8')), 'SIGTERM');
    } catch {
      // already stopped, as the guide's last block does
    }
  }
}

const dirs: string[] = [];
beforeAll(async () => {
  // The guides use curl (the API) and zip/unzip (evidence bundles): installed like the harness's services when missing.
  for (const command of ['curl', 'zip', 'unzip']) await ensureExecutable({ command, debianPackage: command });
}, 300_000);
afterAll(() => dirs.forEach((dir) => {
  stopLeftovers(dir);
  rmSync(dir, { recursive: true, force: true });
}));

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
    expect(counts['docs/guides/triage.md']).toBeGreaterThan(2);
    expect(counts['docs/contributing.md']).toBeGreaterThan(1);
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
        const env = { ...cleanEnv(), PATH: `${join(dir, '.bin')}:${process.env.PATH}` };
        const run = spawnSync('bash', ['-c', `set -euo pipefail\n${block.script}\n`], { cwd: dir, env, encoding: 'utf8', timeout: 170_000 });
        const output = `${run.stdout}${run.stderr}`;
        expect(run.status, `${page}:${block.line}\n${output}`).toBe(block.exitCode);
        for (const text of block.expected) expect(output, `${page}:${block.line} should print "${text}"`).toContain(text);
      }, 180_000);
    }
  });
}
