import type { Readable } from 'node:stream';
import { BackupErrors } from '../errors.js';
import type { S3Location } from './s3-target.js';
import { passwordFromEnv, runCheck, runTool, streamTool, tail, type RepositoryCheck } from './repository-tool.js';
import { assertSafeRelative, formatSetName, type BackupFileInfo, type BackupSetRef, type BackupTarget, type ReadOptions } from './target.js';

export interface ResticSpec {
  path: string;
  passwordFile?: string;
  passwordEnv?: string;
  /** `restic check --read-data-subset`; absent: structure only. */
  readDataSubset?: string;
  /** Extra environment for the child (an S3 repository's keys), read when restic runs; never logged. */
  env?: () => NodeJS.ProcessEnv;
  /** `-o key=value` options, e.g. `s3.bucket-lookup=path`. */
  options?: string[];
  /** Where the repository lives when it is on S3: its objects' Object Lock is judged there. */
  objectStore?: S3Location;
}

export type { RepositoryCheck } from './repository-tool.js';

/** A target whose sets are a tool's snapshots; integrity comes from the tool's own check. */
export interface RepositoryTarget extends BackupTarget {
  readonly kind: 'restic' | 'borg' | 'pgbackrest' | 'mariabackup';
  checkRepository(signal?: AbortSignal): Promise<RepositoryCheck>;
  /** Restores a whole set (or only `paths`, in one run) under `dir`, each file at its listed path. */
  restore(set: string, dir: string, signal?: AbortSignal, paths?: readonly string[]): Promise<void>;
  /** What the tool says beyond the sets (backup types, WAL range, sizes), added to the presence result. */
  details?(): Record<string, unknown>;
  /** The kind of a set when sizes differ by kind (an incremental against a full), so completeness compares like with like. */
  setType?(set: string): string | undefined;
}

export const isRepositoryTarget = (target: BackupTarget): target is RepositoryTarget =>
  typeof (target as Partial<RepositoryTarget>).checkRepository === 'function';

interface ResticSnapshot { time: string; id: string; short_id: string; tree: string }

/**
 * A restic repository on a path: each snapshot is a set, named by its time (`restic copy` keeps the
 * time, so the same snapshot has the same name in the same-city and off-site repositories).
 */
export class ResticRepository implements RepositoryTarget {
  readonly kind = 'restic' as const;
  readonly description: string;
  readonly #spec: ResticSpec;
  #ids = new Map<string, string>();
  readonly #options: string[];

  constructor(spec: ResticSpec) {
    this.#spec = spec;
    this.description = `restic:${spec.path}`;
    this.#options = (spec.options ?? []).flatMap((option) => ['-o', option]);
  }

  /** The password goes through the child's environment, never its arguments or our logs. */
  #env(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, ...this.#spec.env?.(), RESTIC_REPOSITORY: this.#spec.path };
    delete env.RESTIC_PASSWORD;
    delete env.RESTIC_PASSWORD_FILE;
    delete env.RESTIC_PASSWORD_COMMAND;
    if (this.#spec.passwordFile) env.RESTIC_PASSWORD_FILE = this.#spec.passwordFile;
    else if (this.#spec.passwordEnv) env.RESTIC_PASSWORD = passwordFromEnv(this.#spec.passwordEnv, this.description);
    return env;
  }

  #restic(args: string[], signal?: AbortSignal): Promise<string> {
    return runTool(this.description, 'restic', ['--no-cache', ...this.#options, ...args], { env: this.#env(), ...(signal ? { signal } : {}) });
  }

  async listSets(): Promise<BackupSetRef[]> {
    const raw = JSON.parse(await this.#restic(['snapshots', '--json', '--no-lock'])) as ResticSnapshot[] | null;
    const sets = (raw ?? [])
      .map((snap) => ({ snap, time: new Date(snap.time) }))
      .filter(({ time }) => !Number.isNaN(time.getTime()))
      .sort((a, b) => a.time.getTime() - b.time.getTime() || a.snap.id.localeCompare(b.snap.id));
    this.#ids.clear();
    return sets.map(({ snap, time }) => {
      // Two snapshots in one second keep apart by their short id.
      let name = formatSetName(time);
      if (this.#ids.has(name)) name = `${name}-${snap.short_id}`;
      this.#ids.set(name, snap.id);
      return { name, time };
    });
  }

  #id(set: string): string {
    const id = this.#ids.get(set);
    if (!id) throw BackupErrors.target(this.description, `no snapshot named ${set} (list the sets first)`);
    return id;
  }

  /** The bucket and prefix of a repository on S3; undefined on a path. */
  get objectStore(): S3Location | undefined {
    return this.#spec.objectStore;
  }

  /** Snapshot id of a set, for results. */
  snapshotId(set: string): string | undefined {
    return this.#ids.get(set);
  }

  async listFiles(set: string): Promise<BackupFileInfo[]> {
    const out = await this.#restic(['ls', '--json', '--no-lock', this.#id(set)]);
    const files: BackupFileInfo[] = [];
    for (const line of out.split('\n')) {
      if (!line.trim()) continue;
      const node = JSON.parse(line) as { struct_type?: string; type?: string; path?: string; size?: number; mtime?: string };
      if (node.struct_type !== 'node' || node.type !== 'file' || !node.path) continue;
      files.push({ path: node.path.replace(/^\/+/, ''), size: node.size ?? 0, mtimeMs: node.mtime ? Date.parse(node.mtime) : 0 });
    }
    return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /** `restic dump`: the file's content as the repository holds it, a read independent of any restore. */
  openRead(set: string, path: string, options: ReadOptions = {}): Readable {
    assertSafeRelative(path);
    return streamTool('restic', ['--no-cache', ...this.#options, 'dump', '--no-lock', this.#id(set), `/${path}`], this.#env(), options, (stderr, code) =>
      (code === 0 ? undefined : BackupErrors.target(`${this.description} ${set}/${path}`, tail(stderr, 3) || `restic dump exited ${code}`)));
  }

  async readSmallFile(): Promise<Buffer | undefined> {
    return undefined;
  }

  async checkRepository(signal?: AbortSignal): Promise<RepositoryCheck> {
    const args = ['check', ...(this.#spec.readDataSubset ? [`--read-data-subset=${this.#spec.readDataSubset}`] : [])];
    const check = await runCheck('restic', ['--no-cache', ...this.#options, ...args], this.#env(), signal);
    return { ...check, command: `restic ${args.join(' ')}` };
  }

  async restore(set: string, dir: string, signal?: AbortSignal, paths?: readonly string[]): Promise<void> {
    for (const path of paths ?? []) assertSafeRelative(path);
    const include = (paths ?? []).flatMap((path) => ['--include', `/${path}`]);
    await this.#restic(['restore', '--no-lock', this.#id(set), '--target', dir, ...include], signal);
  }

  async close(): Promise<void> {}
}
