import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ChildService, canConnect, ensureExecutable, freePort } from '../../core/index.js';

const run = promisify(execFile);

export interface MariadbOptions {
  /** Extra server options, e.g. `['--plugin-load-add=server_audit']`. */
  args?: string[];
}

export interface MariadbHandle {
  url: string;
  port: number;
  dataDir: string;
  user: string;
  password: string;
  logFile: string;
  stop(): Promise<void>;
}

export const MARIADB_USER = 'shouwang';
export const MARIADB_PASSWORD = 'shouwang-test';

/** A throwaway MariaDB server on a free loopback port, data in a temp dir, with one test user. */
export async function startMariadb(options: MariadbOptions = {}): Promise<MariadbHandle> {
  const installDb = await ensureExecutable({ command: 'mariadb-install-db', debianPackage: 'mariadb-server' });
  const mariadbd = await ensureExecutable({ command: 'mariadbd', debianPackage: 'mariadb-server' });
  const dir = mkdtempSync(join(tmpdir(), 'shouwang-mariadb-'));
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'mariadb.log');
  const user = process.getuid?.() === 0 ? ['--user=root'] : [];
  await run(installDb, ['--no-defaults', `--datadir=${dataDir}`, '--auth-root-authentication-method=normal', '--skip-test-db', ...user]);
  // The init file runs at every start; it gives the tests a user that can log in over TCP.
  const initFile = join(dir, 'init.sql');
  writeFileSync(initFile, [
    `CREATE USER IF NOT EXISTS '${MARIADB_USER}'@'%' IDENTIFIED BY '${MARIADB_PASSWORD}';`,
    `GRANT ALL PRIVILEGES ON *.* TO '${MARIADB_USER}'@'%' WITH GRANT OPTION;`,
  ].join('\n'));
  const port = await freePort();
  const service = await ChildService.start({
    name: 'mariadbd',
    command: mariadbd,
    args: [
      '--no-defaults', `--datadir=${dataDir}`, `--port=${port}`, '--bind-address=127.0.0.1',
      `--socket=${join(dir, 'mariadb.sock')}`, `--pid-file=${join(dir, 'mariadb.pid')}`, `--init-file=${initFile}`,
      '--skip-name-resolve', '--innodb-flush-log-at-trx-commit=2', '--innodb-buffer-pool-size=64M',
      ...user, ...(options.args ?? []),
    ],
    logFile,
    ready: () => canConnect(port),
  });
  return {
    url: `mysql://${MARIADB_USER}:${MARIADB_PASSWORD}@127.0.0.1:${port}/mysql`,
    port, dataDir, user: MARIADB_USER, password: MARIADB_PASSWORD, logFile,
    stop: async () => {
      await service.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
