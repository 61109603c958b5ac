import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { cpSync, mkdirSync, statSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemSchema, type BusinessSystem, type JobResult } from '../../core/index.js';
import { MariabackupDirectory, mariadbDrillServer, runRestoreDrill, verifyBackups } from '../../backup/index.js';
import { startThrowawayMariadbd } from '../../backup/drill/throwaway-instance.js';
import { startMariadb, type MariadbHandle } from '../harness/mariadb.js';
import { ensureMariabackup, mariabackup } from '../harness/mariabackup.js';

const DAY = 86_400_000;
let server: MariadbHandle;
let dir: string;
let sameCity: string;
let offSite: string;
const ROWS = 300;

type Target = { type: 'path'; path: string; kind: 'mariabackup'; database?: string; utcOffset?: string };
const backups = (path: string, extra: Partial<Target> = {}): Target => ({ type: 'path', path, kind: 'mariabackup', database: 'permits', ...extra });

function system(same: Target, off: Target, validationQueries: unknown[] = []): BusinessSystem {
  return SystemSchema.parse({
    id: 'zjj-xk', name: '行政许可系统', department: 'zjj', mlpsLevel: 3, zone: '政务外网', owner: { name: '赵工' },
    backup: { rpo: '1d', rto: '4h', sameCity: same, offSite: off, validationQueries },
  });
}

const byKey = (results: JobResult[]) =>
  Object.fromEntries(results.map((r) => [`${r.site ?? 'cross-site'}:${(r.detail as { check: string }).check}`, r]));
const statuses = (results: JobResult[]) => Object.fromEntries(Object.entries(byKey(results)).map(([key, r]) => [key, r.status]));

function copyDir(from: string): string {
  const to = join(dir, `copy-${randomUUID()}`);
  cpSync(from, to, { recursive: true, preserveTimestamps: true });
  return to;
}

beforeAll(async () => {
  await ensureMariabackup();
  server = await startMariadb();
  dir = mkdtempSync(join(tmpdir(), 'shouwang-mariabackup-'));
  sameCity = join(dir, 'same-city');
  mkdirSync(sameCity);
  const db = await mysql.createConnection({ host: '127.0.0.1', port: server.port, user: server.user, password: server.password, database: 'mysql' });
  try {
    await db.query('CREATE DATABASE permits');
    await db.query('CREATE TABLE permits.permit (id int PRIMARY KEY, holder varchar(64) NOT NULL) ENGINE=InnoDB');
    await db.query(`INSERT INTO permits.permit SELECT seq, concat('holder-', seq) FROM seq_1_to_200`);
    await mariabackup(server, join(sameCity, 'full-1'));
    await db.query(`INSERT INTO permits.permit SELECT seq, concat('holder-', seq) FROM seq_201_to_${ROWS}`);
    await mariabackup(server, join(sameCity, 'inc-1'), join(sameCity, 'full-1'));
  } finally {
    await db.end();
  }
  offSite = copyDir(sameCity);
}, 180_000);

afterAll(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('mariabackup directories as backup targets', () => {
  it('fresh: a full and an incremental pass all eleven checks; integrity reads the checkpoints chain and innochecksum', async () => {
    const results = await verifyBackups(system(backups(sameCity), backups(offSite)), { runId: 'fresh' });
    expect(statuses(results)).toEqual({
      'same-city:presence': 'pass', 'same-city:freshness': 'pass', 'same-city:completeness': 'pass', 'same-city:integrity': 'pass', 'same-city:retention': 'pass',
      'off-site:presence': 'pass', 'off-site:freshness': 'pass', 'off-site:completeness': 'pass', 'off-site:integrity': 'pass', 'off-site:retention': 'pass',
      'cross-site:cross-site': 'pass',
    });
    const keyed = byKey(results);
    const presence = keyed['same-city:presence']!.detail as { sets: number; backups: { type: string; dir: string; fromLsn: number; toLsn: number }[] };
    expect(presence.sets).toBe(2);
    expect(presence.backups.map((b) => [b.dir, b.type])).toEqual([['full-1', 'full-backuped'], ['inc-1', 'incremental']]);
    expect(presence.backups[1]!.fromLsn).toBe(presence.backups[0]!.toLsn);
    // An incremental is small by design: it is not judged against the full before it.
    expect(keyed['same-city:completeness']!.detail).toMatchObject({ setType: 'incremental', comparedWith: 0 });
    const output = String(keyed['same-city:integrity']!.detail.output);
    expect(output).toMatch(/full-1: full-backuped 0→\d+\ninc-1: incremental \d+→\d+/);
    expect(output).toMatch(/innochecksum: (\d+)\/\1 page files valid/);
  });

  it('stale: backups older than the RPO fail freshness; end_time is read in the configured offset', async () => {
    const stale = await verifyBackups(system(backups(sameCity), backups(offSite)), { runId: 'stale', now: new Date(Date.now() + 2 * DAY) });
    expect(byKey(stale)['same-city:freshness']!.status).toBe('fail');
    // The same backups read as written at +08:00 are eight hours older than read as UTC.
    const [utc, cst] = await Promise.all([sameCity, sameCity].map(async (path, i) => {
      const target = new MariabackupDirectory({ path, ...(i ? { utcOffset: '+08:00' } : {}) });
      return (await target.listSets()).at(-1)!.time.getTime();
    }));
    expect(utc! - cst!).toBe(8 * 3_600_000);
  });

  it('corrupted: a flipped byte in a page of the full backup fails integrity, naming the file', async () => {
    const broken = copyDir(sameCity);
    const ibdata = join(broken, 'full-1', 'ibdata1');
    const bytes = readFileSync(ibdata);
    bytes[16384 * 3 + 100]! ^= 0xff;
    writeFileSync(ibdata, bytes);
    const results = await verifyBackups(system(backups(broken), backups(offSite)), { runId: 'corrupt', sites: ['same-city'] });
    const integrity = byKey(results)['same-city:integrity']!;
    expect(integrity.status).toBe('fail');
    expect(String(integrity.detail.output)).toMatch(/full-1\/ibdata1: .*invalid|full-1\/ibdata1/);
  });

  it('a broken chain (an incremental whose base is gone) fails integrity', async () => {
    const broken = copyDir(sameCity);
    rmSync(join(broken, 'full-1'), { recursive: true });
    const results = await verifyBackups(system(backups(broken), backups(offSite)), { runId: 'chain', sites: ['same-city'] });
    const integrity = byKey(results)['same-city:integrity']!;
    expect(integrity.status).toBe('fail');
    expect(String(integrity.detail.output)).toMatch(/inc-1 .*has no base backup/);
  });

  it('missing off-site: an empty off-site directory fails presence and cross-site', async () => {
    const empty = join(dir, `empty-${randomUUID()}`);
    mkdirSync(empty);
    const results = await verifyBackups(system(backups(sameCity), backups(empty)), { runId: 'missing' });
    const keyed = byKey(results);
    expect(keyed['off-site:presence']!.status).toBe('fail');
    expect(keyed['cross-site:cross-site']!.status).toBe('fail');
  });
});

describe('mariabackup restore drill', () => {
  it('copies the chain, prepares it, starts a throwaway mariadbd, validates and measures the RTO', async () => {
    const validations = [
      { name: 'rows incl. incremental', sql: 'SELECT count(*) FROM permit', expect: { equals: ROWS } },
      { sql: `SELECT holder FROM permit WHERE id = ${ROWS}`, expect: { equals: `holder-${ROWS}` } },
    ];
    const result = await runRestoreDrill(system(backups(sameCity), backups(offSite), validations), { servers: {}, runId: `drill-${randomUUID()}`, site: 'off-site' });
    expect(result.summary).toMatch(/restore drill passed/);
    expect(result.status).toBe('pass');
    expect(result.detail).toMatchObject({ repository: 'mariabackup', engine: 'mariadb', database: 'permits', tables: 1 });
    const rto = result.detail.rto as { achievedSeconds: number; met: boolean };
    expect(rto.met).toBe(true);
    expect(rto.achievedSeconds).toBeGreaterThan(0);
    expect((result.detail.steps as { step: string; ok: boolean }[]).map((s) => `${s.step}:${s.ok}`))
      .toEqual(['locate:true', 'restore:true', 'start:true', 'validate:true', 'stop:true']);
    console.info(`mariabackup drill RTO ${rto.achievedSeconds}s`, JSON.stringify(result.detail.steps));
  });

  it('never writes into the repository: the backup directories are unprepared after the drill', async () => {
    const checkpoints = readFileSync(join(sameCity, 'full-1', 'xtrabackup_checkpoints'), 'utf8');
    expect(checkpoints).toMatch(/backup_type = full-backuped/);
  });
});

describe('mariabackup drill: the throwaway server holds a production copy without grant tables', () => {
  it('answers only the drill: no TCP listener, and another local user cannot reach its socket, while the drill\'s own queries work', async () => {
    const target = new MariabackupDirectory(backups(sameCity));
    const work = join(dir, `throwaway-${randomUUID()}`);
    mkdirSync(work, { mode: 0o700 });
    await target.restore((await target.listSets()).at(-1)!.name, join(work, 'data'));
    const instance = await startThrowawayMariadbd(join(work, 'data'), work, 'permits', 120_000);
    try {
      const show = async (variable: string) => (await instance.server.query('permits', `SELECT @@${variable}`))[0]?.[0] ?? '';
      expect(await instance.server.query('permits', 'SELECT count(*) FROM permit')).toEqual([[String(ROWS)]]);
      // Whoever reaches 127.0.0.1 (any user on the host) would have every privilege: nothing may listen there.
      const port = await show('port');
      await expect(mariadbDrillServer(`mysql://root@127.0.0.1:${port}/permits`).query('permits', 'SELECT 1')).rejects.toThrow();
      expect(await show('skip_networking')).toBe('1');
      const socket = await show('socket');
      const socketDir = join(socket, '..');
      expect(statSync(socketDir).mode & 0o077).toBe(0);
      if (process.getuid?.() === 0) {
        await expect(promisify(execFile)('runuser', ['-u', 'nobody', '--', 'mariadb', '--no-defaults', `--socket=${socket}`, '-u', 'root', '-e', 'SELECT 1']))
          .rejects.toThrow(/Permission denied|Can't connect/);
      }
    } finally {
      await instance.stop();
    }
  }, 180_000);
});

describe('mariabackup drill against a hostile backup-my.cnf', () => {
  it('the throwaway mariadbd takes only InnoDB layout settings from the backup, never a log file or init file it names', async () => {
    const hostile = copyDir(sameCity);
    const outside = join(dir, `outside-${randomUUID()}`);
    mkdirSync(outside);
    const cnf = join(hostile, 'full-1', 'backup-my.cnf');
    writeFileSync(cnf, `${readFileSync(cnf, 'utf8')}general-log=1\ngeneral-log-file=${join(outside, 'general.log')}\nlog-error=${join(outside, 'error.log')}\n`);
    const validations = [{ sql: 'SELECT count(*) FROM permit', expect: { equals: ROWS } }];
    const result = await runRestoreDrill(system(backups(hostile), backups(offSite), validations), { servers: {}, runId: `drill-${randomUUID()}`, site: 'same-city' });
    expect(result.status).toBe('pass');
    expect(readdirSync(outside)).toEqual([]);
  });

  it('the throwaway mariadbd (no grant tables: every privilege to whoever reaches it) writes no file outside the drill', async () => {
    const outside = join(dir, `outside-${randomUUID()}`);
    mkdirSync(outside);
    const validations = [{ name: 'outfile', sql: `SELECT 'owned' INTO OUTFILE '${join(outside, 'owned.txt')}'`, expect: { maxRows: 0 } }];
    const result = await runRestoreDrill(system(backups(sameCity), backups(offSite), validations), { servers: {}, runId: `drill-${randomUUID()}`, site: 'same-city' });
    expect(readdirSync(outside)).toEqual([]);
    expect(result.summary).toContain('secure-file-priv');
  });

  it('a symbolic link in the backup directory fails the drill instead of letting prepare write through it', async () => {
    const hostile = copyDir(sameCity);
    const outside = join(dir, `outside-${randomUUID()}`);
    mkdirSync(outside);
    renameSync(join(hostile, 'full-1', 'ibdata1'), join(outside, 'ibdata1'));
    symlinkSync(join(outside, 'ibdata1'), join(hostile, 'full-1', 'ibdata1'));
    const before = createHash('sha256').update(readFileSync(join(outside, 'ibdata1'))).digest('hex');
    const result = await runRestoreDrill(system(backups(hostile), backups(offSite)), { servers: {}, runId: `drill-${randomUUID()}`, site: 'same-city' });
    const after = createHash('sha256').update(readFileSync(join(outside, 'ibdata1'))).digest('hex');
    expect({ status: result.status, summary: result.summary, written: after !== before }).toMatchObject({ status: 'fail', summary: expect.stringMatching(/symbolic link/), written: false });
    expect(createHash('sha256').update(readFileSync(join(outside, 'ibdata1'))).digest('hex')).toBe(before);
  });
});
