import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readText } from './markdown.js';

const readme = readText('README.md');

/** The commands of the README's first ```sh block, comments left out. */
function twoCommands(): string[] {
  const block = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
  return block.split('\n').map((line) => line.replace(/#.*$/, '').trim()).filter(Boolean);
}

describe('README.md', () => {
  it('is short and starts with the two commands: the main job and the tests', () => {
    expect(readme.split('\n').length).toBeLessThan(200);
    expect(twoCommands()).toEqual(['npm ci && npm start', 'npm test']);
  });

  it('.ci/run runs the README test command', () => {
    const ci = readText('.ci/run').split('\n').map((line) => line.trim());
    // The command as written, or with arguments for vitest after `--` (CI adds a JSON reporter for the slowest files).
    const test = twoCommands()[1]!;
    expect(ci.filter((line) => line === test || line.startsWith(`${test} -- `)), `.ci/run should run "${test}"`).not.toEqual([]);
  });

  it('links every guide and reference page', () => {
    const pages = ['guides', 'reference'].flatMap((dir) => readdirSync(join('docs', dir)).map((name) => `docs/${dir}/${name}`));
    expect(pages.filter((page) => !readme.includes(`](${page})`))).toEqual([]);
  });
});
