import { cp, lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ensureExecutable } from '../../core/index.js';
import { BackupErrors } from '../errors.js';
import type { DatabaseRepository } from './database-repository.js';
import { PathTarget } from './path-target.js';
import { runCheck, runTool, tail, type RepositoryCheck } from './repository-tool.js';
import { formatSetName, type BackupFileInfo, type BackupSetRef, type ReadOptions } from './target.js';

export interface MariabackupSpec {
  /** A directory holding one directory per backup, as `mariabackup --backup --target-dir` wrote them. */
  path: string;
  /** Offset of the times in xtrabackup_info (the backup host's local time); default +00:00. */
  utcOffset?: string;
  /** Where the drill's validation queries run (default `mysql`). */
  database?: string;
}

/** `xtrabackup_checkpoints` of one backup directory. */
export interface Checkpoints {
  backupType: string;
  fromLsn: number;
  toLsn: number;
  lastLsn?: number;
}

interface BackupDir {
  dir: string;
  name: string;
  time: Date;
  checkpoints: Checkpoints;
  info: Record<string, string>;
}

// MariaDB 10.11 writes xtrabackup_*; 11.x renamed them mariadb_backup_*.
const CHECKPOINT_FILES = ['mariadb_backup_checkpoints', 'xtrabackup_checkpoints'];
const INFO_FILES = ['mariadb_backup_info', 'xtrabackup_info'];

/** `key = value` lines, as mariabackup writes its checkpoints and info files. */
export function parseKeyValues(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) values[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return values;
}

export function parseCheckpoints(text: string): Checkpoints | undefined {
  const values = parseKeyValues(text);
  const fromLsn = Number(values.from_lsn);
  const toLsn = Number(values.to_lsn);
  if (!values.backup_type || !/^\d+$/.test(values.from_lsn ?? '') || !/^\d+$/.test(values.to_lsn ?? '')) return undefined;
  return { backupType: values.backup_type, fromLsn, toLsn, ...(/^\d+$/.test(values.last_lsn ?? '') ? { lastLsn: Number(values.last_lsn) } : {}) };
}

async function readFirst(dir: string, names: readonly string[]): Promise<string | undefined> {
  for (const name of names) {
    const text = await readFile(join(dir, name), 'utf8').catch(() => undefined);
    if (text !== undefined) return text;
  }
  return undefined;
}

const isIncremental = (checkpoints: Checkpoints) => checkpoints.backupType === 'incremental';
/** InnoDB files whose pages carry checksums in a full backup (incrementals hold .delta pages instead). */
const PAGE_FILE = /(^|\/)(ibdata\d+|undo\d+|[^/]+\.ibd|[^/]+\.new)$/;

/**
 * A directory of mariabackup backups: each full or incremental backup directory is a set, named by its
 * end_time. Integrity: the checkpoints of the latest chain (full, then incrementals whose from_lsn is the
 * previous to_lsn) and `innochecksum` on every InnoDB page file of its full backup; the drill copies the chain,
 * runs `mariabackup --prepare` and starts a throwaway mariadbd on it.
 */
export class MariabackupDirectory implements DatabaseRepository {
  readonly kind = 'mariabackup' as const;
  readonly engine = 'mariadb' as const;
  readonly description: string;
  readonly database: string;
  readonly #spec: MariabackupSpec;
  readonly #files: PathTarget;
  #sets = new Map<string, BackupDir>();

  constructor(spec: MariabackupSpec) {
    this.#spec = spec;
    this.database = spec.database ?? 'mysql';
    this.description = `mariabackup:${spec.path}`;
    this.#files = new PathTarget(spec.path);
  }

  async listSets(): Promise<BackupSetRef[]> {
    let entries;
    try {
      entries = await readdir(this.#spec.path, { withFileTypes: true });
    } catch (error) {
      throw BackupErrors.target(this.description, (error as Error).message);
    }
    const offset = this.#spec.utcOffset ?? '+00:00';
    const found: BackupDir[] = [];
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      const dir = join(this.#spec.path, entry.name);
      const checkpoints = parseCheckpoints((await readFirst(dir, CHECKPOINT_FILES)) ?? '');
      if (!checkpoints) continue; // not a backup (or one whose checkpoints are gone: integrity names it)
      const info = parseKeyValues((await readFirst(dir, INFO_FILES)) ?? '');
      const stamp = info.end_time ?? info.start_time;
      const time = stamp ? new Date(`${stamp.replace(' ', 'T')}${offset}`) : new Date(Number.NaN);
      if (Number.isNaN(time.getTime())) continue;
      found.push({ dir: entry.name, name: '', time, checkpoints, info });
    }
    found.sort((a, b) => a.time.getTime() - b.time.getTime() || a.checkpoints.toLsn - b.checkpoints.toLsn || a.dir.localeCompare(b.dir));
    this.#sets.clear();
    return found.map((backup) => {
      let name = formatSetName(backup.time);
      if (this.#sets.has(name)) name = `${name}-${backup.dir.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 32)}`;
      this.#sets.set(name, { ...backup, name });
      return { name, time: backup.time };
    });
  }

  #backup(set: string): BackupDir {
    const backup = this.#sets.get(set);
    if (!backup) throw BackupErrors.target(this.description, `no backup named ${set} (list the sets first)`);
    return backup;
  }

  /** The backups a restore of `set` needs, full first: each incremental's from_lsn is the previous to_lsn. */
  chain(set: string): BackupDir[] {
    const ordered = [...this.#sets.values()];
    let current = this.#backup(set);
    const chain = [current];
    while (isIncremental(current.checkpoints)) {
      const from = current.checkpoints.fromLsn;
      const index = ordered.indexOf(current);
      const base = ordered.slice(0, index).reverse().find((b) => b.checkpoints.toLsn === from);
      if (!base) throw BackupErrors.target(this.description, `incremental ${current.dir} (from_lsn ${from}) has no base backup with to_lsn ${from}`);
      chain.unshift(base);
      current = base;
    }
    return chain;
  }

  details(): Record<string, unknown> {
    return {
      backups: [...this.#sets.values()].map((b) => ({
        set: b.name, dir: b.dir, type: b.checkpoints.backupType, fromLsn: b.checkpoints.fromLsn, toLsn: b.checkpoints.toLsn,
        serverVersion: b.info.server_version,
      })),
    };
  }

  setType(set: string): string | undefined {
    return this.#sets.get(set)?.checkpoints.backupType;
  }

  listFiles(set: string): Promise<BackupFileInfo[]> {
    return this.#files.listFiles(this.#backup(set).dir);
  }

  openRead(set: string, path: string, options: ReadOptions = {}): Readable {
    return this.#files.openRead(this.#backup(set).dir, path, options);
  }

  async readSmallFile(): Promise<Buffer | undefined> {
    return undefined;
  }

  /** The latest chain's checkpoints, then innochecksum on each page file of its full backup. */
  async checkRepository(signal?: AbortSignal): Promise<RepositoryCheck> {
    const command = 'checkpoints chain + innochecksum';
    const latest = [...this.#sets.keys()].at(-1);
    if (!latest) return { ok: false, command, output: 'no backup directory with checkpoints' };
    let chain: BackupDir[];
    try {
      chain = this.chain(latest);
    } catch (error) {
      return { ok: false, command, output: (error as Error).message };
    }
    const lines = chain.map((b) => `${b.dir}: ${b.checkpoints.backupType} ${b.checkpoints.fromLsn}→${b.checkpoints.toLsn}`);
    const bad = chain.find((b) => b.checkpoints.toLsn < b.checkpoints.fromLsn);
    if (bad) return { ok: false, command, output: `${lines.join('\n')}\n${bad.dir}: to_lsn before from_lsn` };
    const full = chain[0]!;
    const innochecksum = await ensureExecutable({ command: 'innochecksum', debianPackage: 'mariadb-server-core' });
    const pages = (await this.#files.listFiles(full.dir)).filter((file) => PAGE_FILE.test(file.path) && file.size > 0);
    const failures: string[] = [];
    for (const file of pages) {
      signal?.throwIfAborted();
      const check = await runCheck(innochecksum, [join(this.#spec.path, full.dir, file.path)], process.env, signal);
      if (!check.ok) failures.push(`${full.dir}/${file.path}: ${tail(check.output, 2).replace(/\n/g, ' ')}`);
    }
    lines.push(`innochecksum: ${pages.length - failures.length}/${pages.length} page files valid`, ...failures);
    return { ok: failures.length === 0, command, output: tail(lines.join('\n'), 20) };
  }

  /**
   * The copy takes only directories and regular files: a symbolic link (or FIFO, device) in a backup directory would be
   * copied as such, and prepare, run as root, would write through it wherever it points (a live data directory).
   */
  readonly #plainOnly = async (source: string): Promise<boolean> => {
    const info = await lstat(source);
    if (info.isFile() || info.isDirectory()) return true;
    const what = info.isSymbolicLink() ? 'a symbolic link' : 'not a regular file';
    throw BackupErrors.target(this.description, `${source} is ${what}; a mariabackup directory holds only files, so it is not restored / 备份目录中含符号链接或特殊文件，不予恢复`);
  };

  /** Copies the chain into `dir` and prepares it there (the repository is never written): a data directory. */
  async restore(set: string, dir: string, signal?: AbortSignal): Promise<void> {
    const chain = this.chain(set);
    const mariabackup = await ensureExecutable({ command: 'mariabackup', debianPackage: 'mariadb-backup' });
    const full = chain[0]!;
    await cp(join(this.#spec.path, full.dir), dir, { recursive: true, preserveTimestamps: true, filter: this.#plainOnly });
    const env = { ...process.env };
    await runTool(this.description, mariabackup, ['--prepare', `--target-dir=${dir}`], { env, ...(signal ? { signal } : {}), reason: prepareReason });
    for (const [index, incremental] of chain.slice(1).entries()) {
      const copy = `${dir}.inc${index}`;
      await cp(join(this.#spec.path, incremental.dir), copy, { recursive: true, preserveTimestamps: true, filter: this.#plainOnly });
      await runTool(this.description, mariabackup, ['--prepare', `--target-dir=${dir}`, `--incremental-dir=${copy}`], {
        env, ...(signal ? { signal } : {}), reason: prepareReason,
      });
    }
  }

  async close(): Promise<void> {}
}

const prepareReason = (stderr: string) =>
  stderr.trim().split('\n').filter((line) => /error|fail|corrupt/i.test(line)).slice(-3).join(' ').trim() || tail(stderr, 3);
