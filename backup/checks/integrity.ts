import { createHash } from 'node:crypto';
import { MANIFEST_FILES, type ManifestEntry } from '../manifest.js';
import { isRepositoryTarget, type BackupFileInfo, type BackupTarget, type RepositoryTarget } from '../targets/index.js';
import { SITE_LABEL, formatBytes, nameList, type CheckOutcome } from './outcome.js';
import type { SiteSnapshot } from './snapshot.js';

export type IntegrityProblem = 'missing' | 'truncated' | 'size-mismatch' | 'corrupted' | 'unreadable' | 'extra' | 'not-a-dump';

export interface IntegrityFinding {
  path: string;
  problem: IntegrityProblem;
  expected?: string | number;
  actual?: string | number;
}

export interface IntegrityOptions {
  /** Bytes per read; 4 MiB keeps the hash loop busy and the syscalls few. */
  highWaterMark?: number;
  /** Files hashed at once: overlaps one file's reads with another's hashing. */
  concurrency?: number;
  signal?: AbortSignal;
  /** Called per chunk hashed, and once per file finished. */
  onBytes?: (bytes: number, path: string) => void;
  onFile?: (path: string) => void;
}

export interface FileDigest {
  sha256: string;
  sm3?: string;
  bytes: number;
  head: Buffer;
}

/** Streams one file through SHA-256 (and SM3 when wanted); nothing is held in memory but a chunk. */
export async function digestFile(
  target: BackupTarget, set: string, path: string, wantSm3: boolean, options: IntegrityOptions = {},
): Promise<FileDigest> {
  const sha256 = createHash('sha256');
  const sm3 = wantSm3 ? createHash('sm3') : undefined;
  let bytes = 0;
  let head: Buffer | undefined;
  const stream = target.openRead(set, path, {
    highWaterMark: options.highWaterMark ?? 4 << 20,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    sha256.update(chunk);
    sm3?.update(chunk);
    bytes += chunk.length;
    head ??= Buffer.from(chunk.subarray(0, 32));
    options.onBytes?.(chunk.length, path);
  }
  return { sha256: sha256.digest('hex'), ...(sm3 ? { sm3: sm3.digest('hex') } : {}), bytes, head: head ?? Buffer.alloc(0) };
}

/** Dumps are restored by the drills; a header that is not a dump's means the backup job wrote junk. */
export function dumpProblem(path: string, head: Buffer): string | undefined {
  if (path.endsWith('.dump') && !head.subarray(0, 5).equals(Buffer.from('PGDMP'))) return 'PostgreSQL custom-format dump (PGDMP)';
  if (path.endsWith('.sql') && head.length && !/^(--|\/\*|SET |CREATE |INSERT |DROP |USE )/i.test(head.toString('latin1'))) {
    return 'SQL dump text';
  }
  return undefined;
}

export async function runLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(lanes);
}

/** Checks every file of a set against its manifest; corrupted, missing and extra files are named. */
export async function verifySetFiles(
  target: BackupTarget, set: string, entries: readonly ManifestEntry[], present: readonly BackupFileInfo[], options: IntegrityOptions = {},
): Promise<{ findings: IntegrityFinding[]; bytes: number; files: number; algorithms: string[] }> {
  const onDisk = new Map(present.map((file) => [file.path, file]));
  const listed = new Set(entries.map((entry) => entry.path));
  const findings: IntegrityFinding[] = [];
  const toHash: ManifestEntry[] = [];
  for (const entry of entries) {
    const file = onDisk.get(entry.path);
    if (!file) findings.push({ path: entry.path, problem: 'missing' });
    else if (entry.size !== undefined && file.size !== entry.size) {
      // A size mismatch needs no hashing to be proven.
      findings.push({ path: entry.path, problem: file.size < entry.size ? 'truncated' : 'size-mismatch', expected: entry.size, actual: file.size });
      options.onBytes?.(file.size, entry.path);
    } else toHash.push(entry);
  }
  for (const file of present) {
    if (!listed.has(file.path) && !MANIFEST_FILES.includes(file.path)) findings.push({ path: file.path, problem: 'extra', actual: file.size });
  }
  const useSm3 = entries.some((entry) => entry.sm3);
  let bytes = 0;
  await runLimited(toHash, options.concurrency ?? 2, async (entry) => {
    try {
      const digest = await digestFile(target, set, entry.path, useSm3 && entry.sm3 !== undefined, options);
      bytes += digest.bytes;
      if (digest.sha256 !== entry.sha256) {
        // Without a size in the manifest a short file only shows up as a wrong hash; the listing tells them apart.
        findings.push({ path: entry.path, problem: 'corrupted', expected: entry.sha256, actual: digest.sha256 });
      } else if (entry.sm3 && digest.sm3 !== entry.sm3) {
        findings.push({ path: entry.path, problem: 'corrupted', expected: `sm3:${entry.sm3}`, actual: `sm3:${digest.sm3}` });
      } else {
        const expected = dumpProblem(entry.path, digest.head);
        if (expected) findings.push({ path: entry.path, problem: 'not-a-dump', expected, actual: JSON.stringify(digest.head.toString('latin1', 0, 16)) });
      }
    } catch (error) {
      if (options.signal?.aborted) throw error;
      findings.push({ path: entry.path, problem: 'unreadable', actual: (error as Error).message });
    }
    options.onFile?.(entry.path);
  });
  findings.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { findings, bytes, files: toHash.length, algorithms: useSm3 ? ['sha256', 'sm3'] : ['sha256'] };
}

const PROBLEM_LABEL: Record<IntegrityProblem, string> = {
  missing: '缺失 missing',
  truncated: '被截断 truncated',
  'size-mismatch': '大小不符 size mismatch',
  corrupted: '校验和不符 corrupted',
  unreadable: '无法读取 unreadable',
  extra: '清单外文件 extra',
  'not-a-dump': '不是有效转储 not a valid dump',
};

const FAILING: readonly IntegrityProblem[] = ['missing', 'truncated', 'size-mismatch', 'corrupted', 'unreadable'];

/** The latest set of a site, every file streamed against the manifest. */
export async function checkIntegrity(snapshot: SiteSnapshot, options: IntegrityOptions = {}): Promise<CheckOutcome> {
  const zh = SITE_LABEL[snapshot.site];
  const latest = snapshot.latest;
  if (!latest) return { status: 'fail', summary: `${zh}没有备份集 / no ${snapshot.site} set`, detail: { error: snapshot.error } };
  if (isRepositoryTarget(snapshot.target)) return checkRepositoryIntegrity(snapshot, snapshot.target, options);
  if (!latest.manifest) {
    const reason = latest.manifestError ?? `没有 manifest.json 或 SHA256SUMS / no manifest.json or SHA256SUMS`;
    return {
      status: 'fail',
      summary: `${zh}最新备份集 ${latest.name} 无法校验：${reason} / ${snapshot.site} latest set ${latest.name} cannot be verified`,
      detail: { latestSet: latest.name, manifestError: reason },
    };
  }
  const started = process.hrtime.bigint();
  const result = await verifySetFiles(snapshot.target, latest.name, latest.manifest.files, latest.files, options);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const byProblem: Partial<Record<IntegrityProblem, string[]>> = {};
  for (const finding of result.findings) (byProblem[finding.problem] ??= []).push(finding.path);
  const detail = {
    latestSet: latest.name, manifest: latest.manifest.source, algorithms: result.algorithms,
    filesListed: latest.manifest.files.length, filesHashed: result.files, bytesHashed: result.bytes,
    seconds: Math.round(seconds * 1000) / 1000, mbPerSecond: seconds > 0 ? Math.round(result.bytes / 1e6 / seconds) : undefined,
    findings: result.findings, ...byProblem,
  };
  if (!result.findings.length) {
    return {
      status: 'pass',
      summary: `${zh}最新备份集 ${latest.name} 的 ${latest.manifest.files.length} 个文件（${formatBytes(result.bytes)}）均与清单一致 / all ${latest.manifest.files.length} files (${formatBytes(result.bytes)}) of ${snapshot.site} set ${latest.name} match the manifest`,
      detail,
    };
  }
  const parts = Object.entries(byProblem).map(([problem, paths]) => `${PROBLEM_LABEL[problem as IntegrityProblem]}: ${nameList(paths)}`);
  const failing = result.findings.some((finding) => FAILING.includes(finding.problem));
  return {
    status: failing ? 'fail' : 'warn',
    summary: `${zh}备份集 ${latest.name} 完整性${failing ? '校验失败' : '存疑'} / ${snapshot.site} set ${latest.name} integrity ${failing ? 'failed' : 'questionable'} — ${parts.join('; ')}`,
    detail,
  };
}

/** A restic/Borg repository: the tool's own check (packs, index, and the configured share of the data). */
async function checkRepositoryIntegrity(snapshot: SiteSnapshot, target: RepositoryTarget, options: IntegrityOptions): Promise<CheckOutcome> {
  const zh = SITE_LABEL[snapshot.site];
  const started = process.hrtime.bigint();
  const result = await target.checkRepository(options.signal);
  const seconds = Math.round(Number(process.hrtime.bigint() - started) / 1e6) / 1000;
  const detail = { latestSet: snapshot.latest?.name, repository: target.kind, command: result.command, output: result.output, seconds };
  return result.ok
    ? {
      status: 'pass',
      summary: `${zh}仓库 ${target.description} 自检通过（${result.command}）/ ${snapshot.site} repository ${target.description} passed ${result.command}`,
      detail,
    }
    : {
      status: 'fail',
      summary: `${zh}仓库 ${target.description} 自检失败（${result.command}）/ ${snapshot.site} repository ${target.description} failed ${result.command}: ${result.output.split('\n').slice(-2).join(' ')}`,
      detail,
    };
}
