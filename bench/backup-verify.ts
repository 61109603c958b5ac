import { execFile } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { existsSync, mkdirSync, openSync, closeSync, writeSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { PathTarget, S3Target, parseManifestJson, verifySetFiles } from '../backup/index.js';
import { startS3, type S3Server } from '../test/harness/s3.js';
import { ensureRestic } from '../test/harness/restic.js';
import { compare, median } from './measure.js';

const run = promisify(execFile);

const ROOT = '/tmp/shouwang-bench-backup';
const SET = '20261126T020000Z';
const FILES = 16;
const FILE_BYTES = 64 << 20;

/** 16 × 64 MiB of random data and its manifest, made once and kept under /tmp for later runs. */
function ensureSet(): string {
  const dir = join(ROOT, SET);
  const manifestPath = join(dir, 'manifest.json');
  if (existsSync(manifestPath)) return dir;
  mkdirSync(dir, { recursive: true });
  const chunk = Buffer.alloc(4 << 20);
  const files = [];
  for (let i = 0; i < FILES; i += 1) {
    const path = `part-${String(i).padStart(2, '0')}.bin`;
    const hash = createHash('sha256');
    const fd = openSync(join(dir, path), 'w');
    for (let written = 0; written < FILE_BYTES; written += chunk.length) {
      randomFillSync(chunk);
      hash.update(chunk);
      writeSync(fd, chunk);
    }
    closeSync(fd);
    files.push({ path, size: FILE_BYTES, sha256: hash.digest('hex') });
  }
  // Written last: its presence means the set is complete.
  writeFileSync(manifestPath, JSON.stringify({ createdAt: new Date().toISOString(), files }));
  return dir;
}

/**
 * Integrity check throughput (every file streamed through SHA-256 against the manifest) next to
 * coreutils `sha256sum` over the same 1 GiB, in the same run. Both read from the page cache after
 * the first round, so this measures hashing and I/O overhead, not the disk.
 */
export async function benchBackupVerify(): Promise<void> {
  const dir = ensureSet();
  const manifest = parseManifestJson(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  const target = new PathTarget(ROOT);
  const present = await target.listFiles(SET);
  const totalMb = manifest.files.reduce((sum, file) => sum + (file.size ?? 0), 0) / 1e6;
  const samples: Record<string, number[]> = {};
  const timed = (name: string, work: () => Promise<void>) => async () => {
    const started = process.hrtime.bigint();
    await work();
    (samples[name] ??= []).push(totalMb / (Number(process.hrtime.bigint() - started) / 1e9));
    return totalMb;
  };
  const integrity = (concurrency: number) => async () => {
    const result = await verifySetFiles(target, SET, manifest.files, present, { concurrency });
    if (result.findings.length) throw new Error(`bench set damaged: ${JSON.stringify(result.findings)}`);
  };
  await compare(`backup integrity check: ${FILES} × ${FILE_BYTES >> 20} MiB (${(totalMb / 1e3).toFixed(2)} GB)`, 'MB/s', {
    'sha256sum over the same files (baseline)': timed('sha256sum', async () => {
      await run('sha256sum', manifest.files.map((file) => file.path), { cwd: dir, maxBuffer: 1 << 20 });
    }),
    'shouwang integrity, 2 files at a time': timed('integrity-2', integrity(2)),
    'shouwang integrity, 1 file at a time': timed('integrity-1', integrity(1)),
  });
  const baseline = median(samples.sha256sum!);
  for (const name of ['integrity-2', 'integrity-1']) {
    console.log(`  ratio ${name} / sha256sum = ${(median(samples[name]!) / baseline).toFixed(2)} (goal ≥ 0.80)`);
  }
  console.log(`  (set cached in ${dir}; remove it with rm -r ${ROOT})`);
  await target.close();
  const s3 = await startS3();
  try {
    await benchS3Verify(s3, dir, manifest.files.slice(0, S3_FILES));
    await benchResticS3(s3, dir);
  } finally {
    await s3.stop();
  }
}

const S3_FILES = 4;
const S3_BUCKET = 'bench-backup-verify';

/** Drains a GetObject body: what reading the objects costs with no hashing at all. */
async function drain(client: S3Client, bucket: string, key: string): Promise<void> {
  const { Body } = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  for await (const chunk of Body as Readable) void chunk;
}

async function mapTwoAtATime<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all([0, 1].map(async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

/**
 * Object storage: the S3 target's integrity check (GetObject streamed through SHA-256) next to the same
 * GetObject streams drained to nowhere, in the same run, from the harness's local S3 server (moto).
 * The server's own speed bounds both; the ratio is what our hashing costs on top of the reads.
 */
async function benchS3Verify(s3: S3Server, dir: string, files: ReturnType<typeof parseManifestJson>['files']): Promise<void> {
  const client = new S3Client({
    endpoint: s3.endpoint, region: s3.region, forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
  });
  await client.send(new CreateBucketCommand({ Bucket: S3_BUCKET }));
  for (const file of files) {
    await client.send(new PutObjectCommand({ Bucket: S3_BUCKET, Key: `sets/${SET}/${file.path}`, Body: readFileSync(join(dir, file.path)) }));
  }
  process.env.SHOUWANG_BENCH_S3_KEY = s3.accessKeyId;
  process.env.SHOUWANG_BENCH_S3_SECRET = s3.secretAccessKey;
  const target = new S3Target({
    bucket: S3_BUCKET, prefix: 'sets/', endpoint: s3.endpoint, region: s3.region, forcePathStyle: true,
    accessKeyIdEnv: 'SHOUWANG_BENCH_S3_KEY', secretAccessKeyEnv: 'SHOUWANG_BENCH_S3_SECRET',
  });
  const present = await target.listFiles(SET);
  const totalMb = files.reduce((sum, file) => sum + (file.size ?? 0), 0) / 1e6;
  await compare(`S3 integrity check: ${files.length} × ${FILE_BYTES >> 20} MiB objects (${totalMb.toFixed(0)} MB), local S3 server`, 'MB/s', {
    'GetObject drained raw, 2 at a time (baseline)': async () => {
      await mapTwoAtATime(files, (file) => drain(client, S3_BUCKET, `sets/${SET}/${file.path}`));
      return totalMb;
    },
    'shouwang S3 integrity, 2 objects at a time': async () => {
      const result = await verifySetFiles(target, SET, files, present, { concurrency: 2 });
      if (result.findings.length) throw new Error(`bench objects damaged: ${JSON.stringify(result.findings)}`);
      return totalMb;
    },
  }, 3);
  await target.close();
  client.destroy();
}

/** restic on the same S3 server: `restic check --read-data` next to reading every pack object raw. */
async function benchResticS3(s3: S3Server, dir: string): Promise<void> {
  await ensureRestic();
  const bucket = 'bench-restic';
  const client = new S3Client({
    endpoint: s3.endpoint, region: s3.region, forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  const env = { ...process.env, AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey, RESTIC_PASSWORD: 'bench' };
  const repository = `s3:${s3.endpoint}/${bucket}/restic`;
  const restic = (args: string[]) => run('restic', ['--no-cache', '-q', '-r', repository, ...args], { env, cwd: dir, maxBuffer: 64 << 20 });
  await restic(['init']);
  await restic(['backup', ...readdirSync(dir).filter((name) => name.startsWith('part-')).slice(0, S3_FILES)]);
  const listing = new S3Target({
    bucket, prefix: 'restic/', endpoint: s3.endpoint, region: s3.region, forcePathStyle: true,
    accessKeyIdEnv: 'SHOUWANG_BENCH_S3_KEY', secretAccessKeyEnv: 'SHOUWANG_BENCH_S3_SECRET',
  });
  const packs = await listing.listFiles('data');
  await listing.close();
  const packMb = packs.reduce((sum, pack) => sum + pack.size, 0) / 1e6;
  await compare(`restic on S3: ${packs.length} packs (${packMb.toFixed(0)} MB)`, 'MB/s', {
    'pack objects drained raw, 2 at a time (baseline)': async () => {
      await mapTwoAtATime(packs, (pack) => drain(client, bucket, `restic/data/${pack.path}`));
      return packMb;
    },
    'restic check --read-data': async () => {
      await restic(['check', '--read-data']);
      return packMb;
    },
  }, 3);
  client.destroy();
}
