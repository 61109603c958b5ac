import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { spawnCli, type CliProcess } from '../harness/built.js';
import { dropTestIndices } from '../harness/elasticsearch.js';
import { eventually, eventuallyValue } from '../support/eventually.js';

const LINES = 50_000;
const url = inject('elasticsearchUrl');
const prefix = `test-${randomUUID().slice(0, 8)}`;
const dir = mkdtempSync(join(tmpdir(), 'shouwang-tail-crash-es-'));
const children: CliProcess[] = [];
afterAll(async () => {
  for (const { child } of children) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  await dropTestIndices(url, prefix);
});

const configPath = join(dir, 'shouwang.yaml');
const checkpointFile = join(dir, 'data', 'checkpoints', 'files-big.json');

function collect(): CliProcess {
  const cli = spawnCli(['collect', '--config', configPath]);
  children.push(cli);
  return cli;
}

/** Events in the node now (refreshed first); ids are the documents' _id, so a line stored twice under one id is one document. */
async function stored(): Promise<number> {
  await fetch(`${url}/${prefix}-events-*/_refresh?ignore_unavailable=true&allow_no_indices=true`, { method: 'POST' });
  const answer = await fetch(`${url}/${prefix}-events-*/_count?ignore_unavailable=true&allow_no_indices=true`);
  return answer.ok ? ((await answer.json()) as { count: number }).count : 0;
}

const checkpointOffset = () => {
  try {
    return Object.values((JSON.parse(readFileSync(checkpointFile, 'utf8')) as { files: Record<string, { offset: number }> }).files)[0]?.offset ?? 0;
  } catch {
    return 0; // not written yet
  }
};

describe('file source on Elasticsearch with three bulks in flight, killed with SIGKILL mid-file', () => {
  it('resumes from its checkpoint after a restart and stores every line exactly once', async () => {
    mkdirSync(join(dir, 'logs'));
    const file = join(dir, 'logs', 'big.log');
    writeFileSync(file, Array.from({ length: LINES }, (_, n) => `Nov 20 10:00:01 gaj-jwzh-app01 app[7]: line ${n} of the big file\n`).join(''));
    writeFileSync(configPath, [
      `dataDir: ${JSON.stringify(join(dir, 'data'))}`,
      'store: elasticsearch',
      `elasticsearch: { url: ${JSON.stringify(url)}, indexPrefix: ${prefix} }`,
      'log: { level: warn }',
      'collect:',
      '  flushMs: 50',
      '  inFlightBatches: 3',
      '  files:',
      `    - { id: big, paths: [${JSON.stringify(file)}], startAt: beginning, pollMs: 50 }`,
    ].join('\n'));

    const first = collect();
    // Killed once the checkpoint stands inside the file (it is saved at most once a second).
    await eventuallyValue(checkpointOffset, (offset) => offset > 0, 'a checkpoint inside the file', { timeout: 90_000, interval: 20 });
    first.child.kill('SIGKILL');
    expect(await first.exited, first.output()).toBe('SIGKILL');
    const atKill = await stored();
    expect(checkpointOffset()).toBeLessThan(statSync(file).size);
    expect(atKill).toBeLessThan(LINES);

    const second = collect();
    await eventually(async () => {
      expect(checkpointOffset(), second.output()).toBe(statSync(file).size);
    }, { timeout: 120_000, interval: 200 });
    second.child.kill('SIGINT');
    expect(await second.exited, second.output()).toBe(0);
    expect(await stored()).toBe(LINES);
  }, 240_000);
});
