import { execFile } from 'node:child_process';
import { accessSync, constants, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { CoreErrors } from './errors.js';

const run = promisify(execFile);

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Versioned Debian layouts keep some server binaries off PATH, e.g. /usr/lib/postgresql/15/bin. */
export function versionedDirs(parent: string, suffix: string): string[] {
  try {
    return readdirSync(parent)
      .filter((name) => /^\d+(\.\d+)?$/.test(name))
      .sort((a, b) => Number(b) - Number(a))
      .map((version) => join(parent, version, suffix));
  } catch {
    return [];
  }
}

export function findExecutable(name: string, extraDirs: readonly string[] = []): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', ...extraDirs];
  return dirs.filter(Boolean).map((dir) => join(dir, name)).find(isExecutable);
}

// apt-get takes a global lock: installs in one process run one after another.
let aptQueue: Promise<unknown> = Promise.resolve();
let aptUpdated = false;

async function aptInstall(packages: readonly string[]): Promise<void> {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const lock = ['-o', 'DPkg::Lock::Timeout=300'];
  if (!aptUpdated) {
    await run('apt-get', [...lock, 'update', '-qq'], { env, maxBuffer: 64 << 20 });
    aptUpdated = true;
  }
  await run('apt-get', [...lock, 'install', '-y', '-qq', '--no-install-recommends', ...packages], { env, maxBuffer: 64 << 20 });
}

export interface Requirement {
  /** The executable to find, e.g. `redis-server`. */
  command: string;
  /** The Debian package that provides it. */
  debianPackage: string;
  extraDirs?: () => string[];
}

/**
 * Finds a server binary, installing its Debian package when missing and allowed (root with apt-get).
 * Otherwise it fails with a message saying exactly what to install.
 */
export async function ensureExecutable(requirement: Requirement): Promise<string> {
  const find = () => findExecutable(requirement.command, requirement.extraDirs?.() ?? []);
  const found = find();
  if (found) return found;
  const canInstall = process.getuid?.() === 0 && findExecutable('apt-get') !== undefined;
  if (!canInstall) {
    throw CoreErrors.provisionFailed(
      requirement.command,
      `not found; install it with: sudo apt-get install ${requirement.debianPackage}`,
    );
  }
  const install = aptQueue.then(() => (find() ? undefined : aptInstall([requirement.debianPackage])));
  aptQueue = install.catch(() => undefined);
  try {
    await install;
  } catch (error) {
    throw CoreErrors.provisionFailed(requirement.command, `apt-get install ${requirement.debianPackage} failed: ${(error as Error).message}`);
  }
  const installed = find();
  if (!installed) throw CoreErrors.provisionFailed(requirement.command, `still missing after apt-get install ${requirement.debianPackage}`);
  return installed;
}
