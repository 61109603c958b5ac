import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventually } from './eventually.js';
import { splitTests } from './projects.js';

const split = splitTests(process.cwd());
const read = (file: string) => readFileSync(file, 'utf8');
const SELF = 'test/support/support.test.ts'; // names what it looks for
const others = (files: string[]) => files.filter((file) => file !== SELF);

describe('the unit / integration split (vitest.config.ts)', () => {
  it('puts every test file in exactly one project, by what it uses', () => {
    expect(new Set([...split.unit, ...split.integration]).size).toBe(split.unit.length + split.integration.length);
    expect(split.integration).toContain('test/harness/services.test.ts'); // inject('redisUrl')
    expect(split.integration).toContain('test/console/api.test.ts'); // through test/console/support.ts
    expect(split.integration).toContain('test/bin/ingest.test.ts'); // the built CLI (test/harness/built.ts)
    expect(split.unit).toContain('test/core/config.test.ts');
    expect(split.unit).toContain('test/support/support.test.ts');
  });

  it('leaves no unit file reading a service setting or the build', () => {
    for (const file of others(split.unit)) {
      expect(read(file), file).not.toMatch(/SHOUWANG_TEST_|['"`]dist\//);
    }
  });

  it('runs the build only through test/harness/built.ts: no test reads dist/ or transpiles its own copy', () => {
    for (const file of others([...split.unit, ...split.integration])) {
      expect(read(file), file).not.toMatch(/['"`]dist\/|transpileModule|SHOUWANG_TEST_CLI/);
    }
  });
});

describe('test fixtures', () => {
  it('come from test/fixtures, not from a folder next to the checkout', () => {
    for (const file of others([...split.unit, ...split.integration])) {
      expect(read(file), file).not.toMatch(/\.\.\/shared\b/);
    }
  });
});

describe('waiting in tests', () => {
  it('goes through eventually() or expect.poll: no deadline loops or setTimeout sleeps of their own', () => {
    const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? walk(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : []);
    const own = ['test/support/eventually.ts', SELF];
    for (const file of walk('test').filter((f) => !own.includes(f))) {
      expect(read(file), file).not.toMatch(/Date\.now\(\) *[<>]|new Promise\(\(\w+\) => setTimeout/);
    }
  });
});

describe('eventually', () => {
  it('retries until the check passes and returns its value', async () => {
    let tries = 0;
    await expect(eventually(() => {
      tries += 1;
      expect(tries).toBe(3);
      return 'done';
    }, { interval: 1 })).resolves.toBe('done');
  });

  it('fails after its deadline with the last failure in the message', async () => {
    let tries = 0;
    const failing = eventually(() => {
      tries += 1;
      throw new Error(`not yet (${tries})`);
    }, { timeout: 50, interval: 5 });
    await expect(failing).rejects.toThrow(/still failing after 50 ms \(\d+ tries\): not yet \(\d+\)/);
    await expect(failing.catch((error: Error) => error.message.endsWith(`(${tries})`))).resolves.toBe(true);
  });
});
