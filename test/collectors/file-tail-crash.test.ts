import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnCli, type CliProcess } from '../harness/built.js';
import { eventually } from '../support/eventually.js';

const LINES = 50_000;

const dir = mkdtempSync(join(tmpdir(), 'shouwang-tail-crash-'));
const children: CliProcess[] = [];
afterAll(() => {
  for (const { child } of children) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const dbPath = join(dir, 'events.db');
const configPath = join(dir, 'shouwang.yaml');
const checkpointFile = join(dir, 'data', 'checkpoints', 'files-big.json');

function collect(): CliProcess {
  const cli = spawnCli(['collect', '--config', configPath]);
  children.push(cli);
  return cli;
}

/** Events in the store and how many distinct lines they are, read beside the running collector (WAL). */
function counts(): { events: number; lines: number } {
  if (!existsSync(dbPath)) return { events: 0, lines: 0 };
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT count(*) AS events, count(DISTINCT message) AS lines FROM events').get() as { events: number; lines: number };
  } catch {
    return { events: 0, lines: 0 }; // the schema is not there yet
  } finally {
    db.close();
  }
}

const checkpointOffset = () =>
  Object.values((JSON.parse(readFileSync(checkpointFile, 'utf8')) as { files: Record<string, { offset: number }> }).files)[0]?.offset;

describe('file source killed with SIGKILL in the middle of a file', () => {
  it('resumes from its checkpoint after a restart and stores every line exactly once', async () => {
    mkdirSync(join(dir, 'logs'));
    const file = join(dir, 'logs', 'big.log');
    writeFileSync(file, Array.from({ length: LINES }, (_, n) => `Nov 20 10:00:01 gaj-jwzh-app01 app[7]: line ${n} of the big file\n`).join(''));
    writeFileSync(configPath, [
      `dataDir: ${JSON.stringify(join(dir, 'data'))}`,
      `embedded: { path: ${JSON.stringify(dbPath)} }`,
      'log: { level: warn }',
      'collect:',
      '  flushMs: 50',
      '  files:',
      `    - { id: big, paths: [${JSON.stringify(file)}], startAt: beginning, pollMs: 50 }`,
    ].join('\n'));

    const first = collect();
    await eventually(() => expect(counts().events, first.output()).toBeGreaterThanOrEqual(5_000), { timeout: 60_000, interval: 10 });
    first.child.kill('SIGKILL');
    expect(await first.exited, first.output()).toBe('SIGKILL');
    const atKill = counts().events;
    expect(atKill).toBeGreaterThanOrEqual(5_000);
    expect(atKill).toBeLessThan(LINES);
    // The checkpoint stands somewhere in the file: the restart resumes there, not at 0 or at the end.
    expect(checkpointOffset()).toBeGreaterThan(0);
    expect(checkpointOffset()).toBeLessThan(statSync(file).size);

    const second = collect();
    // Done when the checkpoint reaches the end of the file; what the collector stores twice shows after its exit.
    await eventually(() => {
      expect(counts().events, second.output()).toBeGreaterThanOrEqual(LINES);
      expect(checkpointOffset()).toBe(statSync(file).size);
    }, { timeout: 90_000, interval: 100 });
    second.child.kill('SIGINT');
    expect(await second.exited, second.output()).toBe(0);
    expect(counts()).toEqual({ events: LINES, lines: LINES });
    expect(checkpointOffset()).toBe(statSync(file).size);
  }, 180_000);
});
