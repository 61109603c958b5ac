import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { EmbeddedStore } from '../../store/index.js';
import { BackupQueues, formatSetName } from '../../backup/index.js';
import { runBackupCommand, type CommandOutput } from '../../bin/backup-command.js';
import { postgresSourceDump, writeSet } from './fixtures/drill-sources.js';
import { spawnCli } from '../harness/built.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-backup-cli-'));
const configFile = join(dir, 'shouwang.yaml');
const dbPath = join(dir, 'shouwang.db');
const prefix = `test-${randomUUID()}`;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function capture(isTTY = false): CommandOutput & { text: () => string } {
  const chunks: string[] = [];
  return { isTTY, columns: 120, write: (text: string) => chunks.push(text), text: () => chunks.join('') };
}

async function cli(args: string[], tty = false) {
  const out = capture(tty);
  const err = capture();
  const code = await runBackupCommand([...args, '--config', configFile], { out, err });
  return { code, out: out.text(), err: err.text() };
}

async function storedResults(system: string) {
  const store = new EmbeddedStore({ path: dbPath });
  try {
    return {
      results: (await store.jobResults.search({ system }, { size: 100 })).items,
      alerts: (await store.alerts.search({ system: [system] })).items,
    };
  } finally {
    await store.close();
  }
}

beforeAll(async () => {
  const dump = join(dir, 'citizens.dump');
  await postgresSourceDump(inject('postgresUrl'), dump, 30);
  const set = formatSetName(new Date(Date.now() - 3_600_000));
  for (const site of ['ok-same', 'ok-off', 'bad-same', 'bad-off']) writeSet(join(dir, site), set, { 'citizens.dump': dump });
  const damaged = join(dir, 'bad-off', set, 'citizens.dump');
  const bytes = readFileSync(damaged);
  bytes[bytes.length - 1]! ^= 0xff;
  writeFileSync(damaged, bytes);

  const system = (id: string, prefix: string, validationQueries: unknown[]) => ({
    id, name: `户籍系统 ${id}`, department: 'gongan', mlpsLevel: 3, zone: '政务外网', owner: { name: '李工' },
    backup: {
      rpo: '1d', rto: '4h', sameCity: { type: 'path', path: join(dir, `${prefix}-same`) }, offSite: { type: 'path', path: join(dir, `${prefix}-off`) },
      validationQueries,
    },
  });
  writeFileSync(join(dir, 'inventory.yaml'), stringify({
    departments: [{ id: 'gongan', name: '市公安局' }],
    systems: [
      system('cli-ok', 'ok', [{ sql: 'SELECT count(*) FROM citizens', expect: { equals: 30 } }]),
      system('cli-bad', 'bad', [{ name: '人口数 citizens', sql: 'SELECT count(*) FROM citizens', expect: { equals: 31 } }]),
    ],
  }));
  writeFileSync(configFile, stringify({
    dataDir: dir, embedded: { path: dbPath }, inventory: { path: join(dir, 'inventory.yaml') }, log: { level: 'silent' },
    redis: { url: inject('redisUrl') }, backup: { queuePrefix: prefix, drill: { postgresUrl: inject('postgresUrl') } },
  }));
});

describe('shouwang backup verify', () => {
  it('prints a table of passing checks for both sites, stores the results and exits 0', async () => {
    const { code, out } = await cli(['verify', 'cli-ok']);
    expect(code).toBe(0);
    expect(out).toContain('同城 same-city');
    expect(out).toContain('异地 off-site');
    expect(out).toMatch(/integrity\s+通过 pass/);
    expect(out).toContain('… '); // plain progress lines when not on a terminal
    const { results, alerts } = await storedResults('cli-ok');
    expect(results.length).toBeGreaterThanOrEqual(11);
    expect(results.every((r) => r.status !== 'fail')).toBe(true);
    expect(alerts).toEqual([]);
  });

  it('checks one site with --site, exits 1 on a corrupted file and raises an alert', async () => {
    const { code, out } = await cli(['verify', 'cli-bad', '--site', 'off-site']);
    expect(code).toBe(1);
    expect(out).toMatch(/integrity\s+失败 fail/);
    expect(out).not.toContain('同城 same-city');
    // The backup integrity rule (rules/shouwang/backup) raised it from the result's event.
    expect(out).toContain('备份完整性校验失败 / backup integrity check failed (19fa9c65-f2a6-5688-8fca-1bf5eae3970d)');
    const { results, alerts } = await storedResults('cli-bad');
    expect(new Set(results.map((r) => r.site))).toEqual(new Set(['off-site']));
    expect(alerts.map((a) => a.rule.id)).toContain('19fa9c65-f2a6-5688-8fca-1bf5eae3970d');
  });

  it('draws a progress bar on a terminal', async () => {
    const { code, out } = await cli(['verify', 'cli-ok', '--site', 'same-city'], true);
    expect(code).toBe(0);
    expect(out).toContain('\r\x1b[2K[');
    expect(out).toMatch(/\[[#.]{24}\]\s+\d+% /);
    expect(out).not.toContain('… '); // no plain progress lines on a terminal
  });

  it('rejects a bad site or an unknown system with a clear message', async () => {
    const badSite = await cli(['verify', 'cli-ok', '--site', 'mars']);
    expect(badSite.code).toBe(2);
    expect(badSite.err).toContain('--site must be same-city or off-site');
    await expect(cli(['verify', 'no-such'])).rejects.toThrow(/no system no-such/);
  });
});

describe('shouwang backup drill', () => {
  it('restores, validates, reports the RTO and exits 0', async () => {
    const { code, out } = await cli(['drill', 'cli-ok']);
    expect(code).toBe(0);
    expect(out).toMatch(/restore\s+\d+\s+通过 ok/);
    expect(out).toMatch(/RTO: [\d.]+s \/ 目标 target 14400s — 达标 met/);
    const { results } = await storedResults('cli-ok');
    expect(results.filter((r) => r.kind === 'restore-drill').map((r) => r.status)).toEqual(['pass']);
  });

  it('exits 1 when validation fails and raises a drill alert', async () => {
    const { code, out } = await cli(['drill', 'cli-bad']);
    expect(code).toBe(1);
    expect(out).toContain('人口数 citizens');
    expect(out).toContain('失败 fail');
    const { alerts } = await storedResults('cli-bad');
    const drillAlert = alerts.find((a) => a.rule.id === '268498ad-97ff-5b1f-9c38-73cddcd1ac9b');
    expect(drillAlert).toMatchObject({ rule: { level: 'high' }, mlpsLevel: 3 });
    expect(drillAlert!.mlps.some((c) => c.startsWith('8.1.4.9'))).toBe(true);
    expect(drillAlert!.mlps.every((c) => c.startsWith('8.'))).toBe(true);
  });

  it('drills the off-site copy with --site off-site', async () => {
    const { code, out } = await cli(['drill', 'cli-ok', '--site', 'off-site']);
    expect(code).toBe(0);
    expect(out).toContain('恢复演练 restore drill: 户籍系统 cli-ok (cli-ok) · 异地 off-site');
    expect(out).toContain('ok-off');
    const { results } = await storedResults('cli-ok');
    expect(results.filter((r) => r.kind === 'restore-drill').map((r) => r.site).sort()).toEqual(['off-site', 'same-city']);
  });
});

describe('the compiled shouwang command', () => {
  it('refuses to drill a system whose drill of the same copy is queued for the backup workers, naming the job', async () => {
    const queues = new BackupQueues({ redis: inject('redisUrl'), prefix });
    try {
      const queued = await queues.enqueueDrill('cli-ok');
      await expect(cli(['drill', 'cli-ok'])).rejects.toMatchObject({
        code: 'SW_ERR_JOBS_DRILL_PENDING', message: expect.stringContaining(`is already queued or running (job ${queued.id})`),
      });
    } finally {
      await queues.drill.obliterate({ force: true });
      await queues.close();
    }
    expect((await cli(['drill', 'cli-ok'])).code).toBe(0);
  });

  it('drills anyway, saying so, when the configured Redis does not answer', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as { port: number };
    await new Promise((resolve) => closed.close(resolve));
    const deadConfig = join(dir, 'dead-redis.yaml');
    writeFileSync(deadConfig, readFileSync(configFile, 'utf8').replace(inject('redisUrl'), `redis://127.0.0.1:${port}`));
    const out = capture();
    const err = capture();
    expect(await runBackupCommand(['drill', 'cli-ok', '--config', deadConfig], { out, err })).toBe(0);
    expect(err.text()).toContain('cannot read the drill queue, drilling anyway');
  });

  it('runs `shouwang backup drill` end to end and exits 1 when the drill fails', async () => {
    const cli = spawnCli(['backup', 'drill', 'cli-bad', '--config', configFile]);
    const code = await cli.exited;
    const out = cli.output();
    expect(cli.stderr()).toBe('');
    expect(code).toBe(1);
    expect(out).toContain('恢复演练 restore drill: 户籍系统 cli-bad');
    expect(out).toContain('人口数 citizens');
  });
});

