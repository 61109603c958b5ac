import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { chmod, mkdir, open, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * The data dir holds password hashes, session CSRF tokens, events and evidence: only the service
 * user reads it. Modes are set explicitly (mkdir/open modes, then chmod), so a loose umask changes nothing.
 */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Creates `dir` (and missing parents) as 0700 and tightens an existing one. */
export function ensurePrivateDirSync(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  chmodSync(dir, PRIVATE_DIR_MODE);
}

export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  await chmod(dir, PRIVATE_DIR_MODE);
}

/**
 * Replaces `path` with `text` so a crash or power loss leaves the old file or the new one, never half
 * of one: a 0600 temporary file beside it (chmod too, over one an older version left 0644), fsync,
 * rename. The folder is created 0700 when missing. Callers serialise their own writes to one path.
 */
export async function writePrivateFileAtomically(path: string, text: string): Promise<void> {
  await ensurePrivateDir(dirname(path));
  const tmp = `${path}.tmp`;
  const handle = await open(tmp, 'w', PRIVATE_FILE_MODE);
  try {
    await handle.chmod(PRIVATE_FILE_MODE);
    await handle.writeFile(text);
    await handle.datasync();
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
}

/** What Shouwang keeps under the data dir: folders (tightened with everything inside) and single files. */
export const PRIVATE_DATA_DIRS = ['spool', 'dead-letter', 'checkpoints', 'evidence', 'redis'] as const;
export const PRIVATE_DATA_FILES = [
  'shouwang.db', 'shouwang.db-wal', 'shouwang.db-shm', 'rules-disabled.json', 'sftp-known-hosts.json',
] as const;

/**
 * Once at start: the data dir 0700 and what older versions left 0644 inside it tightened — the known
 * folders 0700 with their files 0600, the known files 0600. Symbolic links are left alone (chmod would
 * follow them out of the data dir); names that are not there are skipped. Returns the paths changed.
 */
export function tightenDataDirSync(dataDir: string): string[] {
  ensurePrivateDirSync(dataDir);
  const changed: string[] = [];
  const tighten = (path: string, mode: number): boolean => {
    let stat;
    try {
      stat = lstatSync(path);
    } catch {
      return false;
    }
    if (stat.isSymbolicLink() || !(stat.isFile() || stat.isDirectory())) return false;
    const wanted = stat.isDirectory() ? PRIVATE_DIR_MODE : mode;
    if ((stat.mode & 0o777) !== wanted) {
      chmodSync(path, wanted);
      changed.push(path);
    }
    return stat.isDirectory();
  };
  const walk = (dir: string, depth: number): void => {
    if (!tighten(dir, PRIVATE_DIR_MODE) || depth > 8) return;
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (tighten(path, PRIVATE_FILE_MODE)) walk(path, depth + 1);
    }
  };
  for (const name of PRIVATE_DATA_DIRS) walk(join(dataDir, name), 0);
  for (const name of PRIVATE_DATA_FILES) tighten(join(dataDir, name), PRIVATE_FILE_MODE);
  return changed;
}
