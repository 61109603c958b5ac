import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemSchema, type BusinessSystem, type JobResult } from '../../core/index.js';
import { BorgRepository, formatSetName, runRestoreDrill, verifyBackups } from '../../backup/index.js';
import { borg, ensureBorg } from '../harness/borg.js';

const NOW = new Date('2026-11-26T06:00:00Z');
const DAY = 86_400_000;
/** Eight daily archives at 02:00, the newest four hours before NOW. */
const SET_TIMES = Array.from({ length: 8 }, (_, i) => new Date(Date.UTC(2026, 10, 19 + i, 2)));
const LATEST = formatSetName(SET_TIMES.at(-1)!);
const borgTime = (time: Date) => time.toISOString().replace(/\.\d{3}Z$/, '');

let dir: string;
let source: string;
let passwordFile: string;
const PASSWORD = `pw-${randomUUID()}`;
let sameCity: string;
let offSite: string;

type Target = { type: 'path'; path: string; kind: 'borg'; passwordFile?: string; passwordEnv?: string; verifyData?: boolean };

function system(same: Target, off: Target): BusinessSystem {
  return SystemSchema.parse({
    id: 'gaj-jwzh', name: '警务综合平台', department: 'gaj', mlpsLevel: 3, zone: '政务外网', owner: { name: '王工' },
    backup: { rpo: '1d', rto: '4h', retention: '7d', sameCity: same, offSite: off },
  });
}

const repo = (path: string, extra: Partial<Target> = {}): Target => ({ type: 'path', path, kind: 'borg', passwordFile, ...extra });

const byKey = (results: JobResult[]) =>
  Object.fromEntries(results.map((r) => [`${r.site ?? 'cross-site'}:${(r.detail as { check: string }).check}`, r]));
const statuses = (results: JobResult[]) =>
  Object.fromEntries(Object.entries(byKey(results)).map(([key, r]) => [key, r.status]));

function writeSource(time: Date): void {
  writeFileSync(join(source, 'db', 'main.dump'), Buffer.concat([Buffer.from('PGDMP'), randomBytes(200_000)]));
  writeFileSync(join(source, 'app', 'config.yaml'), `port: 8080\nat: ${time.toISOString()}\n`);
}

/** A new repository holding one archive of the latest time, to break without touching the shared ones. */
async function oneArchiveRepo(): Promise<string> {
  const path = join(dir, `repo-${randomUUID()}`);
  await borg(PASSWORD, ['init', '-e', 'repokey', path]);
  await borg(PASSWORD, ['create', '--timestamp', borgTime(SET_TIMES.at(-1)!), `${path}::latest`, 'source'], dir);
  return path;
}

/** Flips one byte in the middle of every segment file that holds data. */
function corruptSegments(repository: string): void {
  const data = join(repository, 'data');
  for (const sub of readdirSync(data)) {
    for (const name of readdirSync(join(data, sub))) {
      const file = join(data, sub, name);
      if (statSync(file).size < 1000) continue;
      const bytes = readFileSync(file);
      bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
      writeFileSync(file, bytes);
    }
  }
}

beforeAll(async () => {
  await ensureBorg();
  dir = mkdtempSync(join(tmpdir(), 'shouwang-borg-'));
  passwordFile = join(dir, 'password');
  writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  sameCity = join(dir, 'same-city');
  offSite = join(dir, 'off-site');
  source = join(dir, 'source');
  mkdirSync(join(source, 'db'), { recursive: true });
  mkdirSync(join(source, 'app'), { recursive: true });
  await borg(PASSWORD, ['init', '-e', 'repokey', sameCity]);
  await borg(PASSWORD, ['init', '-e', 'repokey', offSite]);
  for (const time of SET_TIMES) {
    writeSource(time);
    // The off-site copy is the same archive made again into the second repository (as `borg create` twice or a sync would).
    for (const repository of [sameCity, offSite]) {
      await borg(PASSWORD, ['create', '--timestamp', borgTime(time), `${repository}::gaj-${formatSetName(time)}`, 'source'], dir);
    }
  }
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// Each verification runs several borg processes (check, list, and one extract of the ransomware sample per site); on
// a shared, loaded machine (load 20 on 2 cores) one took 57 s, and some hit the 30 s default even before the sample.
describe('Borg repositories as backup targets', { timeout: 120_000 }, () => {
  it('fresh repositories pass all thirteen checks from the archive list, borg check and the listings', async () => {
    const results = await verifyBackups(system(repo(sameCity, { verifyData: true }), repo(offSite)), { now: NOW, runId: 'fresh' });
    expect(statuses(results)).toEqual({
      'same-city:presence': 'pass', 'same-city:freshness': 'pass', 'same-city:completeness': 'pass', 'same-city:integrity': 'pass', 'same-city:retention': 'pass',
      'off-site:presence': 'pass', 'off-site:freshness': 'pass', 'off-site:completeness': 'pass', 'off-site:integrity': 'pass', 'off-site:retention': 'pass',
      'same-city:ransomware': 'pass', 'off-site:ransomware': 'pass', 'cross-site:cross-site': 'pass',
    });
    const keyed = byKey(results);
    expect(keyed['same-city:presence']!.detail).toMatchObject({ sets: 8, latestSet: LATEST, target: `borg:${sameCity}` });
    expect(keyed['same-city:freshness']!.detail).toMatchObject({ ageSeconds: 4 * 3600 });
    expect(keyed['same-city:integrity']!.detail).toMatchObject({ repository: 'borg', command: 'borg check --verify-data' });
    expect(keyed['off-site:integrity']!.detail).toMatchObject({ command: 'borg check' });
    expect(keyed['cross-site:cross-site']!.detail).toMatchObject({ comparedSet: LATEST, compared: 'paths and sizes', filesCompared: 2, differing: [] });
    expect(JSON.stringify(results)).not.toContain(PASSWORD);
  });

  it('reads the passphrase from an environment variable; a wrong one fails presence', async () => {
    const variable = `SHOUWANG_TEST_BORG_${randomUUID().replace(/-/g, '_')}`;
    process.env[variable] = PASSWORD;
    try {
      const good: Target = { type: 'path', path: sameCity, kind: 'borg', passwordEnv: variable };
      expect(byKey(await verifyBackups(system(good, good), { now: NOW, runId: 'env', sites: ['same-city'] }))['same-city:presence']!.status).toBe('pass');
      const wrong = `wrong-${randomUUID()}`;
      process.env[variable] = wrong;
      const results = await verifyBackups(system(good, good), { now: NOW, runId: 'env-wrong', sites: ['same-city'] });
      expect(byKey(results)['same-city:presence']!.status).toBe('fail');
      expect(JSON.stringify(results)).not.toContain(wrong);
    } finally {
      delete process.env[variable];
    }
  });

  it('stale: archives older than the RPO fail freshness', async () => {
    const results = await verifyBackups(system(repo(sameCity), repo(offSite)), { now: new Date(NOW.getTime() + 2 * DAY), runId: 'stale', sites: ['same-city'] });
    expect(byKey(results)['same-city:freshness']!.status).toBe('fail');
    expect(byKey(results)['same-city:freshness']!.detail).toMatchObject({ latestSet: LATEST, ageSeconds: 2 * 86_400 + 4 * 3600 });
  });

  it('corrupted: a flipped byte in a segment fails borg check', async () => {
    const broken = await oneArchiveRepo();
    corruptSegments(broken);
    const results = await verifyBackups(system(repo(broken), repo(offSite)), { now: NOW, runId: 'corrupt', sites: ['same-city'] });
    const integrity = byKey(results)['same-city:integrity']!;
    expect(integrity.status).toBe('fail');
    expect(integrity.summary).toContain('borg check');
  });

  it('deleted objects: a segment file removed from the repository fails presence and integrity', async () => {
    const broken = await oneArchiveRepo();
    const data = join(broken, 'data');
    const segments = readdirSync(data).flatMap((sub) => readdirSync(join(data, sub)).map((name) => join(data, sub, name)));
    rmSync(segments.sort((a, b) => statSync(b).size - statSync(a).size)[0]!);
    const results = await verifyBackups(system(repo(broken), repo(offSite)), { now: NOW, runId: 'deleted', sites: ['same-city'] });
    // The archive list itself lived in that segment: borg cannot even list the archives, so nothing passes.
    const keyed = byKey(results);
    expect(keyed['same-city:presence']!.status).toBe('fail');
    expect(keyed['same-city:integrity']!.status).toBe('fail');
  });

  it('missing off-site: an empty off-site repository fails presence and cross-site', async () => {
    const empty = join(dir, `empty-${randomUUID()}`);
    await borg(PASSWORD, ['init', '-e', 'repokey', empty]);
    const results = await verifyBackups(system(repo(sameCity), repo(empty)), { now: NOW, runId: 'missing' });
    expect(byKey(results)['off-site:presence']!.status).toBe('fail');
    expect(byKey(results)['cross-site:cross-site']!.status).toBe('fail');
  });

  it('lists files and reads one back with borg extract --stdout; a missing path is an error', async () => {
    const target = new BorgRepository({ path: sameCity, passwordFile });
    expect((await target.listSets()).map((s) => s.name)).toEqual(SET_TIMES.map(formatSetName));
    expect((await target.listFiles(LATEST)).map((f) => f.path)).toEqual(['source/app/config.yaml', 'source/db/main.dump']);
    const chunks: Buffer[] = [];
    for await (const chunk of target.openRead(LATEST, 'source/app/config.yaml')) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe(`port: 8080\nat: ${SET_TIMES.at(-1)!.toISOString()}\n`);
    await expect(async () => {
      for await (const _ of target.openRead(LATEST, 'source/nope')) void _;
    }).rejects.toThrow(/cannot read/);
  });
});

describe('Borg restore drill', () => {
  it('restores the newest archive for real, checks every size and a sample of checksums, with its RTO', async () => {
    const result = await runRestoreDrill(system(repo(sameCity), repo(offSite)), { servers: {}, runId: `drill-${randomUUID()}`, now: new Date(SET_TIMES.at(-1)!.getTime() + 3_600_000) });
    expect(result.status).toBe('pass');
    expect(result.detail).toMatchObject({
      repository: 'borg', set: LATEST, restoredFiles: 2, mismatches: [],
      sampled: ['source/db/main.dump', 'source/app/config.yaml'], rto: { targetSeconds: 4 * 3600, met: true },
    });
  });

  it('a flipped byte in a segment fails the drill', async () => {
    const broken = await oneArchiveRepo();
    corruptSegments(broken);
    const result = await runRestoreDrill(system(repo(broken), repo(offSite)), { servers: {}, runId: `drill-${randomUUID()}` });
    expect(result.status).toBe('fail');
    expect(result.summary).toMatch(/restore drill failed/);
    expect(result.summary).toMatch(/integrity|corrupt|crc|mismatch|hash/i);
  });
});
