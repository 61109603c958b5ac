import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { JobSite } from '../../core/index.js';

/** Where a throwaway server of a drill writes its pid: PostgreSQL in the data directory, mariadbd in run/. */
const PID_FILES = ['data/postmaster.pid', 'run/mariadb.pid'];

/**
 * The drill's scratch directory, named by its run and site like the scratch database: a try of a job whose
 * worker was killed left its restored data (possibly the size of the database) and maybe a throwaway server
 * running on it, and the next try of that job finds both here and removes them before it starts.
 */
export async function drillWorkDir(base: string, runId: string, site: JobSite): Promise<string> {
  const dir = join(base, `shouwang-drill-${createHash('sha256').update(`${runId}\u0000${site}`).digest('hex').slice(0, 16)}`);
  if (existsSync(dir)) {
    for (const file of PID_FILES) await stopLeftover(dir, join(dir, file));
    await rm(dir, { recursive: true, force: true });
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** Kills the process a pid file names, only if its command line is about this directory (pids are reused). */
async function stopLeftover(dir: string, pidFile: string): Promise<void> {
  const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 1) return;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!cmdline.includes(dir)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
