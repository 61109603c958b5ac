import { chmod, chown, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ChildService, ensureExecutable } from '../../core/index.js';
import { restoredTablespaces, type PgbackrestRepository } from '../targets/pgbackrest-repository.js';
import { DrillErrors } from './errors.js';
import { mariadbDrillServer, postgresDrillServer, type DrillServer } from './drill-server.js';

const run = promisify(execFile);

/** A database server started on a restored data directory (a copy of production data), reachable only by the drill. */
export interface ThrowawayInstance {
  server: DrillServer;
  stop(): Promise<void>;
}

/** PostgreSQL and mariadbd refuse root: as root the server runs as the data directory's owner, else as `fallback`. */
async function serverUser(dataDir: string, fallback: string): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const owner = await stat(dataDir);
  if (owner.uid !== 0) return { uid: owner.uid, gid: owner.gid };
  const fields = readFileSync('/etc/passwd', 'utf8').split('\n').find((line) => line.startsWith(`${fallback}:`))?.split(':');
  if (!fields) throw DrillErrors.server('postgresql', `the data directory belongs to root and there is no ${fallback} user to run the server as`);
  const user = { uid: Number(fields[2]), gid: Number(fields[3]) };
  await run('chown', ['-R', `${user.uid}:${user.gid}`, dataDir]);
  return user;
}

/** Tablespaces restored beside the data directory belong to the server's user too (chown -R does not follow pg_tblspc's links). */
async function ownTablespaces(dataDir: string, user: { uid: number; gid: number } | undefined): Promise<void> {
  const tablespaces = restoredTablespaces(dataDir);
  if (user && existsSync(tablespaces)) await run('chown', ['-R', `${user.uid}:${user.gid}`, tablespaces]);
}

async function postgresBinary(dataDir: string): Promise<string> {
  const major = (await readFile(join(dataDir, 'PG_VERSION'), 'utf8').catch(() => '')).trim();
  if (!/^\d+$/.test(major)) throw DrillErrors.tool('postgres', `no PG_VERSION in the restored data directory ${dataDir}`);
  // The server must be the data directory's major version: Debian keeps each under /usr/lib/postgresql/<major>/bin.
  const versioned = `/usr/lib/postgresql/${major}/bin/postgres`;
  if (existsSync(versioned)) return versioned;
  return ensureExecutable({ command: 'postgres', debianPackage: `postgresql-${major}`, extraDirs: () => [`/usr/lib/postgresql/${major}/bin`] });
}

/**
 * Starts PostgreSQL on a data directory `pgbackrest restore` wrote: our own config file and pg_hba, archiving off (a drill must never push WAL into the real repository), WAL fetched from the
 * repository until its end, and ready only once recovery has finished and the server was promoted.
 * The restored copy holds production data: no TCP listener (any local user reaches 127.0.0.1), only a socket in the
 * drill's 0700 run directory, so trust there admits the server's own user and root (the drill) and nobody else.
 */
export async function startThrowawayPostgres(
  target: PgbackrestRepository, dataDir: string, workDir: string, database: string, readyTimeoutMs: number,
): Promise<ThrowawayInstance> {
  const postgres = await postgresBinary(dataDir);
  const user = await serverUser(dataDir, 'postgres');
  await ownTablespaces(dataDir, user);
  const runDir = join(workDir, 'run');
  await mkdir(join(runDir, 'lock'), { recursive: true, mode: 0o700 });
  await chmod(runDir, 0o700);
  const hba = join(runDir, 'pg_hba.conf');
  const ident = join(runDir, 'pg_ident.conf');
  const conf = join(runDir, 'postgresql.conf');
  await writeFile(hba, 'local all all trust\n');
  await writeFile(ident, '');
  await writeFile(conf, `data_directory = '${dataDir}'\nhba_file = '${hba}'\nident_file = '${ident}'\n`);
  const logFile = join(runDir, 'postgres.log');
  await writeFile(logFile, '');
  if (user) {
    for (const path of [workDir, runDir, join(runDir, 'lock'), hba, ident, conf, logFile]) await chown(path, user.uid, user.gid);
  }
  // The socket's name only: nothing listens on a TCP port, and the directory is the drill's own.
  const port = 5432;
  // Command-line settings win over the restored postgresql.auto.conf, whose port, sockets and archive_command are the source's.
  const settings: Record<string, string> = {
    config_file: conf, listen_addresses: '', port: String(port), unix_socket_directories: runDir,
    archive_mode: 'off', restore_command: target.restoreCommand(dataDir, join(runDir, 'lock')), hot_standby: 'on',
    logging_collector: 'off',
  };
  const server = postgresDrillServer(`postgres://postgres@localhost:${port}/postgres?host=${encodeURIComponent(runDir)}`);
  const service = await ChildService.start({
    name: 'postgres (drill)',
    command: postgres,
    args: Object.entries(settings).flatMap(([key, value]) => ['-c', `${key}=${value}`]),
    logFile,
    spawn: user ? { uid: user.uid, gid: user.gid, env: { ...process.env, HOME: runDir } } : {},
    ready: async () => (await server.query(database, 'SELECT pg_is_in_recovery()'))[0]?.[0] === 'f',
    readyTimeoutMs,
    stopSignal: 'SIGINT',
  });
  return { server, stop: () => service.stop() };
}

/** InnoDB layout settings a prepared backup needs from its backup-my.cnf; paths (data home, undo directory) stay the datadir's. */
const BACKUP_CNF_KEYS = new Set([
  'innodb_checksum_algorithm', 'innodb_data_file_path', 'innodb_log_file_size', 'innodb_log_files_in_group', 'innodb_page_size',
  'innodb_undo_tablespaces', 'innodb_compression_level', 'innodb_log_block_size', 'innodb_fast_checksum', 'innodb_log_checksums',
]);

/**
 * The server options taken from a backup's backup-my.cnf. That file comes from the backup, so whoever can write the
 * repository writes it: only the InnoDB layout keys above, with plain values (no path separator), reach mariadbd —
 * never a log file, init file, plugin or `!include` it names (the drill's server may run as root).
 */
export function backupInnodbOptions(text: string): string[] {
  const options: string[] = [];
  let inServer = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const section = /^\[([^\]]*)\]$/.exec(line);
    if (section) {
      inServer = ['mysqld', 'server', 'mariadb', 'mariadbd'].includes(section[1]!.trim().toLowerCase());
      continue;
    }
    const match = inServer ? /^([A-Za-z0-9_-]+)\s*=\s*(.*)$/.exec(line) : null;
    if (!match) continue;
    const key = match[1]!.toLowerCase().replace(/-/g, '_');
    const value = match[2]!.trim();
    if (BACKUP_CNF_KEYS.has(key) && /^[A-Za-z0-9_.:;+-]{1,200}$/.test(value)) options.push(`--${key}=${value}`);
  }
  return options;
}

/**
 * Starts mariadbd on a prepared backup with the backup's own InnoDB layout (see `backupInnodbOptions`), no binary log and no
 * grant tables (the restored accounts' passwords are not ours to know). Without grant tables whoever connects has every
 * privilege on a production copy: no TCP listener, only a socket in the drill's 0700 run directory.
 */
export async function startThrowawayMariadbd(dataDir: string, workDir: string, database: string, readyTimeoutMs: number): Promise<ThrowawayInstance> {
  const mariadbd = await ensureExecutable({ command: 'mariadbd', debianPackage: 'mariadb-server' });
  const runDir = join(workDir, 'run');
  await mkdir(runDir, { recursive: true, mode: 0o700 });
  await chmod(runDir, 0o700);
  // The drill's own queries have every privilege too: file reads and writes (INTO OUTFILE, LOAD_FILE, as the
  // server's user, root when we are) stay inside the drill's own directory.
  const filesDir = join(runDir, 'files');
  await mkdir(filesDir, { mode: 0o700 });
  const logFile = join(runDir, 'mariadbd.log');
  const socket = join(runDir, 'mariadb.sock');
  const defaults = join(dataDir, 'backup-my.cnf');
  const server = mariadbDrillServer(`mysql://root@localhost/${database}?socket=${encodeURIComponent(socket)}`);
  const service = await ChildService.start({
    name: 'mariadbd (drill)',
    command: mariadbd,
    args: [
      '--no-defaults', ...(existsSync(defaults) ? backupInnodbOptions(await readFile(defaults, 'utf8')) : []),
      `--datadir=${dataDir}`, '--skip-networking', `--socket=${socket}`,
      `--pid-file=${join(runDir, 'mariadb.pid')}`, '--skip-grant-tables', '--skip-log-bin', '--skip-name-resolve',
      '--innodb-buffer-pool-size=64M', `--secure-file-priv=${filesDir}`, '--local-infile=0', ...(process.getuid?.() === 0 ? ['--user=root'] : []),
    ],
    logFile,
    ready: async () => (await server.query(database, 'SELECT 1'))[0]?.[0] === '1',
    readyTimeoutMs,
  });
  return { server, stop: () => service.stop() };
}
