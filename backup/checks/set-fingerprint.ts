import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import type { JobResultStore } from '../../store/index.js';
import { MANIFEST_FILES } from '../manifest.js';
import { isRepositoryTarget, PathTarget, type BackupFileInfo, type BackupTarget, type RepositoryTarget } from '../targets/index.js';
import { sampleFile, SAMPLE_BLOCK_BYTES, STREAM_MIDDLE_LIMIT_BYTES } from './byte-sample.js';
import { runLimited } from './integrity.js';
import type { BackupSite } from './outcome.js';

/** Files sampled per set: enough to see a pattern, few enough that a check reads at most ~8 MiB per set. */
export const SAMPLE_FILES = 64;

const sampledFileSchema = z.object({
  path: z.string(),
  size: z.number(),
  mtimeMs: z.number(),
  bytes: z.number(),
  entropy: z.number(),
  ratio: z.number(),
  error: z.string().optional(),
});
const fingerprintSchema = z.object({
  set: z.string(),
  target: z.string(),
  blockBytes: z.number(),
  files: z.array(sampledFileSchema),
});

/** One sampled file of a set: listing figures and what its sample measured. */
export type SampledFile = z.infer<typeof sampledFileSchema>;
/** The sample of one set, stored in the ransomware result so the next run need not read this set again. */
export type SetFingerprint = z.infer<typeof fingerprintSchema>;

/** The fingerprint stored with the newest ransomware result of a (site, target); undefined when none. */
export type FingerprintLookup = (site: BackupSite, target: string) => Promise<SetFingerprint | undefined>;

const pathRank = (path: string) => createHash('sha256').update(path).digest('hex');

/**
 * The files to sample: `follow` first (the previous sample's files, or what they were renamed to),
 * then the rest in the order of their path's hash. Hash order is stable across sets, so consecutive
 * sets sample the same paths, and it spreads the sample over the whole tree.
 */
export function pickSample(files: readonly BackupFileInfo[], follow: readonly string[], limit = SAMPLE_FILES): BackupFileInfo[] {
  const data = files.filter((file) => !MANIFEST_FILES.includes(file.path));
  const byPath = new Map(data.map((file) => [file.path, file]));
  const picked = new Map<string, BackupFileInfo>();
  for (const path of follow) {
    const file = byPath.get(path);
    if (file && picked.size < limit) picked.set(path, file);
  }
  const ranked = data.filter((file) => !picked.has(file.path)).map((file) => ({ file, rank: pathRank(file.path) }));
  ranked.sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0));
  for (const { file } of ranked) {
    if (picked.size >= limit) break;
    picked.set(file.path, file);
  }
  return [...picked.values()];
}

export interface FingerprintOptions {
  sampleFiles?: number;
  blockBytes?: number;
  /** Files sampled at once (default 2). */
  concurrency?: number;
  signal?: AbortSignal;
}

/** Samples a set's files (bounded: `sampleFiles` files, two blocks each); unreadable files carry their error. */
export async function fingerprintSet(
  target: BackupTarget, set: { name: string; files: readonly BackupFileInfo[] }, follow: readonly string[], options: FingerprintOptions = {},
): Promise<SetFingerprint> {
  const blockBytes = options.blockBytes ?? SAMPLE_BLOCK_BYTES;
  const picked = pickSample(set.files, follow, options.sampleFiles ?? SAMPLE_FILES);
  const sampled = new Map<string, SampledFile>();
  const sampleFrom = async (source: BackupTarget, setName: string, files: readonly BackupFileInfo[]) =>
    runLimited(files, options.concurrency ?? 2, async (file) => {
      const sample = await sampleFile(source, setName, file, { blockBytes, ...(options.signal ? { signal: options.signal } : {}) });
      sampled.set(file.path, { path: file.path, size: file.size, mtimeMs: file.mtimeMs, ...sample });
    });
  if (isRepositoryTarget(target)) {
    // One restic/Borg process restores the sample, instead of one per file; large files are read (head only) from the repository.
    const small = picked.filter((file) => file.size <= STREAM_MIDDLE_LIMIT_BYTES);
    const restored = await restoreSample(target, set.name, small, options.signal);
    if (restored) {
      try {
        await sampleFrom(new PathTarget(restored), 'sample', small);
      } finally {
        await rm(restored, { recursive: true, force: true });
      }
    }
  }
  await sampleFrom(target, set.name, picked.filter((file) => !sampled.has(file.path)));
  return { set: set.name, target: target.description, blockBytes, files: picked.map((file) => sampled.get(file.path)!) };
}

/** The scratch directory holding `files` restored under `sample/`, or undefined when the restore failed (then each file is read on its own). */
async function restoreSample(
  target: RepositoryTarget, set: string, files: readonly BackupFileInfo[], signal?: AbortSignal,
): Promise<string | undefined> {
  if (!files.length) return undefined;
  const dir = await mkdtemp(join(tmpdir(), 'shouwang-sample-'));
  try {
    await target.restore(set, join(dir, 'sample'), signal, files.map((file) => file.path));
    return dir;
  } catch {
    await rm(dir, { recursive: true, force: true });
    signal?.throwIfAborted();
    return undefined;
  }
}

/** Parses a fingerprint read back from a stored result; anything else (older or damaged results) is undefined. */
export function parseFingerprint(value: unknown): SetFingerprint | undefined {
  const parsed = fingerprintSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/** How many recent results of a system the lookup reads: (the store allows 100) about a dozen runs of every check of a site. */
const LOOKBACK_RESULTS = 100;

/** Finds the fingerprint the previous ransomware check stored, in the job results. */
export function storedFingerprints(store: Pick<JobResultStore, 'latestPerSystem'>, system: string): FingerprintLookup {
  return async (site, target) => {
    const results = await store.latestPerSystem({ kind: 'backup-check', system }, LOOKBACK_RESULTS);
    const newest = results
      .filter((result) => result.kind === 'backup-check' && result.detail.check === 'ransomware' && result.detail.site === site)
      .sort((a, b) => (a.finishedAt < b.finishedAt ? 1 : a.finishedAt > b.finishedAt ? -1 : 0));
    for (const result of newest) {
      const fingerprint = parseFingerprint(result.detail.fingerprint);
      if (fingerprint?.target === target) return fingerprint;
    }
    return undefined;
  };
}
