import { MANIFEST_FILES } from '../manifest.js';
import { isRepositoryTarget, type BackupFileInfo } from '../targets/index.js';
import { isCompressible, isHighEntropy } from './byte-sample.js';
import { SITE_LABEL, nameList, type CheckOutcome } from './outcome.js';
import { fingerprintSet, type FingerprintOptions, type SampledFile, type SetFingerprint } from './set-fingerprint.js';
import type { SiteSnapshot } from './snapshot.js';

/** Entropy signal: at least this many sampled files, and this share of the comparable ones, went from compressible to high-entropy. */
export const FLIP_MIN_FILES = 3;
export const FLIP_SHARE = 0.3;
/** Entropy alone is critical from this share on (in-place encryption keeps names). */
export const FLIP_SHARE_ALONE = 0.5;
/** Extension signal: this many files, and this share of the previous set, renamed to one new extension. */
export const RENAME_MIN_FILES = 3;
export const RENAME_SHARE = 0.3;
/** Change-rate signal: at least this share of files changed, and this many times the previous pair's share. */
export const CHANGE_RATE_MIN = 0.5;
export const CHANGE_RATE_JUMP = 3;

export interface RansomwareOptions extends FingerprintOptions {
  /** The fingerprint stored by the previous run; used when it is of the previous set, else that set is sampled again. */
  stored?: SetFingerprint;
  /**
   * Sample the previous set when no stored fingerprint of it is found (default: yes for path and SFTP
   * targets; no for restic and Borg, where each read is a restore: that run records the baseline).
   */
  resample?: boolean;
}

export interface FlippedFile {
  /** In the previous set. */
  path: string;
  /** In the latest set: the same path, or the path with the new extension. */
  now: string;
  before: { entropy: number; ratio: number };
  after: { entropy: number; ratio: number };
}

export interface ChangeRate {
  changed: number;
  added: number;
  removed: number;
  /** (changed + added + removed) / files in either set. */
  rate: number;
}

const dataFiles = (files: readonly BackupFileInfo[]) => files.filter((file) => !MANIFEST_FILES.includes(file.path));
const extensionOf = (path: string) => /(\.[^./]{1,16})$/.exec(path)?.[1];

/** Share of files changed (size or mtime), added or removed from one set to the next. */
export function changeRate(older: readonly BackupFileInfo[], newer: readonly BackupFileInfo[]): ChangeRate {
  const before = new Map(dataFiles(older).map((file) => [file.path, file]));
  let changed = 0;
  let added = 0;
  const seen = new Set<string>();
  for (const file of dataFiles(newer)) {
    seen.add(file.path);
    const was = before.get(file.path);
    if (!was) added += 1;
    else if (was.size !== file.size || Math.trunc(was.mtimeMs) !== Math.trunc(file.mtimeMs)) changed += 1;
  }
  const removed = [...before.keys()].filter((path) => !seen.has(path)).length;
  const union = before.size + added;
  return { changed, added, removed, rate: union ? round((changed + added + removed) / union) : 0 };
}

/**
 * Files whose old name is gone and which reappear under the old name plus one extension
 * (`report.csv` → `report.csv.locked`): old path → new path.
 */
export function renamedFiles(older: readonly BackupFileInfo[], newer: readonly BackupFileInfo[]): Map<string, string> {
  const olderPaths = new Set(dataFiles(older).map((file) => file.path));
  const newerPaths = new Set(dataFiles(newer).map((file) => file.path));
  const renamed = new Map<string, string>();
  for (const path of newerPaths) {
    if (olderPaths.has(path)) continue;
    const extension = extensionOf(path);
    const base = extension && path.slice(0, -extension.length);
    if (base && olderPaths.has(base) && !newerPaths.has(base)) renamed.set(base, path);
  }
  return renamed;
}

export interface NewExtension {
  /** `.locked`, or `random 5–8 char` when each file got its own. */
  extension: string;
  files: number;
  /** Of the previous set's files. */
  share: number;
  examples: string[];
}

/** The most common extension files were renamed to, when it was not an extension in the previous set. */
export function commonNewExtension(older: readonly BackupFileInfo[], renamed: ReadonlyMap<string, string>): NewExtension | undefined {
  const known = new Set(dataFiles(older).map((file) => extensionOf(file.path)?.toLowerCase()));
  const groups = new Map<string, string[]>();
  for (const path of renamed.values()) {
    const extension = extensionOf(path)!.toLowerCase();
    if (!known.has(extension)) groups.set(extension, [...(groups.get(extension) ?? []), path]);
  }
  // Some families append a random extension per file: those count together.
  const randoms = [...groups].filter(([extension, paths]) => paths.length === 1 && /^\.[a-z0-9]{5,8}$/.test(extension)).flatMap(([, paths]) => paths);
  let best: [string, string[]] | undefined;
  for (const entry of groups) if (!best || entry[1].length > best[1].length) best = entry;
  if (randoms.length > (best?.[1].length ?? 0)) best = ['random 5–8 char', randoms];
  if (!best) return undefined;
  const total = dataFiles(older).length;
  return { extension: best[0], files: best[1].length, share: total ? round(best[1].length / total) : 0, examples: best[1].slice(0, 10) };
}

/** Previous sample vs latest sample: files that were compressible and are high-entropy now. */
export function flippedFiles(previous: SetFingerprint, latest: SetFingerprint, counterpart: (path: string) => string): {
  flipped: FlippedFile[]; comparable: number; stayedHigh: number;
} {
  const now = new Map(latest.files.map((file) => [file.path, file]));
  const figures = (file: SampledFile) => ({ entropy: file.entropy, ratio: file.ratio });
  const flipped: FlippedFile[] = [];
  let comparable = 0;
  let stayedHigh = 0;
  for (const before of previous.files) {
    const after = now.get(counterpart(before.path));
    if (!after || after.error) continue;
    if (isHighEntropy(before) && isHighEntropy(after)) stayedHigh += 1;
    if (!isCompressible(before)) continue;
    comparable += 1;
    if (isHighEntropy(after)) flipped.push({ path: before.path, now: after.path, before: figures(before), after: figures(after) });
  }
  return { flipped, comparable, stayedHigh };
}

/**
 * Ransomware signals between the latest set and the one before (Veeam-style suspicious-backup
 * detection): sampled files that were compressible and are now high-entropy, files renamed to a
 * common new extension, and a jump in the share of changed files. Entropy with either other signal,
 * or entropy alone over half the comparable files, fails as critical; one weaker signal warns.
 * The latest set's fingerprint rides in the detail for the next run.
 */
export async function checkRansomware(snapshot: SiteSnapshot, options: RansomwareOptions = {}): Promise<CheckOutcome> {
  const zh = SITE_LABEL[snapshot.site];
  const latest = snapshot.latest;
  if (!latest) {
    return {
      status: 'warn',
      summary: `${zh}没有备份集，无法检查勒索软件迹象 / no ${snapshot.site} set to examine for ransomware signals`,
      detail: { ...(snapshot.error ? { error: snapshot.error } : {}) },
    };
  }
  const previous = snapshot.history[0];
  const target = snapshot.target;
  const stored = previous && options.stored?.set === previous.name && options.stored.target === target.description ? options.stored : undefined;
  const resample = options.resample ?? !isRepositoryTarget(target);
  if (!previous || (!stored && !resample)) {
    const fingerprint = await fingerprintSet(target, latest, [], options);
    const why = previous ? '上一个备份集没有保存的抽样' : '无更早备份可比';
    const whyEn = previous ? 'no stored sample of the previous set (compared from the next run on)' : 'no earlier set to compare';
    return {
      status: 'pass',
      summary: `${zh}最新备份集 ${latest.name}：已抽样 ${fingerprint.files.length} 个文件作为基线，${why} / ${snapshot.site} latest set ${latest.name}: ${fingerprint.files.length} files sampled as the baseline; ${whyEn}`,
      detail: { latestSet: latest.name, ...(previous ? { previousSet: previous.name } : {}), sampled: fingerprint.files.length, baseline: true, fingerprint },
    };
  }

  const before = stored ?? await fingerprintSet(target, previous, [], options);
  const renamed = renamedFiles(previous.files, latest.files);
  const counterpart = (path: string) => renamed.get(path) ?? path;
  const fingerprint = await fingerprintSet(target, latest, before.files.map((file) => counterpart(file.path)), options);
  const { flipped, comparable, stayedHigh } = flippedFiles(before, fingerprint, counterpart);
  const flippedShare = comparable ? round(flipped.length / comparable) : 0;
  const extension = commonNewExtension(previous.files, renamed);
  const change = changeRate(previous.files, latest.files);
  const baseline = snapshot.history[1] ? changeRate(snapshot.history[1].files, previous.files) : undefined;

  const entropySignal = flipped.length >= FLIP_MIN_FILES && flippedShare >= FLIP_SHARE;
  const extensionSignal = !!extension && extension.files >= RENAME_MIN_FILES && extension.share >= RENAME_SHARE;
  const changeSignal = !!baseline && change.rate >= CHANGE_RATE_MIN && change.rate >= baseline.rate * CHANGE_RATE_JUMP;
  const signals = [entropySignal && 'entropy', extensionSignal && 'extension', changeSignal && 'change-rate'].filter((s): s is string => !!s);
  const critical = entropySignal && (extensionSignal || changeSignal || flippedShare >= FLIP_SHARE_ALONE);
  const unreadable = fingerprint.files.filter((file) => file.error).map((file) => ({ path: file.path, error: file.error }));

  const detail = {
    latestSet: latest.name, previousSet: previous.name, fingerprintSource: stored ? 'stored' : 'resampled',
    sampled: fingerprint.files.length, comparable, stayedHighEntropy: stayedHigh,
    flippedFiles: flipped.length, flippedShare, flipped,
    ...(extension ? { newExtension: extension } : {}),
    changeRate: change, ...(baseline ? { previousChangeRate: baseline } : {}),
    signals, ...(critical ? { severity: 'critical' } : {}),
    ...(unreadable.length ? { unreadable } : {}),
    fingerprint,
  };
  const figures = [
    `熵突变 ${flipped.length}/${comparable}（${pct(flippedShare)}）`,
    extension ? `新扩展名 ${extension.extension} ${extension.files} 个（${pct(extension.share)}）` : '无新扩展名',
    `变化率 ${pct(change.rate)}${baseline ? `（上一对 ${pct(baseline.rate)}）` : ''}`,
  ].join('，');
  const figuresEn = [
    `${flipped.length} of ${comparable} compressible sampled files turned high-entropy (${pct(flippedShare)})`,
    extension ? `${extension.files} files renamed to new extension ${extension.extension} (${pct(extension.share)})` : 'no new extension',
    `change rate ${pct(change.rate)}${baseline ? ` (previous pair ${pct(baseline.rate)})` : ''}`,
  ].join(', ');
  const names = nameList(flipped.map((file) => file.now));
  if (critical) {
    return {
      status: 'fail',
      summary: `${zh}备份集 ${latest.name} 疑似被勒索软件加密：${figures}；文件 ${names} / ${snapshot.site} set ${latest.name} looks encrypted by ransomware: ${figuresEn}; files ${names}`,
      detail,
    };
  }
  if (signals.length) {
    return {
      status: 'warn',
      summary: `${zh}备份集 ${latest.name} 有可疑变化（${signals.join(', ')}）：${figures} / ${snapshot.site} set ${latest.name} changed suspiciously (${signals.join(', ')}): ${figuresEn}`,
      detail,
    };
  }
  return {
    status: 'pass',
    summary: `${zh}备份集 ${latest.name} 无勒索软件迹象：${figures} / ${snapshot.site} set ${latest.name} shows no ransomware signals: ${figuresEn}`,
    detail,
  };
}

const round = (value: number) => Math.round(value * 1000) / 1000;
const pct = (share: number) => `${Math.round(share * 1000) / 10}%`;
