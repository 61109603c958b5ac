import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemSchema, parseInventory, type BusinessSystem, type JobResult } from '../../core/index.js';
import { ResticRepository, checkRansomware, type SetFingerprint, formatSetName, runRestoreDrill, takeSnapshot, verifyBackups } from '../../backup/index.js';
import { ensureRestic, restic } from '../harness/restic.js';

const NOW = new Date('2026-11-26T06:00:00Z');
const DAY = 86_400_000;
/** Eight daily snapshots at 02:00, the newest four hours before NOW. */
const SET_TIMES = Array.from({ length: 8 }, (_, i) => new Date(Date.UTC(2026, 10, 19 + i, 2)));
const LATEST = formatSetName(SET_TIMES.at(-1)!);
const resticTime = (time: Date) => time.toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, '');

let dir: string;
let passwordFile: string;
const PASSWORD = `pw-${randomUUID()}`;
/** Same-city and off-site repositories with the same eight snapshots (the off-site one filled by `restic copy`). */
let sameCity: string;
let offSite: string;

type Target = { type: 'path'; path: string; kind: 'restic'; passwordFile?: string; passwordEnv?: string; readDataSubset?: string };

function system(same: Target, off: Target): BusinessSystem {
  return SystemSchema.parse({
    id: 'gaj-jwzh', name: '警务综合平台', department: 'gaj', mlpsLevel: 3, zone: '政务外网', owner: { name: '王工' },
    backup: { rpo: '1d', rto: '4h', retention: '7d', sameCity: same, offSite: off },
  });
}

const repo = (path: string, extra: Partial<Target> = {}): Target => ({ type: 'path', path, kind: 'restic', passwordFile, ...extra });

const byKey = (results: JobResult[]) =>
  Object.fromEntries(results.map((r) => [`${r.site ?? 'cross-site'}:${(r.detail as { check: string }).check}`, r]));
const statuses = (results: JobResult[]) =>
  Object.fromEntries(Object.entries(byKey(results)).map(([key, r]) => [key, r.status]));

/** A copy of a repository to break without touching the shared one. */
function copyRepo(from: string): string {
  const to = join(dir, `repo-${randomUUID()}`);
  cpSync(from, to, { recursive: true });
  return to;
}

function packFiles(repository: string): string[] {
  const data = join(repository, 'data');
  return readdirSync(data).flatMap((sub) => readdirSync(join(data, sub)).map((name) => join(data, sub, name)));
}

beforeAll(async () => {
  await ensureRestic();
  dir = mkdtempSync(join(tmpdir(), 'shouwang-restic-'));
  passwordFile = join(dir, 'password');
  writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  sameCity = join(dir, 'same-city');
  offSite = join(dir, 'off-site');
  const source = join(dir, 'source');
  mkdirSync(join(source, 'db'), { recursive: true });
  mkdirSync(join(source, 'app'), { recursive: true });
  await restic(sameCity, passwordFile, ['init']);
  for (const time of SET_TIMES) {
    writeFileSync(join(source, 'db', 'main.dump'), Buffer.concat([Buffer.from('PGDMP'), randomBytes(200_000)]));
    writeFileSync(join(source, 'app', 'config.yaml'), `port: 8080\nat: ${time.toISOString()}\n`);
    await restic(sameCity, passwordFile, ['backup', '--host', 'gaj-db', '--time', resticTime(time), 'source'], dir);
  }
  await restic(offSite, passwordFile, ['init', '--copy-chunker-params', '--from-repo', sameCity, '--from-password-file', passwordFile]);
  await restic(offSite, passwordFile, ['copy', '--from-repo', sameCity, '--from-password-file', passwordFile]);
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('restic repositories as backup targets', () => {
  it('fresh repositories pass all thirteen checks from the snapshot list, restic check and the listings', async () => {
    const results = await verifyBackups(system(repo(sameCity, { readDataSubset: '100%' }), repo(offSite)), { now: NOW, runId: 'fresh' });
    expect(statuses(results)).toEqual({
      'same-city:presence': 'pass', 'same-city:freshness': 'pass', 'same-city:completeness': 'pass', 'same-city:integrity': 'pass', 'same-city:retention': 'pass',
      'off-site:presence': 'pass', 'off-site:freshness': 'pass', 'off-site:completeness': 'pass', 'off-site:integrity': 'pass', 'off-site:retention': 'pass',
      'same-city:ransomware': 'pass', 'off-site:ransomware': 'pass', 'cross-site:cross-site': 'pass',
    });
    const keyed = byKey(results);
    expect(keyed['same-city:presence']!.detail).toMatchObject({ sets: 8, latestSet: LATEST, target: `restic:${sameCity}` });
    expect(keyed['same-city:freshness']!.detail).toMatchObject({ ageSeconds: 4 * 3600 });
    expect(keyed['same-city:completeness']!.detail).toMatchObject({ files: 2, comparedWith: 7 });
    expect(keyed['same-city:integrity']!.detail).toMatchObject({ repository: 'restic', command: 'restic check --read-data-subset=100%' });
    expect(keyed['off-site:integrity']!.detail).toMatchObject({ command: 'restic check' });
    expect(keyed['cross-site:cross-site']!.detail).toMatchObject({ comparedSet: LATEST, compared: 'paths and sizes', filesCompared: 2, differing: [] });
  });

  it('the repository password never appears in results', async () => {
    const results = await verifyBackups(system(repo(sameCity), repo(join(dir, 'nowhere'))), { now: NOW, runId: 'secret' });
    expect(JSON.stringify(results)).not.toContain(PASSWORD);
    expect(byKey(results)['off-site:presence']!.status).toBe('fail');
  });

  it('reads the password from an environment variable', async () => {
    const variable = `SHOUWANG_TEST_RESTIC_${randomUUID().replace(/-/g, '_')}`;
    process.env[variable] = PASSWORD;
    try {
      const target = repo(sameCity, { passwordFile: undefined, passwordEnv: variable });
      delete target.passwordFile;
      const results = await verifyBackups(system(target, target), { now: NOW, runId: 'env', sites: ['same-city'] });
      expect(byKey(results)['same-city:presence']!.status).toBe('pass');
    } finally {
      delete process.env[variable];
    }
  });

  it('a wrong password fails presence with restic\'s reason', async () => {
    const wrong = join(dir, `wrong-${randomUUID()}`);
    writeFileSync(wrong, 'not-the-password\n');
    const results = await verifyBackups(system(repo(sameCity, { passwordFile: wrong }), repo(offSite)), { now: NOW, runId: 'wrong', sites: ['same-city'] });
    const presence = byKey(results)['same-city:presence']!;
    expect(presence.status).toBe('fail');
    expect(presence.summary).toMatch(/password|key/i);
  });

  it('stale: snapshots older than the RPO fail freshness', async () => {
    const results = await verifyBackups(system(repo(sameCity), repo(offSite)), { now: new Date(NOW.getTime() + 2 * DAY), runId: 'stale' });
    const keyed = byKey(results);
    expect(keyed['same-city:freshness']!.status).toBe('fail');
    expect(keyed['off-site:freshness']!.status).toBe('fail');
    expect(keyed['same-city:freshness']!.detail).toMatchObject({ latestSet: LATEST, ageSeconds: 2 * 86_400 + 4 * 3600 });
  });

  it('corrupted: a flipped byte in a pack fails integrity when restic reads the data', async () => {
    const broken = copyRepo(sameCity);
    const pack = packFiles(broken).sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
    const bytes = readFileSync(pack);
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    writeFileSync(pack, bytes);
    const results = await verifyBackups(system(repo(broken, { readDataSubset: '100%' }), repo(offSite)), { now: NOW, runId: 'corrupt', sites: ['same-city'] });
    const integrity = byKey(results)['same-city:integrity']!;
    expect(integrity.status).toBe('fail');
    expect(integrity.summary).toContain('restic check --read-data-subset=100%');
    expect(String(integrity.detail.output)).toMatch(/pack|hash|does not match/i);
    // Documented limit: without a read-data subset restic reads only the structure and misses it.
    const structural = await verifyBackups(system(repo(broken), repo(offSite)), { now: NOW, runId: 'corrupt-structure', sites: ['same-city'] });
    expect(byKey(structural)['same-city:integrity']!.status).toBe('pass');
  });

  it('deleted objects: a pack file removed from the repository fails integrity even without reading data', async () => {
    const broken = copyRepo(sameCity);
    const pack = packFiles(broken).sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
    rmSync(pack);
    const results = await verifyBackups(system(repo(broken), repo(offSite)), { now: NOW, runId: 'deleted', sites: ['same-city'] });
    const integrity = byKey(results)['same-city:integrity']!;
    expect(integrity.status).toBe('fail');
    expect(String(integrity.detail.output)).toMatch(/pack [0-9a-f]{64}: does not exist/);
  }, 120_000);

  it('missing off-site: an empty off-site repository fails presence and cross-site', async () => {
    const empty = join(dir, `empty-${randomUUID()}`);
    await restic(empty, passwordFile, ['init']);
    const results = await verifyBackups(system(repo(sameCity), repo(empty)), { now: NOW, runId: 'missing' });
    const keyed = byKey(results);
    expect(keyed['off-site:presence']!.status).toBe('fail');
    expect(keyed['cross-site:cross-site']!.status).toBe('fail');
    expect(keyed['same-city:presence']!.status).toBe('pass');
  });

  it('off-site behind: the latest snapshot not yet copied is counted as lag', async () => {
    const behind = copyRepo(offSite);
    const ids = JSON.parse(await restic(behind, passwordFile, ['snapshots', '--json'])) as { id: string; time: string }[];
    const newest = ids.sort((a, b) => a.time.localeCompare(b.time)).at(-1)!;
    await restic(behind, passwordFile, ['forget', newest.id]);
    const results = await verifyBackups(system(repo(sameCity), repo(behind)), { now: NOW, runId: 'behind' });
    const cross = byKey(results)['cross-site:cross-site']!;
    expect(cross.status).toBe('warn');
    expect(cross.detail).toMatchObject({ lagSets: 1, behind: 'off-site', comparedSet: formatSetName(SET_TIMES.at(-2)!) });
  });

  it('cross-site names files whose sizes differ between the repositories', async () => {
    const other = join(dir, `other-${randomUUID()}`);
    const source = join(dir, `other-source-${randomUUID()}`, 'source');
    mkdirSync(join(source, 'db'), { recursive: true });
    mkdirSync(join(source, 'app'), { recursive: true });
    writeFileSync(join(source, 'db', 'main.dump'), randomBytes(1000));
    writeFileSync(join(source, 'app', 'config.yaml'), `port: 8080\nat: ${SET_TIMES.at(-1)!.toISOString()}\n`);
    await restic(other, passwordFile, ['init']);
    await restic(other, passwordFile, ['backup', '--time', resticTime(SET_TIMES.at(-1)!), 'source'], join(source, '..'));
    const results = await verifyBackups(system(repo(sameCity), repo(other)), { now: NOW, runId: 'differs' });
    const cross = byKey(results)['cross-site:cross-site']!;
    expect(cross.status).toBe('fail');
    expect(cross.detail).toMatchObject({ differing: ['source/db/main.dump'] });
  });

  it('lists files and reads them back with restic dump', async () => {
    const target = new ResticRepository({ path: sameCity, passwordFile });
    const sets = await target.listSets();
    expect(sets.map((s) => s.name)).toEqual(SET_TIMES.map(formatSetName));
    const files = await target.listFiles(LATEST);
    expect(files.map((f) => f.path)).toEqual(['source/app/config.yaml', 'source/db/main.dump']);
    const chunks: Buffer[] = [];
    for await (const chunk of target.openRead(LATEST, 'source/app/config.yaml')) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe(`port: 8080\nat: ${SET_TIMES.at(-1)!.toISOString()}\n`);
    await expect(async () => {
      for await (const _ of target.openRead(LATEST, 'source/nope')) void _;
    }).rejects.toThrow(/SW_ERR_BACKUP_TARGET|cannot read/);
  });
});

describe('restic restore drill', () => {
  it('restores the newest snapshot for real, checks every size and a sample of checksums, with its RTO', async () => {
    const result = await runRestoreDrill(system(repo(sameCity), repo(offSite)), { servers: {}, runId: `drill-${randomUUID()}`, site: 'off-site', now: new Date(SET_TIMES.at(-1)!.getTime() + 3_600_000) });
    expect(result.status).toBe('pass');
    expect(result.detail).toMatchObject({
      site: 'off-site', repository: 'restic', set: LATEST, restoredFiles: 2, mismatches: [],
      sampled: ['source/db/main.dump', 'source/app/config.yaml'], rto: { targetSeconds: 4 * 3600, met: true },
    });
    expect((result.detail.rto as { achievedSeconds: number }).achievedSeconds).toBeGreaterThan(0);
    expect(JSON.stringify(result)).not.toContain(PASSWORD);
  });

  it('a flipped byte in a pack fails the drill and names the failure', async () => {
    const broken = copyRepo(sameCity);
    for (const pack of packFiles(broken)) {
      const bytes = readFileSync(pack);
      bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
      writeFileSync(pack, bytes);
    }
    const result = await runRestoreDrill(system(repo(broken), repo(offSite)), { servers: {}, runId: `drill-${randomUUID()}` });
    expect(result.status).toBe('fail');
    expect(result.summary).toMatch(/restore drill failed/);
  });
});

describe('restic ransomware signals', () => {
  it('samples snapshots by restoring the sample in one run: a normal next snapshot passes, an openssl-encrypted one is critical', async () => {
    const repository = join(dir, `ransom-${randomUUID()}`);
    const source = join(dir, `ransom-source-${randomUUID()}`, 'source');
    mkdirSync(source, { recursive: true });
    await restic(repository, passwordFile, ['init']);
    const rows = (seed: number) => Array.from({ length: 3000 }, (_, i) => `${i},户籍 ${(i * seed) % 997},黄浦,${(i * 7 + seed) % 10_000}.00,done`).join('\n');
    for (let i = 0; i < 5; i++) writeFileSync(join(source, `records-${i}.csv`), rows(i + 1));
    const backup = (time: Date) => restic(repository, passwordFile, ['backup', '--host', 'gaj-db', '--time', resticTime(time), 'source'], dirname(source));
    const target = () => new ResticRepository({ path: repository, passwordFile });
    const fingerprint = (outcome: { detail: Record<string, unknown> }) => outcome.detail.fingerprint as SetFingerprint;
    await backup(SET_TIMES[0]!);
    const first = await checkRansomware(await takeSnapshot('same-city', target()));
    expect(first.detail).toMatchObject({ latestSet: formatSetName(SET_TIMES[0]!), sampled: 5 });

    writeFileSync(join(source, 'records-0.csv'), rows(50));
    await backup(SET_TIMES[1]!);
    // Without the stored fingerprint a repository set is not restored a second time: the run records a baseline.
    expect((await checkRansomware(await takeSnapshot('same-city', target()))).detail).toMatchObject({ baseline: true, previousSet: formatSetName(SET_TIMES[0]!) });
    const normal = await checkRansomware(await takeSnapshot('same-city', target()), { stored: fingerprint(first) });
    expect(normal.status).toBe('pass');
    expect(normal.detail).toMatchObject({ fingerprintSource: 'stored', sampled: 5, comparable: 5, flippedFiles: 0 });

    for (const name of readdirSync(source)) {
      execFileSync('openssl', ['enc', '-aes-256-cbc', '-pbkdf2', '-pass', 'pass:x', '-in', join(source, name), '-out', join(source, `${name}.locked`)]);
      unlinkSync(join(source, name));
    }
    await backup(SET_TIMES[2]!);
    const hit = await checkRansomware(await takeSnapshot('same-city', target()), { stored: fingerprint(normal) });
    expect(hit.status).toBe('fail');
    expect(hit.detail).toMatchObject({ fingerprintSource: 'stored', severity: 'critical', flippedFiles: 5, newExtension: { extension: '.locked', files: 5 } });
    expect(hit.summary).toContain('source/records-0.csv.locked');
  });
});

describe('inventory: repository targets', () => {
  const inventory = (sameCity: Record<string, unknown>) => ({
    departments: [{ id: 'gaj', name: '公安局' }],
    systems: [{
      id: 'gaj-jwzh', name: '警务综合平台', department: 'gaj', mlpsLevel: 3, zone: '政务外网', owner: { name: '王工' },
      backup: { rpo: '1d', rto: '4h', sameCity, offSite: { type: 'path', path: '/srv/off' } },
    }],
  });

  it('accepts a restic repository with a password file and a read-data subset', () => {
    const parsed = parseInventory(inventory({ type: 'path', path: '/srv/repo', kind: 'restic', passwordFile: '/etc/pw', readDataSubset: '5%' }), 'test');
    expect(parsed.systems[0]!.backup!.sameCity).toMatchObject({ kind: 'restic', readDataSubset: '5%' });
  });

  it.each([
    [{ kind: 'restic' }, 'passwordFile', 'exactly one of passwordFile or passwordEnv'],
    [{ kind: 'restic', passwordFile: '/a', passwordEnv: 'B' }, 'passwordFile', 'exactly one'],
    [{ kind: 'restic', passwordFile: '/a', readDataSubset: 'lots' }, 'readDataSubset', 'n/t'],
    [{ kind: 'restic', passwordEnv: '1-bad' }, 'passwordEnv', 'environment variable name'],
    [{ passwordFile: '/a' }, 'passwordFile', 'only for a repository'],
    [{ kind: 'borg', passwordFile: '/a', readDataSubset: '5%' }, 'readDataSubset', 'restic only'],
    [{ kind: 'restic', passwordFile: '/a', verifyData: true }, 'verifyData', 'borg only'],
    [{ kind: 'tape', passwordFile: '/a' }, 'kind', ''],
  ])('rejects %j naming the field', (extra, field, message) => {
    expect(() => parseInventory(inventory({ type: 'path', path: '/srv/repo', ...extra }), 'test'))
      .toThrow(new RegExp(`sameCity\\.${field}.*${message.replace(/[/]/g, '\\/')}`, 's'));
  });
});
