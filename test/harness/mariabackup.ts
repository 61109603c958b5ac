import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ensureExecutable } from '../../core/index.js';
import type { MariadbHandle } from './mariadb.js';

const run = promisify(execFile);

/** mariabackup from the Debian package `mariadb-backup`, installed when missing (root with apt-get), like the other services. */
export async function ensureMariabackup(): Promise<string> {
  await ensureExecutable({ command: 'innochecksum', debianPackage: 'mariadb-server-core' });
  return ensureExecutable({ command: 'mariabackup', debianPackage: 'mariadb-backup' });
}

/** `mariabackup --backup` of a harness server into `targetDir`; incremental on `base` when given. */
export async function mariabackup(server: MariadbHandle, targetDir: string, base?: string): Promise<void> {
  const binary = await ensureMariabackup();
  await run(binary, [
    '--no-defaults', '--backup', `--target-dir=${targetDir}`, ...(base ? [`--incremental-basedir=${base}`] : []),
    '--host=127.0.0.1', `--port=${server.port}`, `--user=${server.user}`, `--password=${server.password}`, `--datadir=${server.dataDir}`,
  ], { maxBuffer: 64 << 20 });
}
