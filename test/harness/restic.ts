import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ensureExecutable } from '../../core/index.js';

const run = promisify(execFile);

/** restic from the Debian package `restic`, installed when missing (root with apt-get), like the other services. */
export async function ensureRestic(): Promise<string> {
  return ensureExecutable({ command: 'restic', debianPackage: 'restic' });
}

/** Runs restic on a repository with a password file; `--time` is read in UTC. */
export async function restic(repository: string, passwordFile: string, args: string[], cwd?: string): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env, TZ: 'UTC', RESTIC_REPOSITORY: repository, RESTIC_PASSWORD_FILE: passwordFile };
  delete env.RESTIC_PASSWORD;
  const { stdout } = await run('restic', ['--no-cache', '-q', ...args], { env, maxBuffer: 64 << 20, ...(cwd ? { cwd } : {}) });
  return stdout;
}
