import { execFile } from 'node:child_process';
import { chownSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { ChildService, ensureDebianPackage, ensureExecutable, freePort, versionedDirs } from '../../core/index.js';
import { lookupUser } from './users.js';

const run = promisify(execFile);

export interface PostgresOptions {
  /** Extra `postgresql.conf` lines, e.g. `shared_preload_libraries = 'pgaudit'`. */
  settings?: Record<string, string | number | boolean>;
  /** Server extensions to install (Debian `postgresql-<major>-<name>`) and preload, unless `settings` preloads its own. */
  extensions?: 'pgaudit'[];
}

export interface PostgresHandle {
  url: string;
  port: number;
  dataDir: string;
  logFile: string;
  stop(): Promise<void>;
}

const requirement = (command: string) => ({
  command,
  debianPackage: 'postgresql',
  extraDirs: () => versionedDirs('/usr/lib/postgresql', 'bin'),
});

/**
 * A throwaway PostgreSQL cluster on a free loopback port, data in a temp dir.
 * PostgreSQL refuses to run as root, so as root it runs as the `postgres` user the package creates.
 */
export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresHandle> {
  const initdb = await ensureExecutable(requirement('initdb'));
  const postgres = await ensureExecutable(requirement('postgres'));
  const extensions = options.extensions ?? [];
  if (extensions.length) await ensureExtensions(postgres, extensions);
  const asUser = process.getuid?.() === 0 ? lookupUser('postgres') : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'shouwang-pg-'));
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'postgres.log');
  writeFileSync(logFile, '');
  if (asUser) {
    chownSync(dir, asUser.uid, asUser.gid);
    chownSync(logFile, asUser.uid, asUser.gid);
  }
  const spawnAs = asUser ? { uid: asUser.uid, gid: asUser.gid, env: { ...process.env, HOME: dir } } : {};
  await run(initdb, ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync'], spawnAs);
  const port = await freePort();
  const settings: Record<string, string | number | boolean> = {
    listen_addresses: "'127.0.0.1'",
    port,
    unix_socket_directories: `'${dir}'`,
    fsync: 'off',
    ...(extensions.length ? { shared_preload_libraries: `'${extensions.join(',')}'` } : {}),
    ...options.settings,
  };
  writeFileSync(join(dataDir, 'postgresql.auto.conf'), Object.entries(settings).map(([k, v]) => `${k} = ${v}`).join('\n') + '\n');
  if (asUser) chownSync(join(dataDir, 'postgresql.auto.conf'), asUser.uid, asUser.gid);
  const service = await ChildService.start({
    name: 'postgres',
    command: postgres,
    args: ['-D', dataDir],
    logFile,
    spawn: spawnAs,
    ready: async () => {
      const { stdout } = await run(await ensureExecutable(requirement('pg_isready')), ['-h', '127.0.0.1', '-p', String(port)]);
      return stdout.includes('accepting');
    },
    // SIGINT is PostgreSQL's "fast" shutdown: it does not wait for clients to disconnect.
    stopSignal: 'SIGINT',
  });
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    logFile,
    stop: async () => {
      await service.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Extension packages are built per major version: the one matching the server found is installed. */
async function ensureExtensions(postgres: string, extensions: readonly string[]): Promise<void> {
  const { stdout } = await run(postgres, ['--version']);
  const major = /PostgreSQL\) (\d+)/.exec(stdout)?.[1];
  if (!major) throw new Error(`cannot read the PostgreSQL version from: ${stdout.trim()}`);
  // Debian layout: /usr/lib/postgresql/<major>/bin/postgres next to /usr/lib/postgresql/<major>/lib/<name>.so;
  // the binary found on PATH may be a symlink to it.
  const libDir = join(dirname(dirname(realpathSync(postgres))), 'lib');
  for (const name of extensions) {
    await ensureDebianPackage({ debianPackage: `postgresql-${major}-${name}`, file: join(libDir, `${name}.so`) });
  }
}
