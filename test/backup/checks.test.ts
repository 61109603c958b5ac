import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SystemSchema, type BusinessSystem, type JobResult } from '../../core/index.js';
import { EmbeddedStore } from '../../store/index.js';
import { formatSetName, recordResults, verifyBackups, type VerifyProgress } from '../../backup/index.js';
import { startSftp, type SftpServer } from '../harness/sftp.js';

const NOW = new Date('2026-11-26T06:00:00Z');
const DAY = 86_400_000;
/** Eight daily sets at 02:00, the newest four hours before NOW. */
const SET_TIMES = Array.from({ length: 8 }, (_, i) => new Date(Date.UTC(2026, 10, 19 + i, 2)));
const LATEST = formatSetName(SET_TIMES.at(-1)!);
const PREVIOUS = formatSetName(SET_TIMES.at(-2)!);

type ManifestKind = 'json' | 'json+sm3' | 'sums';

function writeManifest(setDir: string, files: Record<string, Buffer>, kind: ManifestKind, createdAt: Date): void {
  const entries = Object.entries(files).map(([path, data]) => ({
    path, size: data.length,
    sha256: createHash('sha256').update(data).digest('hex'),
    ...(kind === 'json+sm3' ? { sm3: createHash('sm3').update(data).digest('hex') } : {}),
  }));
  if (kind === 'sums') writeFileSync(join(setDir, 'SHA256SUMS'), entries.map((e) => `${e.sha256}  ${e.path}\n`).join(''));
  else writeFileSync(join(setDir, 'manifest.json'), JSON.stringify({ createdAt: createdAt.toISOString(), files: entries }));
}

function writeSet(root: string, time: Date, kind: ManifestKind, files?: Record<string, Buffer>): void {
  const setDir = join(root, formatSetName(time));
  const content = files ?? {
    'app/data.bin': randomBytes(40_000 + Math.floor(Math.random() * 2_000)),
    'db/main.dump': Buffer.concat([Buffer.from('PGDMP'), randomBytes(20_000)]),
    'db/users.sql': Buffer.from(`-- MariaDB dump 10.19\nCREATE TABLE users (id int);\n${'INSERT INTO users VALUES (1);\n'.repeat(200)}`),
    'config/app.yaml': Buffer.from('port: 8080\n'),
  };
  for (const [path, data] of Object.entries(content)) {
    mkdirSync(dirname(join(setDir, path)), { recursive: true });
    writeFileSync(join(setDir, path), data);
  }
  writeManifest(setDir, content, kind, time);
}

type SftpSpec = { type: 'sftp'; host: string; port: number; user: string; path: string };

function system(sameCity: string, offSite: string | SftpSpec, level = 3): BusinessSystem {
  return SystemSchema.parse({
    id: 'gaj-jwzh', name: '警务综合平台', department: 'gaj', mlpsLevel: level, zone: '政务外网', owner: { name: '王工' },
    backup: {
      rpo: '1d', rto: '4h', retention: '7d',
      sameCity: { type: 'path', path: sameCity },
      offSite: typeof offSite === 'string' ? { type: 'path', path: offSite } : offSite,
    },
  });
}

const byKey = (results: JobResult[]) =>
  Object.fromEntries(results.map((r) => [`${r.site ?? 'cross-site'}:${(r.detail as { check: string }).check}`, r]));
const statuses = (results: JobResult[]) =>
  Object.fromEntries(Object.entries(byKey(results)).map(([key, r]) => [key, r.status]));

let dir: string;
let sameCity: string;
let offSite: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'shouwang-checks-'));
  sameCity = join(dir, 'same-city');
  offSite = join(dir, 'off-site');
  for (const time of SET_TIMES) writeSet(sameCity, time, 'json+sm3');
  cpSync(sameCity, offSite, { recursive: true });
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('verifyBackups on local paths', () => {
  it('passes a healthy pair: every check at both sites plus cross-site, with the MLPS clause and progress', async () => {
    const progress: VerifyProgress[] = [];
    const results = await verifyBackups(system(sameCity, offSite), { now: NOW, runId: 'run-1', onProgress: (p) => progress.push(p) });
    expect(statuses(results)).toEqual({
      'same-city:presence': 'pass', 'same-city:freshness': 'pass', 'same-city:completeness': 'pass',
      'same-city:integrity': 'pass', 'same-city:retention': 'pass', 'same-city:ransomware': 'pass',
      'off-site:presence': 'pass', 'off-site:freshness': 'pass', 'off-site:completeness': 'pass',
      'off-site:integrity': 'pass', 'off-site:retention': 'pass', 'off-site:ransomware': 'pass', 'cross-site:cross-site': 'pass',
    });
    const integrity = byKey(results)['same-city:integrity']!;
    expect(integrity.detail).toMatchObject({ clause: expect.stringContaining('8.1.4.9'), latestSet: LATEST, algorithms: ['sha256', 'sm3'], filesHashed: 4 });
    expect(integrity.summary).toMatch(/同城.*\/ all 4 files/);
    expect(byKey(results)['same-city:freshness']!.detail).toMatchObject({ ageSeconds: 4 * 3600, rpoSeconds: 86_400 });
    expect(new Set(results.map((r) => r.id)).size).toBe(results.length);
    const last = progress.at(-1)!;
    expect(last.total).toBeGreaterThan(0);
    expect(last.done).toBe(last.total);
    expect(progress.some((p) => p.step.includes('完整性校验 integrity') && p.site === 'off-site')).toBe(true);
  });

  it('picks the clause by MLPS level', async () => {
    const level2 = await verifyBackups(system(sameCity, offSite, 2), { now: NOW, sites: ['same-city'] });
    const level4 = await verifyBackups(system(sameCity, offSite, 4), { now: NOW, sites: ['same-city'] });
    expect(level2[0]!.detail.clause).toContain('7.1.4.8 数据备份恢复');
    expect(level2[0]!.detail.clause).not.toContain('7.1.4.9');
    expect(level4[0]!.detail.clause).toContain('9.1.4.9');
    expect(level2).toHaveLength(6);
  });

  it('names a file with one flipped byte as corrupted', async () => {
    const file = join(sameCity, LATEST, 'app/data.bin');
    const data = readFileSync(file);
    data[1234] = data[1234]! ^ 0xff;
    writeFileSync(file, data);
    const results = byKey(await verifyBackups(system(sameCity, offSite), { now: NOW }));
    expect(results['same-city:integrity']).toMatchObject({ status: 'fail', detail: { corrupted: ['app/data.bin'] } });
    expect(results['same-city:integrity']!.summary).toContain('app/data.bin');
    expect(results['off-site:integrity']!.status).toBe('pass');
  });

  it('names a truncated file, a deleted file and an extra file', async () => {
    truncateSync(join(sameCity, LATEST, 'db/main.dump'), 100);
    unlinkSync(join(sameCity, LATEST, 'config/app.yaml'));
    writeFileSync(join(offSite, LATEST, 'stray.tmp'), 'left behind');
    const results = byKey(await verifyBackups(system(sameCity, offSite), { now: NOW }));
    expect(results['same-city:integrity']).toMatchObject({
      status: 'fail', detail: { truncated: ['db/main.dump'], missing: ['config/app.yaml'] },
    });
    expect(results['same-city:integrity']!.summary).toMatch(/truncated: db\/main\.dump.*missing: config\/app\.yaml|missing: config\/app\.yaml.*truncated: db\/main\.dump/);
    expect(results['off-site:integrity']).toMatchObject({ status: 'warn', detail: { extra: ['stray.tmp'] } });
  });

  it('detects a truncated file with a SHA256SUMS manifest (no sizes) as corrupted', async () => {
    rmSync(offSite, { recursive: true });
    for (const time of SET_TIMES) writeSet(offSite, time, 'sums');
    truncateSync(join(offSite, LATEST, 'db/users.sql'), 10);
    const results = byKey(await verifyBackups(system(sameCity, offSite), { now: NOW, sites: ['off-site'] }));
    expect(results['off-site:integrity']).toMatchObject({ status: 'fail', detail: { corrupted: ['db/users.sql'], manifest: 'SHA256SUMS', algorithms: ['sha256'] } });
  });

  it('flags a dump whose header is not a dump', async () => {
    rmSync(join(sameCity, LATEST), { recursive: true });
    writeSet(sameCity, SET_TIMES.at(-1)!, 'json', {
      'db/main.dump': Buffer.from('<html>502 Bad Gateway</html>'), 'app/data.bin': randomBytes(40_000),
      'db/users.sql': Buffer.from('-- MySQL dump\n'), 'config/app.yaml': Buffer.from('x: 1\n'),
    });
    const results = byKey(await verifyBackups(system(sameCity, offSite), { now: NOW, sites: ['same-city'] }));
    expect(results['same-city:integrity']).toMatchObject({ status: 'warn', detail: { 'not-a-dump': ['db/main.dump'] } });
  });

  it('fails a stale set beyond the RPO and warns near it', async () => {
    const stale = byKey(await verifyBackups(system(sameCity, offSite), { now: new Date(NOW.getTime() + 2 * DAY) }));
    expect(stale['same-city:freshness']).toMatchObject({ status: 'fail', detail: { latestSet: LATEST, ageSeconds: 2 * 86_400 + 4 * 3600 } });
    expect(stale['same-city:freshness']!.summary).toContain('beyond the RPO');
    const near = byKey(await verifyBackups(system(sameCity, offSite), { now: new Date(NOW.getTime() + 17 * 3_600_000), sites: ['same-city'] }));
    expect(near['same-city:freshness']).toMatchObject({ status: 'warn', detail: { ageSeconds: 21 * 3600 } });
  });

  it('reports an off-site copy one set behind as lag, and two sets (beyond the RPO) as a failure', async () => {
    rmSync(join(offSite, LATEST), { recursive: true });
    const one = byKey(await verifyBackups(system(sameCity, offSite), { now: NOW }));
    expect(one['cross-site:cross-site']).toMatchObject({
      status: 'warn', detail: { behind: 'off-site', lagSets: 1, lagSeconds: 86_400, comparedSet: PREVIOUS, offSiteLatest: PREVIOUS },
    });
    expect(one['cross-site:cross-site']!.summary).toContain('off-site is 1 set(s)');
    rmSync(join(offSite, PREVIOUS), { recursive: true });
    const two = byKey(await verifyBackups(system(sameCity, offSite), { now: NOW }));
    expect(two['cross-site:cross-site']).toMatchObject({ status: 'fail', detail: { lagSets: 2, lagSeconds: 2 * 86_400 } });
  });

  it('fails when the off-site copy of the latest set has different checksums, naming the file', async () => {
    rmSync(join(offSite, LATEST), { recursive: true });
    const files = {
      'app/data.bin': randomBytes(40_000),
      'db/main.dump': readFileSync(join(sameCity, LATEST, 'db/main.dump')),
      'db/users.sql': readFileSync(join(sameCity, LATEST, 'db/users.sql')),
      'config/app.yaml': readFileSync(join(sameCity, LATEST, 'config/app.yaml')),
    };
    writeSet(offSite, SET_TIMES.at(-1)!, 'json+sm3', files);
    const results = byKey(await verifyBackups(system(sameCity, offSite), { now: NOW }));
    expect(results['off-site:integrity']!.status).toBe('pass');
    expect(results['cross-site:cross-site']).toMatchObject({ status: 'fail', detail: { differing: ['app/data.bin'], comparedSet: LATEST } });
    expect(results['cross-site:cross-site']!.summary).toContain('app/data.bin');
  });

  it('flags a sudden drop in size and file count', async () => {
    rmSync(join(sameCity, LATEST), { recursive: true });
    writeSet(sameCity, SET_TIMES.at(-1)!, 'json', { 'config/app.yaml': Buffer.from('port: 8080\n') });
    const results = byKey(await verifyBackups(system(sameCity, offSite), { now: NOW, sites: ['same-city'] }));
    expect(results['same-city:completeness']).toMatchObject({ status: 'fail', detail: { files: 1, comparedWith: 7, medianFiles: 4 } });
    expect((results['same-city:completeness']!.detail as { bytesDropRatio: number }).bytesDropRatio).toBeGreaterThan(0.9);
    expect(results['same-city:integrity']!.status).toBe('pass');
  });

  it('fails retention when promised sets were pruned early or are missing in the middle', async () => {
    for (const time of SET_TIMES.slice(0, 3)) rmSync(join(sameCity, formatSetName(time)), { recursive: true });
    rmSync(join(offSite, formatSetName(SET_TIMES[5]!)), { recursive: true });
    const results = byKey(await verifyBackups(system(sameCity, offSite), { now: NOW }));
    expect(results['same-city:retention']).toMatchObject({ status: 'fail', detail: { oldestSet: formatSetName(SET_TIMES[3]!), setsBeyondRetention: 0 } });
    expect(results['same-city:retention']!.summary).toContain('are gone');
    expect(results['off-site:retention']).toMatchObject({
      status: 'fail', detail: { gaps: [{ after: formatSetName(SET_TIMES[4]!), before: formatSetName(SET_TIMES[6]!), gapSeconds: 2 * 86_400 }] },
    });
  });

  it('fails presence (and everything that needs a set) for a missing target, without throwing', async () => {
    const results = byKey(await verifyBackups(system(sameCity, join(dir, 'nowhere')), { now: NOW }));
    expect(results['off-site:presence']).toMatchObject({ status: 'fail', detail: { error: expect.stringContaining('ENOENT') } });
    expect(results['off-site:presence']!.summary).toContain('unreadable');
    for (const check of ['freshness', 'completeness', 'integrity', 'retention']) expect(results[`off-site:${check}`]!.status).toBe('fail');
    expect(results['cross-site:cross-site']!.status).toBe('fail');
    expect(results['same-city:integrity']!.status).toBe('pass');
  });

  it('fails integrity on a broken manifest with the reason', async () => {
    writeFileSync(join(sameCity, LATEST, 'manifest.json'), JSON.stringify({ files: [{ path: '../x', sha256: 'a'.repeat(64) }] }));
    const results = byKey(await verifyBackups(system(sameCity, offSite), { now: NOW, sites: ['same-city'] }));
    expect(results['same-city:integrity']).toMatchObject({ status: 'fail', detail: { manifestError: expect.stringContaining('"../x" is not a plain relative path') } });
    expect(results['same-city:completeness']!.status).toBe('pass');
  });

  it('refuses a system without a backup policy and stops when aborted', async () => {
    const bare = SystemSchema.parse({ id: 'x', name: 'x', department: 'd', mlpsLevel: 2, zone: '专网', owner: { name: 'o' } });
    await expect(verifyBackups(bare)).rejects.toMatchObject({ code: 'SW_ERR_BACKUP_NO_POLICY' });
    await expect(verifyBackups(system(sameCity, offSite), { now: NOW, signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    const controller = new AbortController();
    const steps: string[] = [];
    const hashing = verifyBackups(system(sameCity, offSite), {
      now: NOW, signal: controller.signal, concurrency: 1,
      onProgress: (p) => {
        steps.push(p.step);
        if (p.done > 0) controller.abort();
      },
    });
    await expect(hashing).rejects.toMatchObject({ name: 'AbortError' });
    expect(steps.some((step) => step.includes('异地'))).toBe(false);
  });

  it('a retried run leaves exactly one result per check in the store', async () => {
    const store = new EmbeddedStore({ path: join(dir, 'results.db') });
    try {
      const runId = `test-${randomUUID()}`;
      const first = await verifyBackups(system(sameCity, offSite), { now: NOW, runId });
      await recordResults(store.jobResults, first);
      const retried = await verifyBackups(system(sameCity, offSite), { now: NOW, runId });
      await recordResults(store.jobResults, retried);
      expect(retried.map((r) => r.id)).toEqual(first.map((r) => r.id));
      const page = await store.jobResults.search({ kind: 'backup-check', system: 'gaj-jwzh' }, { size: 100 });
      expect(page.total).toBe(13);
      const other = await verifyBackups(system(sameCity, offSite), { now: NOW, runId: `${runId}-2` });
      expect(other.map((r) => r.id).filter((id) => first.some((r) => r.id === id))).toEqual([]);
    } finally {
      await store.close();
    }
  });
});

describe('verifyBackups with the off-site target on SFTP', () => {
  let sftp: SftpServer;
  beforeAll(async () => {
    sftp = await startSftp();
  });
  afterAll(async () => {
    await sftp?.stop();
  });

  const sftpSystem = () => system(sameCity, { type: 'sftp', host: sftp.host, port: sftp.port, user: sftp.user, path: offSite });
  const options = () => ({ now: NOW, sftp: { privateKey: sftp.privateKey, hostKeyFingerprints: [sftp.hostKeyFingerprint] } });

  it('passes a healthy pair exactly as the local path does', async () => {
    const remote = await verifyBackups(sftpSystem(), options());
    const local = await verifyBackups(system(sameCity, offSite), { now: NOW });
    expect(statuses(remote)).toEqual(statuses(local));
    expect(Object.values(statuses(remote)).every((s) => s === 'pass')).toBe(true);
    expect(byKey(remote)['off-site:integrity']!.detail).toMatchObject({ filesHashed: 4, algorithms: ['sha256', 'sm3'] });
  });

  it('finds the same damage over SFTP as locally: a flipped byte, a deleted file and a set behind', async () => {
    const file = join(offSite, PREVIOUS, 'db/main.dump');
    const data = readFileSync(file);
    data[10] = data[10]! ^ 0x01;
    writeFileSync(file, data);
    unlinkSync(join(offSite, PREVIOUS, 'config/app.yaml'));
    rmSync(join(offSite, LATEST), { recursive: true });
    const remote = await verifyBackups(sftpSystem(), options());
    const local = await verifyBackups(system(sameCity, offSite), { now: NOW });
    expect(statuses(remote)).toEqual(statuses(local));
    expect(byKey(remote)['off-site:integrity']).toMatchObject({ status: 'fail', detail: { corrupted: ['db/main.dump'], missing: ['config/app.yaml'] } });
    expect(byKey(remote)['cross-site:cross-site']).toMatchObject({ status: 'warn', detail: { lagSets: 1 } });
  });
});
