import type { Readable } from 'node:stream';

/** One backup set: a directory under the target named by the time it was taken (see `parseSetTime`). */
export interface BackupSetRef {
  name: string;
  time: Date;
}

export interface BackupFileInfo {
  /** Relative to the set, `/`-separated. */
  path: string;
  size: number;
  mtimeMs: number;
}

export interface ReadOptions {
  /** Bytes per read; large reads keep hashing fast (1–4 MiB). */
  highWaterMark?: number;
  signal?: AbortSignal;
  /** First byte to read; honoured only by targets with `rangeReads`. */
  start?: number;
}

/** A place that holds backup sets: a local or mounted (NFS) path, or an SFTP server. */
export interface BackupTarget {
  /** Where it is, for humans and results (never a secret). */
  readonly description: string;
  /** `openRead` honours `start` (seeks): the ransomware sampler reads a block from a file's middle without reading up to it. */
  readonly rangeReads?: boolean;
  /** Sets found, oldest first; directories whose names are not set times are left out. */
  listSets(): Promise<BackupSetRef[]>;
  /** Every regular file of a set, recursively, sorted by path. */
  listFiles(set: string): Promise<BackupFileInfo[]>;
  openRead(set: string, path: string, options?: ReadOptions): Readable;
  /** Whole small file (a manifest); undefined when it does not exist. */
  readSmallFile(set: string, path: string): Promise<Buffer | undefined>;
  /** Safe to call twice. */
  close(): Promise<void>;
}

// `20261126T020000Z` (compact) or `2026-11-26T02-00-00Z` / `2026-11-26T02:00:00Z` (ISO-like), always UTC.
const SET_NAME = /^(\d{4})-?(\d{2})-?(\d{2})T(\d{2})[-:]?(\d{2})[-:]?(\d{2})Z$/;

/** The time a set was taken, from its directory name; undefined when the name is not a set time. */
export function parseSetTime(name: string): Date | undefined {
  const match = SET_NAME.exec(name);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, number, number, number, number, number, number];
  const time = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  // Reject 20261332T… and the like instead of letting Date roll them over.
  if (time.getUTCMonth() !== mo - 1 || time.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return undefined;
  return time;
}

/** The compact set name for a time: `YYYYMMDDTHHMMSSZ`. */
export function formatSetName(time: Date): string {
  return time.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

export function sortSets(names: readonly string[]): BackupSetRef[] {
  return names
    .map((name) => ({ name, time: parseSetTime(name) }))
    .filter((set): set is BackupSetRef => set.time !== undefined)
    .sort((a, b) => a.time.getTime() - b.time.getTime() || a.name.localeCompare(b.name));
}

/** Set names and file paths come from remote listings and manifests: never let them climb out. */
export const isSafeRelative = (path: string): boolean =>
  !!path && !path.startsWith('/') && !path.includes('\u0000') && !path.split('/').some((part) => part === '..' || part === '');

export function assertSafeRelative(path: string): void {
  if (!isSafeRelative(path)) throw new Error(`unsafe relative path ${JSON.stringify(path)}`);
}
