import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { RuleBudgetError, RuleSandbox, tryRule } from '../../analyzers/index.js';
import { distModule } from '../harness/built.js';

const ruleWith = (pattern: string) => `title: t\nid: t-1\nlogsource: {product: linux}\ndetection:\n  s: {message|re: '${pattern}'}\n  condition: s\n`;
// Not refused by the static check (a row of single-class repeats), but n^7 steps on a miss.
const SLOW = ruleWith('^\\d*\\d*\\d*\\d*\\d*\\d*\\d*!$');
const SLOW_EVENT = { message: `${'1'.repeat(50)}x` };

describe('rule sandbox (pasted rules in a worker thread)', () => {
  const sandbox = new RuleSandbox({ timeMs: 300, maxWaiting: 2 });
  afterAll(() => sandbox.close());

  it('answers as tryRule does on this thread', async () => {
    const rule = ruleWith('^ab+c$');
    const events = [{ message: 'abbbc' }, { message: 'ac' }];
    const trial = await sandbox.run(rule, events);
    expect(trial).toEqual(tryRule(rule, events));
    expect(trial).toMatchObject({ ok: true, matched: 1 });
    expect(await sandbox.run('title: x\ndetection: [', [{}])).toMatchObject({ ok: false, problem: expect.stringMatching(/line \d+/) });
  });

  it('stops a trial over its time budget, then runs the next one in a fresh worker', async () => {
    const slow = sandbox.run(SLOW, [SLOW_EVENT]);
    await expect(slow).rejects.toBeInstanceOf(RuleBudgetError);
    await expect(slow).rejects.toMatchObject({ budget: 'time', limit: '300 ms' });
    expect(await sandbox.run(ruleWith('^1+x$'), [SLOW_EVENT])).toMatchObject({ ok: true, matched: 1 });
  });

  it('refuses more trials than may wait, and the others still run', async () => {
    const first = sandbox.run(SLOW, [SLOW_EVENT]);
    const waiting = [sandbox.run(ruleWith('1x'), [SLOW_EVENT])]; // with the first: 2 not yet done
    await expect(sandbox.run(ruleWith('1x'), [SLOW_EVENT])).rejects.toMatchObject({ budget: 'queue' });
    await expect(first).rejects.toMatchObject({ budget: 'time' });
    for (const trial of waiting) expect(await trial).toMatchObject({ ok: true, matched: 1 });
  });

  it('stops a trial over its memory budget', async () => {
    // 32 MB: room for the worker's own modules on a loaded machine, far below what the big events need.
    const small = new RuleSandbox({ memoryMb: 32, timeMs: 10_000 });
    try {
      expect(await small.run(ruleWith('x'), [{ message: 'x' }])).toMatchObject({ ok: true, matched: 1 });
      // 8 events of 8 MiB each: cloned into the worker, over 32 MB of heap.
      const big = Array.from({ length: 8 }, (_, i) => ({ message: `${i}${'y'.repeat(8 << 20)}` }));
      await expect(small.run(ruleWith('x'), big)).rejects.toMatchObject({ budget: 'memory', limit: '32 MB' });
      expect(await small.run(ruleWith('x'), [{ message: 'x' }])).toMatchObject({ ok: true, matched: 1 });
    } finally {
      await small.close();
      await small.close();
    }
    await expect(small.run(ruleWith('x'), [{}])).rejects.toThrow(/closed/);
  });

  it('runs from the build too (dist/)', async () => {
    const script = `
      import { RuleSandbox } from ${JSON.stringify(pathToFileURL(distModule('analyzers/index.js')).href)};
      const sandbox = new RuleSandbox({ timeMs: 300 });
      const ok = await sandbox.run(${JSON.stringify(ruleWith('^ab+c$'))}, [{ message: 'abc' }]);
      const over = await sandbox.run(${JSON.stringify(SLOW)}, [${JSON.stringify(SLOW_EVENT)}]).catch((e) => e.budget);
      await sandbox.close();
      console.log(JSON.stringify({ matched: ok.matched, over }));`;
    const dir = mkdtempSync(join(tmpdir(), 'shouwang-sandbox-dist-'));
    try {
      writeFileSync(join(dir, 'run.mjs'), script);
      const { stdout } = await promisify(execFile)(process.execPath, [join(dir, 'run.mjs')]);
      expect(JSON.parse(stdout)).toEqual({ matched: 1, over: 'time' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
