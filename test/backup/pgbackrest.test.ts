import { randomUUID } from 'node:crypto';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemSchema, parseInventory, type BusinessSystem, type JobResult } from '../../core/index.js';
import { PgbackrestRepository, postgresDrillServer, runRestoreDrill, verifyBackups } from '../../backup/index.js';
import { startThrowawayPostgres } from '../../backup/drill/throwaway-instance.js';
import { startPgbackrestCluster, type PgbackrestCluster } from '../harness/pgbackrest.js';

const DAY = 86_400_000;
let cluster: PgbackrestCluster;
let dir: string;
/** The off-site repository: a copy of the same-city one, as rsync to the other site leaves it. */
let offSite: string;
/** Rows committed after the incremental backup, reachable only by replaying archived WAL. */
const ROWS = 3000;

type Target = { type: 'path'; path: string; kind: 'pgbackrest'; stanza: string; database?: string };
const repo = (path: string): Target => ({ type: 'path', path, kind: 'pgbackrest', stanza: cluster.stanza });

function system(same: Target, off: Target, validationQueries: unknown[] = []): BusinessSystem {
  return SystemSchema.parse({
    id: 'sbj-yb', name: '医保结算系统', department: 'sbj', mlpsLevel: 3, zone: '政务外网', owner: { name: '李工' },
    backup: { rpo: '1d', rto: '4h', sameCity: same, offSite: off, validationQueries },
  });
}

const byKey = (results: JobResult[]) =>
  Object.fromEntries(results.map((r) => [`${r.site ?? 'cross-site'}:${(r.detail as { check: string }).check}`, r]));
const statuses = (results: JobResult[]) => Object.fromEntries(Object.entries(byKey(results)).map(([key, r]) => [key, r.status]));

/** `cp -a` keeps the owner: archive-get in the drill runs as the server's user and must read the copy. */
function copyRepo(from: string): string {
  const to = join(dir, `repo-${randomUUID()}`);
  execFileSync('cp', ['-a', from, to]);
  return to;
}

function walk(path: string): string[] {
  return readdirSync(path, { withFileTypes: true }).flatMap((entry) =>
    (entry.isDirectory() ? walk(join(path, entry.name)) : [join(path, entry.name)]));
}

beforeAll(async () => {
  cluster = await startPgbackrestCluster(`test-${randomUUID().slice(0, 8)}`);
  dir = mkdtempSync(join(tmpdir(), 'shouwang-pgbackrest-test-'));
  execFileSync('chmod', ['755', dir]);
  await cluster.sql('CREATE TABLE claims (id int PRIMARY KEY, amount numeric NOT NULL); INSERT INTO claims SELECT g, g * 1.5 FROM generate_series(1, 1000) g');
  await cluster.pgbackrest(['--type=full', 'backup']);
  await cluster.sql('INSERT INTO claims SELECT g, g * 1.5 FROM generate_series(1001, 2000) g');
  await cluster.pgbackrest(['--type=incr', 'backup']);
  await cluster.sql(`INSERT INTO claims SELECT g, g * 1.5 FROM generate_series(2001, ${ROWS}) g`);
  // `check` switches WAL and waits until the segment is archived: the rows above are now in the repository's WAL.
  await cluster.pgbackrest(['check']);
  offSite = copyRepo(cluster.repo);
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('pgBackRest repositories as backup targets', () => {
  it('fresh: a full and an incremental backup with archived WAL pass all eleven checks, with info and verify as evidence', async () => {
    const results = await verifyBackups(system(repo(cluster.repo), repo(offSite)), { runId: 'fresh' });
    expect(statuses(results)).toEqual({
      'same-city:presence': 'pass', 'same-city:freshness': 'pass', 'same-city:completeness': 'pass', 'same-city:integrity': 'pass', 'same-city:retention': 'pass',
      'off-site:presence': 'pass', 'off-site:freshness': 'pass', 'off-site:completeness': 'pass', 'off-site:integrity': 'pass', 'off-site:retention': 'pass',
      'cross-site:cross-site': 'pass',
    });
    const keyed = byKey(results);
    const presence = keyed['same-city:presence']!.detail as { sets: number; backups: { type: string; label: string; databaseBytes: number }[]; walArchive: { min: string; max: string } };
    expect(presence.sets).toBe(2);
    expect(presence.backups.map((b) => b.type)).toEqual(['full', 'incr']);
    expect(presence.backups[1]!.label).toMatch(/^\d{8}-\d{6}F_\d{8}-\d{6}I$/);
    expect(presence.backups[0]!.databaseBytes).toBeGreaterThan(0);
    expect(presence.walArchive.max > presence.walArchive.min).toBe(true);
    expect(keyed['same-city:integrity']!.detail).toMatchObject({ repository: 'pgbackrest' });
    expect(String(keyed['same-city:integrity']!.detail.command)).toMatch(/pgbackrest .*verify$/);
    expect(keyed['same-city:completeness']!.detail).toMatchObject({ comparedWith: 1 });
    expect((keyed['same-city:completeness']!.detail as { files: number }).files).toBeGreaterThan(100);
    expect(keyed['cross-site:cross-site']!.detail).toMatchObject({ compared: 'paths and sizes', differing: [] });
  });

  it('stale: backups older than the RPO fail freshness', async () => {
    const results = await verifyBackups(system(repo(cluster.repo), repo(offSite)), { runId: 'stale', now: new Date(Date.now() + 2 * DAY) });
    const keyed = byKey(results);
    expect(keyed['same-city:freshness']!.status).toBe('fail');
    expect(keyed['off-site:freshness']!.status).toBe('fail');
    expect((keyed['same-city:freshness']!.detail as { ageSeconds: number }).ageSeconds).toBeGreaterThan(2 * 86_400 - 60);
  });

  it('corrupted: a flipped byte in a backup file fails pgbackrest verify and so integrity, naming the file', async () => {
    const broken = copyRepo(cluster.repo);
    const files = walk(join(broken, 'backup', cluster.stanza)).filter((path) => /\/pg_data\/base\//.test(path));
    const victim = files.sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
    const bytes = readFileSync(victim);
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    writeFileSync(victim, bytes);
    const results = await verifyBackups(system(repo(broken), repo(offSite)), { runId: 'corrupt', sites: ['same-city'] });
    const integrity = byKey(results)['same-city:integrity']!;
    expect(integrity.status).toBe('fail');
    expect(String(integrity.detail.output)).toMatch(/invalid/);
    expect(String(integrity.detail.output)).toContain(victim.split('/').at(-1)!.replace(/\.gz$/, ''));
    expect(byKey(results)['same-city:presence']!.status).toBe('pass');
  });

  it('deleted objects: a backup file removed from the repository fails pgbackrest verify and so integrity', async () => {
    const broken = copyRepo(cluster.repo);
    const files = walk(join(broken, 'backup', cluster.stanza)).filter((path) => /\/pg_data\/base\//.test(path));
    const victim = files.sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
    rmSync(victim);
    const results = await verifyBackups(system(repo(broken), repo(offSite)), { runId: 'deleted', sites: ['same-city'] });
    const integrity = byKey(results)['same-city:integrity']!;
    expect(integrity.status).toBe('fail');
    expect(String(integrity.detail.output)).toMatch(/missing|invalid/);
  });

  it('missing off-site: no repository at the off-site path fails presence and cross-site with pgBackRest\'s reason', async () => {
    const results = await verifyBackups(system(repo(cluster.repo), repo(join(dir, 'nowhere'))), { runId: 'missing' });
    const keyed = byKey(results);
    expect(keyed['off-site:presence']!.status).toBe('fail');
    expect(keyed['off-site:presence']!.summary).toMatch(/missing stanza path/);
    expect(keyed['cross-site:cross-site']!.status).toBe('fail');
    expect(keyed['same-city:presence']!.status).toBe('pass');
  });

  it('an unset cipher-pass variable fails presence naming the variable, and no secret reaches a result', async () => {
    const variable = `SHOUWANG_TEST_PGBR_${randomUUID().replace(/-/g, '_')}`;
    const results = await verifyBackups(system({ ...repo(cluster.repo), passwordEnv: variable } as Target, repo(offSite)), { runId: 'no-pass', sites: ['same-city'] });
    expect(byKey(results)['same-city:presence']!.summary).toContain(`environment variable ${variable} is not set`);
    process.env[variable] = `secret-${randomUUID()}`;
    try {
      // An unencrypted repository ignores a cipher pass it does not need; the pass never shows.
      const withPass = await verifyBackups(system({ ...repo(cluster.repo), passwordEnv: variable } as Target, repo(offSite)), { runId: 'pass', sites: ['same-city'] });
      expect(JSON.stringify(withPass)).not.toContain(process.env[variable]);
    } finally {
      delete process.env[variable];
    }
  });

  it('lists the newest backup\'s files from its own manifest', async () => {
    const target = new PgbackrestRepository({ path: cluster.repo, stanza: cluster.stanza });
    const sets = await target.listSets();
    expect(sets).toHaveLength(2);
    const files = await target.listFiles(sets.at(-1)!.name);
    expect(files.map((f) => f.path)).toContain('pg_data/PG_VERSION');
    expect(files.every((f) => f.path.startsWith('pg_data/'))).toBe(true);
  });
});

describe('pgBackRest restore drill', () => {
  it('restores into scratch, replays archived WAL to its end on a throwaway PostgreSQL, validates and measures the RTO', async () => {
    const validations = [
      { name: 'rows after WAL replay', sql: 'SELECT count(*) FROM claims', expect: { equals: ROWS } },
      { name: 'promoted', sql: 'SELECT NOT pg_is_in_recovery()', expect: { equals: true } },
    ];
    const archived = walk(join(offSite, 'archive')).sort();
    const result = await runRestoreDrill(system(repo(cluster.repo), repo(offSite), validations), { servers: {}, runId: `drill-${randomUUID()}`, site: 'off-site' });
    expect(result.summary).toMatch(/restore drill passed/);
    // The promoted throwaway server archived nothing (no new timeline history, no WAL) into the repository it came from.
    expect(walk(join(offSite, 'archive')).sort()).toEqual(archived);
    expect(result.status).toBe('pass');
    expect(result.detail).toMatchObject({ site: 'off-site', repository: 'pgbackrest', engine: 'postgresql', database: 'postgres', tables: 1 });
    expect((result.detail.validations as { ok: boolean }[]).every((v) => v.ok)).toBe(true);
    const rto = result.detail.rto as { achievedSeconds: number; met: boolean };
    expect(rto.met).toBe(true);
    expect(rto.achievedSeconds).toBeGreaterThan(0);
    expect((result.detail.steps as { step: string; ok: boolean }[]).map((s) => `${s.step}:${s.ok}`))
      .toEqual(['locate:true', 'restore:true', 'start:true', 'validate:true', 'stop:true']);
    console.info(`pgBackRest drill RTO ${rto.achievedSeconds}s`, JSON.stringify(result.detail.steps));
  });

  it('a validation that does not hold fails the drill, and the throwaway server is still stopped', async () => {
    const result = await runRestoreDrill(system(repo(cluster.repo), repo(offSite), [{ sql: 'SELECT count(*) FROM claims', expect: { equals: 1 } }]),
      { servers: {}, runId: `drill-${randomUUID()}` });
    expect(result.status).toBe('fail');
    expect(result.summary).toMatch(/validation\(s\) failed/);
    expect((result.detail.steps as { step: string; ok: boolean }[]).at(-1)).toMatchObject({ step: 'stop', ok: true });
  });
});

describe('pgBackRest drill: the throwaway server holds a production copy', () => {
  it('answers only the drill: no TCP listener, and another local user cannot reach its socket, while the drill\'s own queries work', async () => {
    const target = new PgbackrestRepository(repo(cluster.repo));
    const work = join(dir, `throwaway-${randomUUID()}`);
    mkdirSync(work, { mode: 0o700 });
    await target.restore((await target.listSets()).at(-1)!.name, join(work, 'data'));
    const instance = await startThrowawayPostgres(target, join(work, 'data'), work, 'postgres', 120_000);
    try {
      const show = async (setting: string) => (await instance.server.query('postgres', `SHOW ${setting}`))[0]?.[0] ?? '';
      expect(await instance.server.query('postgres', 'SELECT count(*) FROM claims')).toEqual([[String(ROWS)]]);
      const port = await show('port');
      // Whoever reaches 127.0.0.1 (any user on the host) gets no connection.
      await expect(postgresDrillServer(`postgres://postgres@127.0.0.1:${port}/postgres`).query('postgres', 'SELECT 1')).rejects.toThrow();
      expect(await show('listen_addresses')).toBe('');
      // The socket's directory is private to the server's user: another local user cannot connect through it.
      const socketDir = await show('unix_socket_directories');
      expect(statSync(socketDir).mode & 0o077).toBe(0);
      if (process.getuid?.() === 0) {
        await expect(promisify(execFile)('runuser', ['-u', 'nobody', '--', 'psql', '-X', '-h', socketDir, '-p', port, '-U', 'postgres', '-d', 'postgres', '-c', 'SELECT 1']))
          .rejects.toThrow(/Permission denied|No such file/);
      }
    } finally {
      await instance.stop();
    }
  }, 180_000);
});

describe('pgBackRest drill of a damaged repository', () => {
  it('a flipped byte in a backup file fails the restore step with pgBackRest\'s reason', async () => {
    const broken = copyRepo(cluster.repo);
    const files = walk(join(broken, 'backup', cluster.stanza)).filter((path) => /\/pg_data\/base\//.test(path));
    const victim = files.sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
    const bytes = readFileSync(victim);
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    writeFileSync(victim, bytes);
    const result = await runRestoreDrill(system(repo(broken), repo(offSite), [{ sql: 'SELECT count(*) FROM claims' }]), { servers: {}, runId: `drill-${randomUUID()}` });
    expect(result.status).toBe('fail');
    expect((result.detail.steps as { step: string; ok: boolean }[]).at(-1)).toMatchObject({ step: 'restore', ok: false });
    expect(String(result.detail.error)).toMatch(/ERROR/);
  }, 120_000); // pgBackRest retries a failed file (job-retry) before it gives up
});

describe('inventory: pgbackrest targets', () => {
  const inventory = (sameCity: Record<string, unknown>) => ({
    departments: [{ id: 'sbj', name: '社保局' }],
    systems: [{
      id: 'sbj-yb', name: '医保结算系统', department: 'sbj', mlpsLevel: 3, zone: '政务外网', owner: { name: '李工' },
      backup: { rpo: '1d', rto: '4h', sameCity, offSite: { type: 'path', path: '/srv/off' } },
    }],
  });

  it('accepts a stanza, a config file, an optional cipher pass and a database', () => {
    const parsed = parseInventory(inventory({
      type: 'path', path: '/var/lib/pgbackrest', kind: 'pgbackrest', stanza: 'main', configFile: '/etc/pgbackrest.conf', passwordEnv: 'PGBR_PASS', database: 'yb',
    }), 'test');
    expect(parsed.systems[0]!.backup!.sameCity).toMatchObject({ kind: 'pgbackrest', stanza: 'main', database: 'yb' });
  });

  it.each([
    [{ kind: 'pgbackrest' }, 'stanza', 'needs its stanza'],
    [{ kind: 'pgbackrest', stanza: 'a b' }, 'stanza', 'stanza name'],
    [{ kind: 'pgbackrest', stanza: 'main', passwordFile: '/a', passwordEnv: 'B' }, 'passwordFile', 'at most one'],
    [{ kind: 'pgbackrest', stanza: 'main', readDataSubset: '5%' }, 'readDataSubset', 'only for a repository'],
    [{ stanza: 'main' }, 'stanza', 'only for kind: pgbackrest'],
    [{ kind: 'restic', passwordFile: '/a', database: 'x' }, 'database', 'only for kind'],
    [{ kind: 'mariabackup', utcOffset: '8h' }, 'utcOffset', 'offset'],
    [{ kind: 'mariabackup', passwordFile: '/a' }, 'passwordFile', 'only for a repository'],
  ])('rejects %j naming the field', (extra, field, message) => {
    expect(() => parseInventory(inventory({ type: 'path', path: '/srv/repo', ...extra }), 'test'))
      .toThrow(new RegExp(`sameCity\\.${field}.*${message}`, 's'));
  });
});

describe('pgBackRest drill and a tablespace the backup names', () => {
  it('restores tablespaces into the drill\'s scratch directory, never at the absolute location the manifest names', async () => {
    const source = await startPgbackrestCluster(`test-${randomUUID().slice(0, 8)}`);
    const work = mkdtempSync(join(tmpdir(), 'shouwang-pgbackrest-ts-'));
    try {
      execFileSync('chmod', ['755', work]);
      const location = join(work, 'tablespace');
      mkdirSync(location);
      if (process.getuid?.() === 0) execFileSync('chown', ['postgres:postgres', location]);
      await source.sql(`CREATE TABLESPACE drill_ts LOCATION '${location}'`);
      await source.sql('CREATE TABLE spaced (id int) TABLESPACE drill_ts; INSERT INTO spaced SELECT generate_series(1, 100)');
      await source.pgbackrest(['--type=full', 'backup']);
      await source.pgbackrest(['check']);
      // The location is now somewhere else's: empty, as a path a hostile manifest could name would be.
      await source.pg.stop();
      rmSync(location, { recursive: true, force: true });
      mkdirSync(location);
      const target: Target = { type: 'path', path: source.repo, kind: 'pgbackrest', stanza: source.stanza };
      const result = await runRestoreDrill(system(target, target, [{ sql: 'SELECT count(*) FROM spaced', expect: { equals: 100 } }]),
        { servers: {}, runId: `drill-${randomUUID()}`, site: 'same-city' });
      expect(readdirSync(location)).toEqual([]);
      expect(result.summary).toMatch(/restore drill passed/);
      expect(result.status).toBe('pass');
    } finally {
      await source.stop();
      rmSync(work, { recursive: true, force: true });
    }
  }, 180_000);
});
