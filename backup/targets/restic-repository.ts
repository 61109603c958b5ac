import { execFile, spawn } from 'node:child_process';
import { PassThrough, type Readable } from 'node:stream';
import { promisify } from 'node:util';
import { BackupErrors } from '../errors.js';
import { assertSafeRelative, formatSetName, type BackupFileInfo, type BackupSetRef, type BackupTarget, type ReadOptions } from './target.js';

const run = promisify(execFile);

export interface ResticSpec {
  path: string;
  passwordFile?: string;
  passwordEnv?: string;
  /** `restic check --read-data-subset`; absent: structure only. */
  readDataSubset?: string;
}

export interface RepositoryCheck {
  ok: boolean;
  /** The command as run (no secret: the password travels in the child's environment). */
  command: string;
  /** The tool's own words, last lines, for the result. */
  output: string;
}

/** A target whose sets are a tool's snapshots; integrity comes from the tool's own check. */
export interface RepositoryTarget extends BackupTarget {
  readonly kind: 'restic' | 'borg';
  checkRepository(signal?: AbortSignal): Promise<RepositoryCheck>;
  /** Restores a whole set (or only `paths`, in one run) under `dir`, each file at its listed path. */
  restore(set: string, dir: string, signal?: AbortSignal, paths?: readonly string[]): Promise<void>;
}

export const isRepositoryTarget = (target: BackupTarget): target is RepositoryTarget =>
  typeof (target as Partial<RepositoryTarget>).checkRepository === 'function';

interface ResticSnapshot { time: string; id: string; short_id: string; tree: string }

const tail = (text: string, lines = 12) => text.trim().split('\n').slice(-lines).join('\n');

/**
 * A restic repository on a path: each snapshot is a set, named by its time (`restic copy` keeps the
 * time, so the same snapshot has the same name in the same-city and off-site repositories).
 */
export class ResticRepository implements RepositoryTarget {
  readonly kind = 'restic' as const;
  readonly description: string;
  readonly #spec: ResticSpec;
  #ids = new Map<string, string>();

  constructor(spec: ResticSpec) {
    this.#spec = spec;
    this.description = `restic:${spec.path}`;
  }

  /** The password goes through the child's environment, never its arguments or our logs. */
  #env(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, RESTIC_REPOSITORY: this.#spec.path };
    delete env.RESTIC_PASSWORD;
    delete env.RESTIC_PASSWORD_FILE;
    delete env.RESTIC_PASSWORD_COMMAND;
    if (this.#spec.passwordFile) env.RESTIC_PASSWORD_FILE = this.#spec.passwordFile;
    else if (this.#spec.passwordEnv) {
      const password = process.env[this.#spec.passwordEnv];
      if (password === undefined) throw BackupErrors.target(this.description, `environment variable ${this.#spec.passwordEnv} is not set`);
      env.RESTIC_PASSWORD = password;
    }
    return env;
  }

  async #restic(args: string[], signal?: AbortSignal): Promise<string> {
    try {
      const { stdout } = await run('restic', ['--no-cache', ...args], { env: this.#env(), maxBuffer: 256 << 20, ...(signal ? { signal } : {}) });
      return stdout;
    } catch (error) {
      if (signal?.aborted) throw error;
      const stderr = (error as { stderr?: string }).stderr;
      throw BackupErrors.target(this.description, tail(stderr || (error as Error).message, 3));
    }
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
    const out = new PassThrough({ highWaterMark: options.highWaterMark ?? 4 << 20 });
    let child;
    try {
      child = spawn('restic', ['--no-cache', 'dump', '--no-lock', this.#id(set), `/${path}`], {
        env: this.#env(), stdio: ['ignore', 'pipe', 'pipe'], ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (error) {
      queueMicrotask(() => out.destroy(error as Error));
      return out;
    }
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-2000); });
    child.stdout.pipe(out, { end: false });
    child.on('error', (error) => out.destroy(error));
    child.on('close', (code) => {
      if (code === 0) out.end();
      else out.destroy(BackupErrors.target(`${this.description} ${set}/${path}`, tail(stderr, 3) || `restic dump exited ${code}`));
    });
    return out;
  }

  async readSmallFile(): Promise<Buffer | undefined> {
    return undefined;
  }

  async checkRepository(signal?: AbortSignal): Promise<RepositoryCheck> {
    const args = ['check', ...(this.#spec.readDataSubset ? [`--read-data-subset=${this.#spec.readDataSubset}`] : [])];
    const command = `restic ${args.join(' ')}`;
    try {
      const { stdout, stderr } = await run('restic', ['--no-cache', ...args], { env: this.#env(), maxBuffer: 64 << 20, ...(signal ? { signal } : {}) });
      return { ok: true, command, output: tail(`${stdout}\n${stderr}`) };
    } catch (error) {
      if (signal?.aborted) throw error;
      const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
      return { ok: false, command, output: tail(`${stdout}\n${stderr}`.trim() || (error as Error).message) };
    }
  }

  async restore(set: string, dir: string, signal?: AbortSignal, paths?: readonly string[]): Promise<void> {
    for (const path of paths ?? []) assertSafeRelative(path);
    const include = (paths ?? []).flatMap((path) => ['--include', `/${path}`]);
    await this.#restic(['restore', '--no-lock', this.#id(set), '--target', dir, ...include], signal);
  }

  async close(): Promise<void> {}
}
