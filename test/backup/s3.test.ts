import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteObjectCommand, GetObjectCommand,
  PutObjectCommand, PutObjectLegalHoldCommand, PutObjectLockConfigurationCommand, S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemSchema, inventoryFromCsv, type BusinessSystem, type JobResult } from '../../core/index.js';
import { S3Target, backupResultEvent, formatSetName, runRestoreDrill, verifyBackups } from '../../backup/index.js';
import { ensureRestic, restic } from '../harness/restic.js';
import { startS3, type S3Server } from '../harness/s3.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Real time: Object Lock retention is judged against the server's clock. */
const NOW = new Date();
/** Four daily sets, the newest four hours old. */
const SET_TIMES = Array.from({ length: 4 }, (_, i) => new Date(Math.floor((NOW.getTime() - 4 * HOUR - (3 - i) * DAY) / 1000) * 1000));
const LATEST = formatSetName(SET_TIMES.at(-1)!);
const KEY_ENV = 'SHOUWANG_TEST_S3_KEY_ID';
const SECRET_ENV = 'SHOUWANG_TEST_S3_SECRET';

let s3: S3Server;
let client: S3Client;
let dir: string;

type S3Spec = Record<string, unknown> & { type: 's3'; bucket: string };

function system(same: S3Spec, off: S3Spec): BusinessSystem {
  return SystemSchema.parse({
    id: 'rsj-shbx', name: '社会保险业务系统', department: 'rsj', mlpsLevel: 3, zone: '政务外网', owner: { name: '李工' },
    backup: { rpo: '1d', rto: '4h', retention: '3d', sameCity: same, offSite: off },
  });
}

const target = (bucket: string, extra: Record<string, unknown> = {}): S3Spec => ({
  type: 's3', bucket, prefix: 'backups/shbx/', endpoint: s3.endpoint, forcePathStyle: true,
  accessKeyIdEnv: KEY_ENV, secretAccessKeyEnv: SECRET_ENV, ...extra,
});

const byKey = (results: JobResult[]) =>
  Object.fromEntries(results.map((r) => [`${r.site ?? 'cross-site'}:${(r.detail as { check: string }).check}`, r]));
const statuses = (results: JobResult[]) => Object.fromEntries(Object.entries(byKey(results)).map(([key, r]) => [key, r.status]));

const bucketName = (label: string) => `t-${label}-${randomUUID().slice(0, 13)}`;

async function createBucket(lock: 'compliance' | 'governance' | 'enabled' | 'none'): Promise<string> {
  const bucket = bucketName(lock);
  await client.send(new CreateBucketCommand({ Bucket: bucket, ...(lock !== 'none' ? { ObjectLockEnabledForBucket: true } : {}) }));
  if (lock === 'compliance' || lock === 'governance') {
    const Mode = lock === 'compliance' ? 'COMPLIANCE' : 'GOVERNANCE';
    await client.send(new PutObjectLockConfigurationCommand({
      Bucket: bucket, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode, Days: 30 } } },
    }));
  }
  return bucket;
}

/** The same set contents for both sites: each set's files, then its manifest.json. */
const SET_FILES = SET_TIMES.map((time) => ({
  name: formatSetName(time),
  files: {
    'db/main.dump': Buffer.concat([Buffer.from('PGDMP'), randomBytes(150_000)]),
    'app/config.yaml': Buffer.from(`port: 8080\nat: ${time.toISOString()}\n`),
  } as Record<string, Buffer>,
}));

async function put(bucket: string, key: string, body: Buffer, sha256 = true): Promise<void> {
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ...(sha256 ? { ChecksumAlgorithm: 'SHA256' } : {}) }));
}

async function fillSets(bucket: string, options: { sha256?: boolean; sets?: typeof SET_FILES } = {}): Promise<void> {
  for (const set of options.sets ?? SET_FILES) {
    const entries = Object.entries(set.files).map(([path, body]) => ({ path, size: body.length, sha256: createHash('sha256').update(body).digest('hex') }));
    for (const [path, body] of Object.entries(set.files)) await put(bucket, `backups/shbx/${set.name}/${path}`, body, options.sha256 ?? true);
    await put(bucket, `backups/shbx/${set.name}/manifest.json`, Buffer.from(JSON.stringify({ files: entries })), options.sha256 ?? true);
  }
}

async function getObject(bucket: string, key: string): Promise<Buffer> {
  const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await response.Body!.transformToByteArray());
}

beforeAll(async () => {
  s3 = await startS3();
  process.env[KEY_ENV] = s3.accessKeyId;
  process.env[SECRET_ENV] = s3.secretAccessKey;
  client = new S3Client({
    endpoint: s3.endpoint, region: s3.region, forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
  dir = mkdtempSync(join(tmpdir(), 'shouwang-s3-test-'));
}, 180_000);

afterAll(async () => {
  client?.destroy();
  await s3?.stop();
  delete process.env[KEY_ENV];
  delete process.env[SECRET_ENV];
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('object storage (S3) sets', () => {
  it('fresh: every check passes, cross-site by the stores\' SHA-256 without a download, off-site 受保护 (COMPLIANCE)', async () => {
    const [same, off] = [await createBucket('none'), await createBucket('compliance')];
    await fillSets(same);
    await fillSets(off);
    const results = await verifyBackups(system(target(same), target(off)), { now: NOW, runId: 'fresh' });
    // Ransomware signals read LastModified, which the store sets when the test uploads (a second boundary
    // between two sets reads as a change-rate jump, a warn): only its absence of a critical alert is fixed here.
    const { 'same-city:ransomware': sameRansomware, 'off-site:ransomware': offRansomware, ...rest } = statuses(results);
    expect([sameRansomware, offRansomware].map((status) => status === 'pass' || status === 'warn')).toEqual([true, true]);
    expect(rest).toEqual({
      'same-city:presence': 'pass', 'same-city:freshness': 'pass', 'same-city:completeness': 'pass', 'same-city:integrity': 'pass', 'same-city:retention': 'pass',
      'off-site:presence': 'pass', 'off-site:freshness': 'pass', 'off-site:completeness': 'pass', 'off-site:integrity': 'pass', 'off-site:retention': 'pass',
      'off-site:immutability': 'pass', 'cross-site:cross-site': 'pass',
    });
    const byCheck = byKey(results);
    expect(byCheck['off-site:integrity']!.detail).toMatchObject({ latestSet: LATEST, filesHashed: 2, manifest: 'manifest.json' });
    expect(byCheck['cross-site:cross-site']!.detail).toMatchObject({ objects: { byChecksum: 2, byEtag: 0, byDownload: 0, bytesDownloaded: 0, differing: [] } });
    const lock = byCheck['off-site:immutability']!;
    expect(lock.summary).toContain('受保护（WORM，COMPLIANCE，保留至');
    expect(lock.detail).toMatchObject({ protected: true, bucketLockEnabled: true, defaultMode: 'COMPLIANCE', defaultDays: 30, modes: ['COMPLIANCE'], objects: 3, unprotected: [] });
    expect(Date.parse(lock.detail.retainUntil as string)).toBeGreaterThan(NOW.getTime() + 29 * DAY);
  });

  it('without stored SHA-256 the plain ETags (MD5) answer cross-site, still without a download', async () => {
    const [same, off] = [await createBucket('none'), await createBucket('compliance')];
    await fillSets(same, { sha256: false });
    await fillSets(off, { sha256: false });
    const results = await verifyBackups(system(target(same), target(off)), { now: NOW, runId: 'etag', sites: ['same-city', 'off-site'] });
    expect(byKey(results)['cross-site:cross-site']).toMatchObject({ status: 'pass', detail: { objects: { byChecksum: 0, byEtag: 2, byDownload: 0 } } });
  });

  it('a multipart copy (ETag of parts, no checksum) is streamed through SHA-256 on both sides, and agrees', async () => {
    const [same, off] = [await createBucket('none'), await createBucket('compliance')];
    const big = Buffer.concat([Buffer.from('PGDMP'), randomBytes(5 * 1024 * 1024 + 1000)]);
    const sets = [{ name: LATEST, files: { 'db/main.dump': big } }];
    await fillSets(same, { sets, sha256: false });
    await fillSets(off, { sets, sha256: false });
    // Replace the off-site dump with a two-part upload of the same bytes.
    const key = `backups/shbx/${LATEST}/db/main.dump`;
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: off, Key: key }));
    const parts = [];
    for (const [n, body] of [[1, big.subarray(0, 5 * 1024 * 1024)], [2, big.subarray(5 * 1024 * 1024)]] as const) {
      const { ETag } = await client.send(new UploadPartCommand({ Bucket: off, Key: key, UploadId, PartNumber: n, Body: body }));
      parts.push({ ETag, PartNumber: n });
    }
    await client.send(new CompleteMultipartUploadCommand({ Bucket: off, Key: key, UploadId, MultipartUpload: { Parts: parts } }));
    const results = await verifyBackups(system(target(same), target(off)), { now: NOW, runId: 'multipart' });
    expect(byKey(results)['cross-site:cross-site']).toMatchObject({ status: 'pass', detail: { objects: { byEtag: 0, byDownload: 1, bytesDownloaded: 2 * big.length } } });
  });

  it('stale: sets older than the RPO fail freshness at both sites', async () => {
    const [same, off] = [await createBucket('none'), await createBucket('compliance')];
    await fillSets(same);
    await fillSets(off);
    const results = await verifyBackups(system(target(same), target(off)), { now: new Date(NOW.getTime() + 3 * DAY), runId: 'stale' });
    expect(statuses(results)).toMatchObject({ 'same-city:freshness': 'fail', 'off-site:freshness': 'fail', 'cross-site:cross-site': 'pass' });
  });

  it('corrupted: one flipped byte in an off-site object fails its integrity and cross-site, naming the file', async () => {
    const [same, off] = [await createBucket('none'), await createBucket('compliance')];
    await fillSets(same);
    await fillSets(off);
    const key = `backups/shbx/${LATEST}/db/main.dump`;
    const body = await getObject(off, key);
    body[1000] = body[1000]! ^ 0x01;
    // Object Lock keeps the old version; the overwrite is a new current version, which is what a reader gets.
    await put(off, key, body);
    const results = await verifyBackups(system(target(same), target(off)), { now: NOW, runId: 'corrupted' });
    const byCheck = byKey(results);
    expect(statuses(results)).toMatchObject({ 'same-city:integrity': 'pass', 'off-site:integrity': 'fail', 'cross-site:cross-site': 'fail' });
    expect(byCheck['off-site:integrity']!.detail).toMatchObject({ corrupted: ['db/main.dump'] });
    expect(byCheck['cross-site:cross-site']!.summary).toContain('db/main.dump');
    expect(byCheck['cross-site:cross-site']!.detail).toMatchObject({ differing: ['db/main.dump'], objects: { byChecksum: 2 } });
  });

  it('missing off-site: an empty off-site prefix fails presence, cross-site and immutability', async () => {
    const [same, off] = [await createBucket('none'), await createBucket('compliance')];
    await fillSets(same);
    const results = await verifyBackups(system(target(same), target(off)), { now: NOW, runId: 'missing' });
    expect(statuses(results)).toMatchObject({
      'same-city:presence': 'pass', 'off-site:presence': 'fail', 'off-site:immutability': 'fail', 'cross-site:cross-site': 'fail',
    });
  });

  it('deleted objects: a same-city object deleted from the latest set fails integrity as missing', async () => {
    const [same, off] = [await createBucket('none'), await createBucket('compliance')];
    await fillSets(same);
    await fillSets(off);
    await client.send(new DeleteObjectCommand({ Bucket: same, Key: `backups/shbx/${LATEST}/app/config.yaml` }));
    const results = await verifyBackups(system(target(same), target(off)), { now: NOW, runId: 'deleted' });
    expect(byKey(results)['same-city:integrity']).toMatchObject({ status: 'fail', detail: { missing: ['app/config.yaml'] } });
  });

  it('lock off: an off-site bucket without Object Lock is 未受保护, fails, and raises the off-site alert event', async () => {
    const [same, off] = [await createBucket('none'), await createBucket('none')];
    await fillSets(same);
    await fillSets(off);
    const sys = system(target(same), target(off));
    const results = await verifyBackups(sys, { now: NOW, runId: 'unlocked' });
    const lock = byKey(results)['off-site:immutability']!;
    expect(lock.status).toBe('fail');
    expect(lock.summary).toContain('未受保护');
    expect(lock.summary).toContain(`bucket ${off} has no Object Lock`);
    expect(lock.detail).toMatchObject({ protected: false, bucketLockEnabled: false, unprotected: ['app/config.yaml', 'db/main.dump', 'manifest.json'] });
    // What the backup rules read: backup_offsite_failure matches a failed off-site check.
    expect(backupResultEvent(sys, lock)).toMatchObject({
      event: { dataset: 'shouwang.backup', action: 'backup-immutability', outcome: 'failure' },
      backup: { check: 'immutability', site: 'off_site', status: 'fail' },
    });
  });

  it('lock on without a default retention: objects written without one are named as unprotected', async () => {
    const [same, off] = [await createBucket('none'), await createBucket('enabled')];
    await fillSets(same);
    await fillSets(off);
    const results = await verifyBackups(system(target(same), target(off)), { now: NOW, runId: 'no-retention' });
    expect(byKey(results)['off-site:immutability']).toMatchObject({
      status: 'fail', detail: { bucketLockEnabled: true, unprotected: ['app/config.yaml', 'db/main.dump', 'manifest.json'] },
    });
  });

  it('a retention that has run out no longer protects', async () => {
    const [same, off] = [await createBucket('none'), await createBucket('compliance')];
    await fillSets(same);
    await fillSets(off);
    const later = new Date(NOW.getTime() + 31 * DAY);
    const results = await verifyBackups(system(target(same), target(off)), { now: later, runId: 'expired', sites: ['off-site'] });
    expect(byKey(results)['off-site:immutability']).toMatchObject({ status: 'fail', detail: { protected: false, modes: ['COMPLIANCE'] } });
  });

  it('GOVERNANCE retention is 受保护但可绕过: a warn naming s3:BypassGovernanceRetention, not a pass', async () => {
    const [same, off] = [await createBucket('none'), await createBucket('governance')];
    await fillSets(same);
    await fillSets(off);
    const results = await verifyBackups(system(target(same), target(off)), { now: NOW, runId: 'governance', sites: ['off-site'] });
    const lock = byKey(results)['off-site:immutability']!;
    expect(lock.status).toBe('warn');
    expect(lock.summary).toContain('受保护但可绕过');
    expect(lock.summary).toContain('protected, but bypassable with s3:BypassGovernanceRetention');
    expect(lock.detail).toMatchObject({ protected: true, modes: ['GOVERNANCE'], unprotected: [], bypassable: ['app/config.yaml', 'db/main.dump', 'manifest.json'] });
  });

  it('a legal hold on GOVERNANCE objects cannot be bypassed: pass', async () => {
    const [same, off] = [await createBucket('none'), await createBucket('governance')];
    await fillSets(same);
    await fillSets(off);
    for (const path of ['app/config.yaml', 'db/main.dump', 'manifest.json']) {
      await client.send(new PutObjectLegalHoldCommand({ Bucket: off, Key: `backups/shbx/${LATEST}/${path}`, LegalHold: { Status: 'ON' } }));
    }
    const results = await verifyBackups(system(target(same), target(off)), { now: NOW, runId: 'held', sites: ['off-site'] });
    expect(byKey(results)['off-site:immutability']).toMatchObject({ status: 'pass', detail: { bypassable: [], legalHolds: 3 } });
  });

  it('only the off-site copy is judged: a run of the same-city site alone has no immutability result', async () => {
    const same = await createBucket('none');
    await fillSets(same);
    const results = await verifyBackups(system(target(same), target(same)), { now: NOW, runId: 'same', sites: ['same-city'] });
    expect(Object.keys(statuses(results)).filter((key) => key.endsWith('immutability'))).toEqual([]);
  });

  it('keys from an AWS credentials file; a missing key variable fails presence naming the variable, never a secret', async () => {
    const same = await createBucket('none');
    await fillSets(same);
    const credentials = join(dir, `credentials-${randomUUID()}`);
    writeFileSync(credentials, `[default]\naws_access_key_id = ${s3.accessKeyId}\naws_secret_access_key = ${s3.secretAccessKey}\n`, { mode: 0o600 });
    const fromFile = { ...target(same), credentialsFile: credentials, accessKeyIdEnv: undefined, secretAccessKeyEnv: undefined };
    delete fromFile.accessKeyIdEnv;
    delete fromFile.secretAccessKeyEnv;
    const ok = await verifyBackups(system(fromFile, fromFile), { now: NOW, runId: 'file', sites: ['same-city'] });
    expect(byKey(ok)['same-city:integrity']!.status).toBe('pass');
    const missing = await verifyBackups(system(target(same, { accessKeyIdEnv: 'SHOUWANG_TEST_S3_UNSET' }), fromFile), { now: NOW, runId: 'nokey', sites: ['same-city'] });
    expect(byKey(missing)['same-city:presence']).toMatchObject({ status: 'fail' });
    expect(JSON.stringify(missing)).toContain('SHOUWANG_TEST_S3_UNSET is not set');
    expect(JSON.stringify([...ok, ...missing])).not.toContain(s3.secretAccessKey);
  });

  it('a wrong endpoint or bucket is a presence failure with the store\'s reason, not a crash', async () => {
    const results = await verifyBackups(system(target(bucketName('absent')), target(bucketName('absent'))), { now: NOW, runId: 'absent' });
    expect(byKey(results)['same-city:presence']).toMatchObject({ status: 'fail' });
    expect(JSON.stringify(byKey(results)['same-city:presence']!.detail)).toContain('NoSuchBucket');
  });

  it('hostile keys: folder markers and keys outside set names are ignored; odd paths stay inside the set', async () => {
    const bucket = await createBucket('none');
    await fillSets(bucket, { sets: SET_FILES.slice(-1) });
    await put(bucket, 'backups/shbx/not-a-set/x', Buffer.from('x'));
    await put(bucket, `backups/shbx/${LATEST}/empty-folder/`, Buffer.alloc(0));
    const store = new S3Target({ bucket, prefix: 'backups/shbx/', endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, accessKeyIdEnv: KEY_ENV, secretAccessKeyEnv: SECRET_ENV });
    try {
      expect((await store.listSets()).map((set) => set.name)).toEqual([LATEST]);
      expect((await store.listFiles(LATEST)).map((file) => file.path)).toEqual(['app/config.yaml', 'db/main.dump', 'manifest.json']);
      expect(() => store.openRead(LATEST, '../other/x')).toThrow(/unsafe relative path/);
      await expect(store.readSmallFile(LATEST, 'absent.json')).resolves.toBeUndefined();
    } finally {
      await store.close();
      await store.close();
    }
  });
});

describe('object storage (S3) hostile stores', () => {
  it('a manifest larger than the small-file limit is refused, not buffered whole', async () => {
    const bucket = await createBucket('none');
    await put(bucket, `backups/shbx/${LATEST}/manifest.json`, Buffer.alloc(2 << 20, 0x20), false);
    const store = new S3Target(
      { bucket, prefix: 'backups/shbx/', endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, accessKeyIdEnv: KEY_ENV, secretAccessKeyEnv: SECRET_ENV },
      { smallFileLimit: 1 << 20 },
    );
    try {
      await expect(store.readSmallFile(LATEST, 'manifest.json')).rejects.toThrow(/larger than 1048576 bytes/);
    } finally {
      await store.close();
    }
  });

  it('an endpoint written with user:password@ shows neither in the target description', () => {
    const store = new S3Target({ bucket: 'b', endpoint: 'https://backup:hunter2-secret@minio.example:9000/', region: 'us-east-1', accessKeyIdEnv: KEY_ENV, secretAccessKeyEnv: SECRET_ENV });
    expect(store.description).toBe('https://minio.example:9000/b/');
  });
});

describe('restic repositories on S3', () => {
  const PASSWORD = `pw-${randomUUID()}`;
  let passwordFile: string;
  let same: string;
  let off: string;
  let locked: string;
  let governed: string;
  const url = (bucket: string) => `s3:${s3.endpoint}/${bucket}/restic`;
  const resticEnv = () => ({ AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey });
  const repo = (bucket: string, extra: Record<string, unknown> = {}): S3Spec => ({ ...target(bucket), prefix: 'restic/', kind: 'restic', passwordFile, ...extra });

  beforeAll(async () => {
    await ensureRestic();
    passwordFile = join(dir, 'restic-password');
    writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
    Object.assign(process.env, resticEnv());
    same = await createBucket('none');
    off = await createBucket('none');
    locked = await createBucket('compliance');
    governed = await createBucket('governance');
    const source = join(dir, 'source');
    mkdirSync(join(source, 'db'), { recursive: true });
    await restic(url(same), passwordFile, ['init']);
    for (const time of SET_TIMES) {
      writeFileSync(join(source, 'db', 'main.dump'), Buffer.concat([Buffer.from('PGDMP'), randomBytes(100_000)]));
      const at = time.toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, '');
      await restic(url(same), passwordFile, ['backup', '--host', 'rsj-db', '--time', at, 'source'], dir);
    }
    for (const bucket of [off, locked, governed]) {
      await restic(url(bucket), passwordFile, ['init', '--copy-chunker-params', '--from-repo', url(same), '--from-password-file', passwordFile]);
      await restic(url(bucket), passwordFile, ['copy', '--from-repo', url(same), '--from-password-file', passwordFile]);
    }
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
  }, 180_000);

  it('fresh repositories pass check (reading all data), snapshots and cross-site, with keys from named variables', async () => {
    const results = await verifyBackups(system(repo(same, { readDataSubset: '100%' }), repo(off)), { now: NOW, runId: 'restic-fresh' });
    expect(statuses(results)).toMatchObject({
      'same-city:presence': 'pass', 'same-city:freshness': 'pass', 'same-city:integrity': 'pass',
      'off-site:presence': 'pass', 'off-site:integrity': 'pass', 'cross-site:cross-site': 'pass',
    });
    expect(byKey(results)['same-city:integrity']!.detail).toMatchObject({ command: 'restic check --read-data-subset=100%' });
    expect(JSON.stringify(results)).not.toContain(PASSWORD);
    expect(JSON.stringify(results)).not.toContain(s3.secretAccessKey);
  });

  it('lock on: an off-site repository in a COMPLIANCE bucket is 受保护, naming config, keys, the snapshot, index and packs', async () => {
    const results = await verifyBackups(system(repo(same), repo(locked)), { now: NOW, runId: 'restic-locked', sites: ['off-site'] });
    const lock = byKey(results)['off-site:immutability']!;
    expect(lock.status).toBe('pass');
    expect(lock.summary).toContain('受保护（WORM，COMPLIANCE，保留至');
    expect(lock.summary).toContain('all ');
    const detail = lock.detail as { judged: { keys: number; index: number; packs: number; snapshot: string; packScope: string }; snapshotId: string; objects: number };
    expect(detail).toMatchObject({ protected: true, bucketLockEnabled: true, modes: ['COMPLIANCE'], unprotected: [], bypassable: [], target: `restic:${url(locked)}` });
    expect(detail.judged).toMatchObject({ config: 1, snapshot: `snapshots/${detail.snapshotId}`, packScope: 'all' });
    expect(detail.judged.keys).toBeGreaterThan(0);
    expect(detail.judged.index).toBeGreaterThan(0);
    expect(detail.judged.packs).toBeGreaterThan(0);
    expect(detail.objects).toBe(2 + detail.judged.keys + detail.judged.index + detail.judged.packs);
  });

  it('lock off: an off-site repository in a bucket without Object Lock is 未受保护 and fails', async () => {
    const results = await verifyBackups(system(repo(same), repo(off)), { now: NOW, runId: 'restic-unlocked', sites: ['off-site'] });
    const lock = byKey(results)['off-site:immutability']!;
    expect(lock.status).toBe('fail');
    expect(lock.summary).toContain('未受保护');
    expect(lock.summary).toContain(`bucket ${off} has no Object Lock`);
    expect(lock.detail).toMatchObject({ protected: false, bucketLockEnabled: false });
    expect((lock.detail as { unprotected: string[] }).unprotected).toContain('config');
  });

  it('expired retention: a repository whose retention has run out no longer protects', async () => {
    const later = new Date(NOW.getTime() + 31 * DAY);
    const results = await verifyBackups(system(repo(same), repo(locked)), { now: later, runId: 'restic-expired', sites: ['off-site'] });
    expect(byKey(results)['off-site:immutability']).toMatchObject({ status: 'fail', detail: { protected: false, modes: ['COMPLIANCE'] } });
  });

  it('GOVERNANCE: a repository retained only in GOVERNANCE mode is 受保护但可绕过, a warn', async () => {
    const results = await verifyBackups(system(repo(same), repo(governed)), { now: NOW, runId: 'restic-governance', sites: ['off-site'] });
    const lock = byKey(results)['off-site:immutability']!;
    expect(lock).toMatchObject({ status: 'warn', detail: { protected: true, modes: ['GOVERNANCE'] } });
    expect(lock.summary).toContain('受保护但可绕过');
  });

  it('a restic repository on a path, or same-city on S3, has no immutability result', async () => {
    const results = await verifyBackups(system(repo(same), repo(locked)), { now: NOW, runId: 'restic-same', sites: ['same-city'] });
    expect(Object.keys(statuses(results)).filter((key) => key.endsWith('immutability'))).toEqual([]);
  });

  it('restores the newest snapshot from the off-site bucket for real, with its RTO', async () => {
    const result = await runRestoreDrill(system(repo(same), repo(off)), { servers: {}, runId: `drill-${randomUUID()}`, site: 'off-site' });
    expect(result.status).toBe('pass');
    expect(result.detail).toMatchObject({ site: 'off-site', repository: 'restic', set: LATEST, mismatches: [], rto: { met: true } });
  });

  it('corrupted: a flipped byte in a pack object fails restic check --read-data', async () => {
    const broken = await createBucket('none');
    Object.assign(process.env, resticEnv());
    try {
      await restic(`s3:${s3.endpoint}/${broken}/restic`, passwordFile, ['init', '--copy-chunker-params', '--from-repo', url(same), '--from-password-file', passwordFile]);
      await restic(`s3:${s3.endpoint}/${broken}/restic`, passwordFile, ['copy', '--from-repo', url(same), '--from-password-file', passwordFile]);
    } finally {
      delete process.env.AWS_ACCESS_KEY_ID;
      delete process.env.AWS_SECRET_ACCESS_KEY;
    }
    const store = new S3Target({ bucket: broken, prefix: 'restic/', endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, accessKeyIdEnv: KEY_ENV, secretAccessKeyEnv: SECRET_ENV });
    try {
      // restic's layout: restic/data/<2 hex>/<pack id>; the store lists them like any other keys.
      const packs = (await store.listFiles('data')).map((file) => `restic/data/${file.path}`);
      expect(packs.length).toBeGreaterThan(0);
      for (const key of packs) {
        const body = await getObject(broken, key);
        body[Math.floor(body.length / 2)] = body[Math.floor(body.length / 2)]! ^ 0x01;
        await put(broken, key, body);
      }
    } finally {
      await store.close();
    }
    const results = await verifyBackups(system(repo(broken, { readDataSubset: '100%' }), repo(off)), { now: NOW, runId: 'restic-corrupt', sites: ['same-city'] });
    expect(byKey(results)['same-city:integrity']).toMatchObject({ status: 'fail' });
  });

  it('missing off-site: an empty bucket fails off-site presence and cross-site', async () => {
    const empty = await createBucket('none');
    const results = await verifyBackups(system(repo(same), repo(empty)), { now: NOW, runId: 'restic-missing' });
    expect(statuses(results)).toMatchObject({ 'same-city:presence': 'pass', 'off-site:presence': 'fail', 'cross-site:cross-site': 'fail' });
  });
});

describe('the inventory names S3 targets', () => {
  it('accepts a restic repository on S3 and rejects a password on plain sets or keys given twice', () => {
    expect(() => system(target('b-ok'), { type: 's3', bucket: 'b-ok', kind: 'restic', passwordEnv: 'RESTIC_PW', readDataSubset: '5%' })).not.toThrow();
    expect(() => system(target('b-ok', { passwordFile: '/x' }), target('b-ok'))).toThrow(/passwordFile/);
    expect(() => system(target('b-ok', { credentialsFile: '/x' }), target('b-ok'))).toThrow(/credentialsFile/);
    expect(() => system(target('B_bad'), target('b-ok'))).toThrow(/bucket/);
    expect(() => system(target('b-ok', { prefix: '/abs/' }), target('b-ok'))).toThrow(/prefix/);
  });

  it('reads s3://bucket/prefix/ from the CSV inventory, with or without the trailing slash', () => {
    const csv = [
      'department_id,department_name,system_id,system_name,mlps_level,zone,owner,rpo,rto,same_city,off_site',
      'rsj,人社局,rsj-shbx,社保,3,政务外网,李工,1d,4h,/backup/shbx,s3://offsite-bucket/shbx/',
    ].join('\n');
    expect(inventoryFromCsv(csv).systems[0]!.backup!.offSite).toEqual({ type: 's3', bucket: 'offsite-bucket', prefix: 'shbx/', region: 'us-east-1' });
    const bare = inventoryFromCsv(csv.replace('s3://offsite-bucket/shbx/', 's3://offsite-bucket/shbx')).systems[0]!.backup!.offSite;
    expect(bare).toEqual({ type: 's3', bucket: 'offsite-bucket', prefix: 'shbx/', region: 'us-east-1' });
    expect(inventoryFromCsv(csv.replace('s3://offsite-bucket/shbx/', 's3://offsite-bucket')).systems[0]!.backup!.offSite).toEqual({ type: 's3', bucket: 'offsite-bucket', region: 'us-east-1' });
  });
});
