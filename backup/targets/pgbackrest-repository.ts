import { mkdir } from 'node:fs/promises';
import { PassThrough, type Readable } from 'node:stream';
import { BackupErrors } from '../errors.js';
import type { DatabaseRepository } from './database-repository.js';
import { readSecret, runCheck, runTool, type RepositoryCheck } from './repository-tool.js';
import { formatSetName, type BackupFileInfo, type BackupSetRef, type ReadOptions } from './target.js';

export interface PgbackrestSpec {
  /** repo1-path: the repository on a local or mounted path. */
  path: string;
  stanza: string;
  /** A pgbackrest.conf for the other repository options (cipher type, compression); `path` wins over its repo1-path. */
  configFile?: string;
  /** The repository cipher pass (repo1-cipher-pass), when the repository is encrypted. */
  passwordFile?: string;
  passwordEnv?: string;
  /** Where the drill's validation queries run (default `postgres`). */
  database?: string;
}

/** The parts of `pgbackrest info --output=json` read here. */
interface InfoBackup {
  label: string;
  type: 'full' | 'diff' | 'incr';
  error?: boolean;
  prior?: string | null;
  timestamp: { start: number; stop: number };
  archive?: { start?: string | null; stop?: string | null };
  info?: { size?: number; delta?: number; repository?: { size?: number; delta?: number } };
}
interface InfoStanza {
  name: string;
  status: { code: number; message: string };
  backup?: InfoBackup[];
  archive?: { id: string; min?: string | null; max?: string | null }[];
}

/** Status codes of `info` that mean "nothing here yet" rather than "cannot read": no valid backups. */
const EMPTY_STANZA = 2;

/**
 * A pgBackRest repository: each backup (full, differential or incremental) is a set, named by the time it
 * stopped (the restore point it gives); a copy of the repository off-site holds the same names. Files come
 * from each backup's own manifest, integrity from `pgbackrest verify`, the drill from `pgbackrest restore`.
 */
/**
 * pgBackRest's own label shape (`20261206-020000F`, `…F_20261207-020000I`). A label comes from the repository's
 * backup.info, which whoever can write the repository controls; it goes into `repo-get` paths and `--set`,
 * so anything else (`../x`) is not a backup of ours.
 */
export const isPgbackrestLabel = (label: unknown): label is string =>
  typeof label === 'string' && /^\d{8}-\d{6}F(?:_\d{8}-\d{6}[DI])?$/.test(label);

export class PgbackrestRepository implements DatabaseRepository {
  readonly kind = 'pgbackrest' as const;
  readonly engine = 'postgresql' as const;
  readonly description: string;
  readonly database: string;
  readonly #spec: PgbackrestSpec;
  #labels = new Map<string, string>();
  #info: InfoStanza | undefined;

  constructor(spec: PgbackrestSpec) {
    this.#spec = spec;
    this.database = spec.database ?? 'postgres';
    this.description = `pgbackrest:${spec.stanza}@${spec.path}`;
  }

  /** Options every command takes: this repository, this stanza, no log file (the host's log dir may not be ours). */
  baseArgs(): string[] {
    return [
      ...(this.#spec.configFile ? [`--config=${this.#spec.configFile}`] : []),
      `--repo1-path=${this.#spec.path}`, `--stanza=${this.#spec.stanza}`, '--log-level-file=off',
    ];
  }

  /** The cipher pass goes through the child's environment, never its arguments or our logs. */
  env(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const name of Object.keys(env)) if (name.startsWith('PGBACKREST_')) delete env[name];
    const pass = readSecret(this.#spec, this.description);
    if (pass !== undefined) env.PGBACKREST_REPO1_CIPHER_PASS = pass;
    return env;
  }

  #pgbackrest(args: string[], signal?: AbortSignal): Promise<string> {
    return runTool(this.description, 'pgbackrest', [...this.baseArgs(), '--log-level-console=error', ...args], {
      env: this.env(), reason: (stderr) => stderr.trim().split('\n').filter((line) => /ERROR/.test(line)).at(-1)?.trim() ?? stderr.trim().slice(-300),
      ...(signal ? { signal } : {}),
    });
  }

  async listSets(): Promise<BackupSetRef[]> {
    const raw = JSON.parse(await this.#pgbackrest(['info', '--output=json'])) as InfoStanza[];
    const stanza = raw.find((entry) => entry.name === this.#spec.stanza);
    if (!stanza) throw BackupErrors.target(this.description, `stanza ${this.#spec.stanza} not in pgbackrest info`);
    if (stanza.status.code !== 0 && stanza.status.code !== EMPTY_STANZA) throw BackupErrors.target(this.description, stanza.status.message);
    this.#info = stanza;
    const backups = (stanza.backup ?? [])
      .filter((backup) => !backup.error && Number.isFinite(backup.timestamp?.stop) && isPgbackrestLabel(backup.label))
      .sort((a, b) => a.timestamp.stop - b.timestamp.stop || a.label.localeCompare(b.label));
    this.#labels.clear();
    return backups.map((backup) => {
      const time = new Date(backup.timestamp.stop * 1000);
      let name = formatSetName(time);
      if (this.#labels.has(name)) name = `${name}-${backup.type}`;
      this.#labels.set(name, backup.label);
      return { name, time };
    });
  }

  /** The pgBackRest label of a set (`20261206-020000F_20261207-020000I`). */
  label(set: string): string {
    const label = this.#labels.get(set);
    if (!label) throw BackupErrors.target(this.description, `no backup named ${set} (list the sets first)`);
    return label;
  }

  /** What `info` says beyond the sets: backup types and labels, sizes, and the WAL archive range. */
  details(): Record<string, unknown> {
    const info = this.#info;
    if (!info) return {};
    const archive = info.archive?.at(-1);
    return {
      stanza: info.name,
      walArchive: archive ? { id: archive.id, min: archive.min ?? undefined, max: archive.max ?? undefined } : undefined,
      backups: [...this.#labels].map(([set, label]) => {
        const backup = info.backup!.find((b) => b.label === label)!;
        return {
          set, label, type: backup.type, prior: backup.prior ?? undefined,
          walStart: backup.archive?.start ?? undefined, walStop: backup.archive?.stop ?? undefined,
          databaseBytes: backup.info?.size, repositoryBytes: backup.info?.repository?.delta,
        };
      }),
    };
  }

  /** The backup's own manifest: every file a restore of it writes (a diff/incr includes the files it references). */
  async listFiles(set: string): Promise<BackupFileInfo[]> {
    const text = await this.#pgbackrest(['repo-get', `backup/${this.#spec.stanza}/${this.label(set)}/backup.manifest`]);
    return parseManifestFiles(text);
  }

  /** Files are read by restoring (pgBackRest stores them compressed, and maybe encrypted, by block). */
  openRead(set: string, path: string, _options: ReadOptions = {}): Readable {
    // An errored stream, as a missing file of any other target reads.
    const out = new PassThrough();
    queueMicrotask(() => out.destroy(BackupErrors.target(`${this.description} ${set}/${path}`, 'pgBackRest files are read by pgbackrest restore, not one by one')));
    return out;
  }

  async readSmallFile(): Promise<Buffer | undefined> {
    return undefined;
  }

  /** `pgbackrest verify` exits 0 even when it finds invalid files; its summary says `status: error`. */
  checkRepository(signal?: AbortSignal): Promise<RepositoryCheck> {
    return runCheck('pgbackrest', [...this.baseArgs(), '--log-level-console=detail', 'verify'], this.env(), signal,
      (output) => /status: error|invalid|ERROR:/i.test(output));
  }

  /**
   * `pgbackrest restore` of the set into an empty `dir` (created 0700, as PostgreSQL wants). Tablespaces go beside it
   * (`restoredTablespaces`; pgBackRest refuses them inside PGDATA): by default pgBackRest writes them at the absolute locations the backup's manifest names, which whoever
   * can write the repository chooses (and other links are restored as plain directories: no --link-all).
   */
  async restore(set: string, dir: string, signal?: AbortSignal): Promise<void> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await this.#pgbackrest(['restore', `--set=${this.label(set)}`, `--pg1-path=${dir}`, '--type=default',
      `--tablespace-map-all=${restoredTablespaces(dir)}`], signal);
  }

  /** restore_command for the restored server: WAL from this repository until its end. */
  restoreCommand(dataDir: string, lockDir: string): string {
    const args = [...this.baseArgs(), `--pg1-path=${dataDir}`, `--lock-path=${lockDir}`, 'archive-get', '%f', '"%p"'];
    return `pgbackrest ${args.map((arg) => (arg === '"%p"' || arg === '%f' ? arg : shellQuote(arg))).join(' ')}`;
  }

  async close(): Promise<void> {}
}

/** Where a drill's restore puts the set's tablespaces: beside the data directory, inside the drill's scratch directory. */
export const restoredTablespaces = (dataDir: string) => `${dataDir}-tablespaces`;

const shellQuote = (value: string) => (/^[A-Za-z0-9_./=:@%+-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`);

/** `[target:file]` lines of a backup.manifest: `pg_data/base/1/112={"size":8192,"timestamp":…,…}`. */
export function parseManifestFiles(text: string): BackupFileInfo[] {
  const files: BackupFileInfo[] = [];
  let inFiles = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('[')) {
      inFiles = line.trim() === '[target:file]';
      continue;
    }
    if (!inFiles) continue;
    const eq = line.indexOf('={');
    if (eq <= 0) continue;
    try {
      const entry = JSON.parse(line.slice(eq + 1)) as { size?: number; timestamp?: number };
      files.push({ path: line.slice(0, eq), size: Number(entry.size ?? 0), mtimeMs: Number(entry.timestamp ?? 0) * 1000 });
    } catch {
      // A line that is not an entry is left out; verify speaks for the manifest's integrity.
    }
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
