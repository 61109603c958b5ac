import { mkdir } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { BackupErrors } from '../errors.js';
import type { RepositoryTarget } from './restic-repository.js';
import { readSecret, runCheck, runTool, streamTool, tail, type RepositoryCheck } from './repository-tool.js';
import { assertSafeRelative, formatSetName, type BackupFileInfo, type BackupSetRef, type ReadOptions } from './target.js';

export interface BorgSpec {
  path: string;
  passwordFile?: string;
  passwordEnv?: string;
  /** `borg check --verify-data`: read and decrypt every chunk. */
  verifyData?: boolean;
}

/** Borg ends a crash with a traceback and its environment; the reason is the last `…Error: …` line. */
function borgReason(stderr: string): string {
  const lines = stderr.trim().split('\n');
  const error = lines.filter((line) => /(Error|Exception)\b.*:|^Error|mismatch|incorrect/i.test(line) && !/^\s*File "/.test(line)).at(-1);
  return error?.trim() ?? tail(stderr, 3);
}

/**
 * A Borg repository on a path: each archive is a set, named by its start time. Borg prints local times
 * without an offset, so the child runs with TZ=UTC and they are read as UTC.
 */
export class BorgRepository implements RepositoryTarget {
  readonly kind = 'borg' as const;
  readonly description: string;
  readonly #spec: BorgSpec;
  #names = new Map<string, string>();

  constructor(spec: BorgSpec) {
    this.#spec = spec;
    this.description = `borg:${spec.path}`;
  }

  /** The passphrase goes through the child's environment, never its arguments or our logs. */
  #env(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, TZ: 'UTC', BORG_REPO: this.#spec.path };
    delete env.BORG_PASSCOMMAND;
    delete env.BORG_PASSPHRASE_FD;
    const passphrase = readSecret(this.#spec, this.description);
    if (passphrase !== undefined) env.BORG_PASSPHRASE = passphrase;
    return env;
  }

  #borg(args: string[], signal?: AbortSignal, cwd?: string): Promise<string> {
    return runTool(this.description, 'borg', args, { env: this.#env(), reason: borgReason, ...(signal ? { signal } : {}), ...(cwd ? { cwd } : {}) });
  }

  #archive(set: string): string {
    const name = this.#names.get(set);
    if (!name) throw BackupErrors.target(this.description, `no archive named ${set} (list the sets first)`);
    return `::${name}`;
  }

  async listSets(): Promise<BackupSetRef[]> {
    const raw = JSON.parse(await this.#borg(['list', '--json'])) as { archives?: { name: string; start: string; id: string }[] };
    const archives = (raw.archives ?? [])
      .map((archive) => ({ archive, time: new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(archive.start) ? archive.start : `${archive.start}Z`) }))
      .filter(({ time }) => !Number.isNaN(time.getTime()))
      .sort((a, b) => a.time.getTime() - b.time.getTime() || a.archive.id.localeCompare(b.archive.id));
    this.#names.clear();
    return archives.map(({ archive, time }) => {
      let name = formatSetName(time);
      if (this.#names.has(name)) name = `${name}-${archive.id.slice(0, 8)}`;
      this.#names.set(name, archive.name);
      return { name, time };
    });
  }

  async listFiles(set: string): Promise<BackupFileInfo[]> {
    const out = await this.#borg(['list', '--json-lines', this.#archive(set)]);
    const files: BackupFileInfo[] = [];
    for (const line of out.split('\n')) {
      if (!line.trim()) continue;
      const item = JSON.parse(line) as { type?: string; path?: string; size?: number; mtime?: string };
      if (item.type !== '-' || !item.path) continue;
      files.push({ path: item.path.replace(/^\/+/, ''), size: item.size ?? 0, mtimeMs: item.mtime ? Date.parse(`${item.mtime}Z`) : 0 });
    }
    return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /** `borg extract --stdout`: the file's content as the repository holds it. */
  openRead(set: string, path: string, options: ReadOptions = {}): Readable {
    assertSafeRelative(path);
    // borg exits 1 with a warning ("Include pattern never matched") when the path is not in the archive.
    return streamTool('borg', ['extract', '--stdout', this.#archive(set), path], this.#env(), options, (stderr, code) =>
      (code === 0 && !/never matched/.test(stderr)
        ? undefined
        : BackupErrors.target(`${this.description} ${set}/${path}`, (stderr ? borgReason(stderr) : '') || `borg extract exited ${code}`)));
  }

  async readSmallFile(): Promise<Buffer | undefined> {
    return undefined;
  }

  checkRepository(signal?: AbortSignal): Promise<RepositoryCheck> {
    return runCheck('borg', ['check', ...(this.#spec.verifyData ? ['--verify-data'] : [])], this.#env(), signal);
  }

  async restore(set: string, dir: string, signal?: AbortSignal, paths?: readonly string[]): Promise<void> {
    for (const path of paths ?? []) assertSafeRelative(path);
    // borg extracts into its working directory, which must exist.
    await mkdir(dir, { recursive: true });
    // `--`: a file named like an option (`-x`) stays a path.
    await this.#borg(['extract', this.#archive(set), ...(paths?.length ? ['--', ...paths] : [])], signal, dir);
  }

  async close(): Promise<void> {}
}
