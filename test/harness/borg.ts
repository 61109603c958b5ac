import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ensureExecutable } from '../../core/index.js';

const run = promisify(execFile);

/** Borg from the Debian package `borgbackup`, installed when missing (root with apt-get), like the other services. */
export async function ensureBorg(): Promise<string> {
  return ensureExecutable({ command: 'borg', debianPackage: 'borgbackup' });
}

/** Runs borg with a passphrase; `--timestamp` is read in UTC. */
export async function borg(passphrase: string, args: string[], cwd?: string): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env, TZ: 'UTC', BORG_PASSPHRASE: passphrase };
  const { stdout } = await run('borg', args, { env, maxBuffer: 64 << 20, ...(cwd ? { cwd } : {}) });
  return stdout;
}
