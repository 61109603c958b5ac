import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { sleep } from '../../core/index.js';

// The built command line (npm test builds it first); a private build while developing.
const CLI = process.env.SHOUWANG_TEST_CLI ?? 'dist/bin/shouwang.js';
const LINES = 50_000;

const dir = mkdtempSync(join(tmpdir(), 'shouwang-tail-crash-'));
const children: ReturnType<typeof spawn>[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const dbPath = join(dir, 'events.db');
const configPath = join(dir, 'shouwang.yaml');
const checkpointFile = join(dir, 'data', 'checkpoints', 'files-big.json');

function collect() {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('SHOUWANG_')));
  const child = spawn('node', [CLI, 'collect', '--config', configPath], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
  return { child, exited, output: () => output };
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
    const deadline = Date.now() + 60_000;
    while (counts().events < 5_000 && first.child.exitCode === null && Date.now() < deadline) await sleep(10);
    first.child.kill('SIGKILL');
    expect(await first.exited, first.output()).toBe('SIGKILL');
    const atKill = counts().events;
    expect(atKill).toBeGreaterThanOrEqual(5_000);
    expect(atKill).toBeLessThan(LINES);
    // The checkpoint stands somewhere in the file: the restart resumes there, not at 0 or at the end.
    expect(checkpointOffset()).toBeGreaterThan(0);
    expect(checkpointOffset()).toBeLessThan(statSync(file).size);

    const second = collect();
    while (counts().events < LINES && second.child.exitCode === null && Date.now() < deadline + 60_000) await sleep(100);
    await sleep(500); // a few more polls: nothing more may come
    second.child.kill('SIGINT');
    expect(await second.exited, second.output()).toBe(0);
    expect(counts()).toEqual({ events: LINES, lines: LINES });
    expect(checkpointOffset()).toBe(statSync(file).size);
  }, 180_000);
});
