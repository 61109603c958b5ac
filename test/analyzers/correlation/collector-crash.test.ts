import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnCli, type CliProcess } from '../../harness/built.js';
import { eventually } from '../../support/eventually.js';

// `shouwang collect` tailing an sshd log through an SSH brute-force burst, killed with SIGKILL in the
// middle of it (as test/collectors/file-tail-crash.test.ts does), with the built CLI.
/**
 * rules/shouwang/linux/ssh_bruteforce.yml: "SSH 暴力破解后登录成功", a success after 10 or more failed SSH
 * logins from one address within 5 minutes. (The brute-force correlation itself alerts only through
 * this chain: as Sigma's `generate` says, a correlation another one refers to is silent.)
 */
const SUCCESS_AFTER_BRUTEFORCE = '35ba04dc-0d10-5394-a562-d2a8d29d6487';
const ATTACKER = '203.0.113.7';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-correlation-crash-'));
const children: CliProcess[] = [];
afterAll(() => {
  for (const { child } of children) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Failed password lines n..n+count-1 (as the rule's test events, one port each so every line differs). */
const failures = (n: number, count: number) => Array.from({ length: count }, (_, i) =>
  `<38>Nov 26 02:00:${String(n + i).padStart(2, '0')} rsj-shbx-app01 sshd[2211]: Failed password for root from ${ATTACKER} port ${51000 + n + i} ssh2\n`).join('');
const success = `<38>Nov 26 02:00:30 rsj-shbx-app01 sshd[2290]: Accepted password for root from ${ATTACKER} port 51300 ssh2\n`;

function setup(name: string) {
  const root = join(dir, name);
  mkdirSync(join(root, 'logs'), { recursive: true });
  const file = join(root, 'logs', 'auth.log');
  const dbPath = join(root, 'events.db');
  const configPath = join(root, 'shouwang.yaml');
  writeFileSync(configPath, [
    `dataDir: ${JSON.stringify(join(root, 'data'))}`,
    `embedded: { path: ${JSON.stringify(dbPath)} }`,
    'log: { level: warn }',
    `analyze: { rulesDir: ${JSON.stringify(resolve('rules/shouwang'))} }`,
    'collect:',
    '  flushMs: 50',
    '  files:',
    `    - { id: auth, paths: [${JSON.stringify(file)}], startAt: beginning, pollMs: 50 }`,
  ].join('\n'));

  const collect = (): CliProcess => {
    const cli = spawnCli(['collect', '--config', configPath]);
    children.push(cli);
    return cli;
  };


  /** Read beside the running collector (WAL); nothing while the schema is not there yet. */
  const query = <T>(sql: string, fallback: T): T => {
    if (!existsSync(dbPath)) return fallback;
    const db = new Database(dbPath, { readonly: true, fileMustExist: true });
    try {
      return db.prepare(sql).all() as T;
    } catch {
      return fallback;
    } finally {
      db.close();
    }
  };
  const events = () => query<{ n: number }[]>('SELECT count(*) AS n FROM events', [{ n: 0 }])[0]!.n;
  const alerts = () => query<{ doc: string }[]>(`SELECT doc FROM alerts WHERE rule_id = '${SUCCESS_AFTER_BRUTEFORCE}'`, [])
    .map((row) => JSON.parse(row.doc) as { count: number; sampleEventIds: string[]; groupKey: string });
  const checkpointed = () => {
    const path = join(root, 'data', 'checkpoints', 'files-auth.json');
    if (!existsSync(path)) return false;
    const files = Object.values((JSON.parse(readFileSync(path, 'utf8')) as { files: Record<string, { offset: number }> }).files);
    return files[0]?.offset === statSync(file).size;
  };
  return { file, collect, events, alerts, checkpointed, statePath: join(root, 'data', 'checkpoints', 'correlation.json') };
}

describe('SSH brute force through a collector killed with SIGKILL mid-burst', () => {
  it('raises the success-after-brute-force alert exactly once after the restart', async () => {
    const run = setup('killed');
    writeFileSync(run.file, failures(0, 6));
    const first = run.collect();
    await eventually(() => expect(run.events(), first.output()).toBe(6), { timeout: 60_000, interval: 10 });
    first.child.kill('SIGKILL');
    expect(await first.exited, first.output()).toBe('SIGKILL');
    expect(run.events()).toBe(6);
    expect(run.alerts()).toEqual([]);

    // The burst goes on while the collector is down: 6 + 6 failures (10 make a brute force), then a success.
    appendFileSync(run.file, failures(6, 6) + success);
    const second = run.collect();
    await expect.poll(() => run.alerts().length, { timeout: 60_000, interval: 100 }).toBe(1);
    expect(second.child.exitCode).toBeNull();
    await expect.poll(() => run.checkpointed() && run.events() === 13, { timeout: 60_000, interval: 100 }).toBe(true);
    second.child.kill('SIGINT');
    expect(await second.exited, second.output()).toBe(0);

    const [alert, ...more] = run.alerts();
    expect(more).toEqual([]);
    expect(alert!.groupKey).toBe(`source.ip=${ATTACKER}`);
    // One hit: the ten failures (none lost to the kill, none counted twice after it), then the success.
    expect(alert!.count).toBe(1);
    expect(existsSync(run.statePath)).toBe(true);
  }, 180_000);

  it('raises it while the collector is still running when nothing follows the burst', async () => {
    const run = setup('quiet');
    writeFileSync(run.file, failures(0, 10) + success);
    const only = run.collect();
    await expect.poll(() => run.alerts().length, { timeout: 60_000, interval: 100 }).toBe(1);
    expect(only.child.exitCode, only.output()).toBeNull();
    only.child.kill('SIGINT');
    expect(await only.exited, only.output()).toBe(0);
    expect(run.alerts().map((alert) => alert.count)).toEqual([1]);
  }, 120_000);
});
