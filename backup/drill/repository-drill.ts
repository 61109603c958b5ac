import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { BackupFileInfo, RepositoryTarget } from '../targets/index.js';
import { isSafeRelative } from '../targets/target.js';

/** Files whose restored bytes are hashed and compared with a second, independent read from the repository. */
export const DRILL_SAMPLE_FILES = 8;

export interface SnapshotDrill {
  set: string;
  setTime: string;
  /** Files the repository lists for the set. */
  files: number;
  /** Sampled paths, compared by SHA-256 of the restored file against `restic dump`. */
  sampled: string[];
  mismatches: string[];
}

async function sha256Of(stream: AsyncIterable<Buffer>): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk);
  return hash.digest('hex');
}

/** The largest files (where corruption hides longest) first, then by path: the same sample every run. */
function pickSample(files: readonly BackupFileInfo[], count: number): BackupFileInfo[] {
  return [...files].sort((a, b) => b.size - a.size || (a.path < b.path ? -1 : 1)).slice(0, count);
}

/**
 * Restores the newest snapshot under `dir` with the tool, then proves it: every listed file exists with
 * its listed size, and a sample's SHA-256 equals that of the same file read again from the repository.
 */
export async function drillLatestSnapshot(target: RepositoryTarget, dir: string, signal: AbortSignal, sampleSize = DRILL_SAMPLE_FILES): Promise<SnapshotDrill> {
  const latest = (await target.listSets()).at(-1);
  if (!latest) throw new Error(`${target.description} 没有快照 / no snapshots at ${target.description}`);
  const listed = await target.listFiles(latest.name);
  await target.restore(latest.name, dir, signal);
  const mismatches: string[] = [];
  // The listing comes from the repository: a path leading out of the restore directory is a finding, never a read.
  const unsafe = new Set(listed.filter((file) => !isSafeRelative(file.path)).map((file) => file.path));
  for (const path of unsafe) mismatches.push(`${JSON.stringify(path)}: 路径越界 unsafe path`);
  for (const file of listed) {
    if (unsafe.has(file.path)) continue;
    const size = await stat(join(dir, file.path)).then((s) => s.size, () => undefined);
    if (size === undefined) mismatches.push(`${file.path}: 未恢复 not restored`);
    else if (size !== file.size) mismatches.push(`${file.path}: ${size} B ≠ ${file.size} B`);
  }
  const sample = pickSample(listed.filter((file) => !unsafe.has(file.path)), sampleSize);
  for (const file of sample) {
    if (mismatches.some((m) => m.startsWith(`${file.path}:`))) continue;
    try {
      const [restored, reread] = await Promise.all([
        sha256Of(createReadStream(join(dir, file.path), { signal })),
        sha256Of(target.openRead(latest.name, file.path, { signal })),
      ]);
      if (restored !== reread) mismatches.push(`${file.path}: sha256 ${restored.slice(0, 12)}… ≠ ${reread.slice(0, 12)}…`);
    } catch (error) {
      if (signal.aborted) throw error;
      mismatches.push(`${file.path}: ${(error as Error).message}`);
    }
  }
  return { set: latest.name, setTime: latest.time.toISOString(), files: listed.length, sampled: sample.map((f) => f.path), mismatches };
}
