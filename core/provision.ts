import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
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
  await installPackage(requirement.command, requirement.debianPackage, () => find() !== undefined);
  const installed = find();
  if (!installed) throw CoreErrors.provisionFailed(requirement.command, `still missing after apt-get install ${requirement.debianPackage}`);
  return installed;
}

export interface PackageRequirement {
  /** The Debian package, e.g. `postgresql-15-pgaudit`. */
  debianPackage: string;
  /** A file the package installs, e.g. `/usr/lib/postgresql/15/lib/pgaudit.so`; present means installed. */
  file: string;
}

/** Like `ensureExecutable`, for packages that bring no command (server extensions, plugins). Returns the file. */
export async function ensureDebianPackage(requirement: PackageRequirement): Promise<string> {
  const present = () => existsSync(requirement.file);
  if (present()) return requirement.file;
  await installPackage(requirement.file, requirement.debianPackage, present);
  if (!present()) throw CoreErrors.provisionFailed(requirement.file, `still missing after apt-get install ${requirement.debianPackage}`);
  return requirement.file;
}

async function installPackage(what: string, debianPackage: string, present: () => boolean): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw CoreErrors.provisionFailed(what, `not found, and only root may install it; run: sudo apt-get install ${debianPackage}`);
  }
  if (findExecutable('apt-get') === undefined) {
    throw CoreErrors.provisionFailed(what, `not found, and there is no apt-get here; install the Debian package ${debianPackage}`);
  }
  // Checked again inside the queue: an install queued before this one may have brought it.
  const install = aptQueue.then(() => (present() ? undefined : aptInstall([debianPackage])));
  aptQueue = install.catch(() => undefined);
  try {
    await install;
  } catch (error) {
    throw CoreErrors.provisionFailed(what, `apt-get install ${debianPackage} failed: ${(error as Error).message}`);
  }
}
