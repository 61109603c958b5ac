import { execFile } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { existsSync, mkdirSync, openSync, closeSync, writeSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PathTarget, parseManifestJson, verifySetFiles } from '../backup/index.js';
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
}
