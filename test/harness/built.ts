import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The one way tests run the built program (`dist/`, as `npm start` and users run it). The integration
 * global setup calls ensureBuilt(), so a plain `vitest` never runs a stale build; every file that imports
 * this module is an integration test (test/support/projects.ts).
 */
const ROOT = resolve(import.meta.dirname, '../..');
const SOURCES = ['core', 'store', 'collectors', 'analyzers', 'backup', 'console', 'rules', 'bin', 'bench'];
export const DIST = join(ROOT, 'dist');
export const CLI = join(DIST, 'bin/shouwang.js');

/** The absolute path of a built module, e.g. distModule('collectors/index.js'). */
export const distModule = (path: string): string => join(DIST, path);

/** The newest .ts under the compiled folders, or a build setting, is newer than the built CLI. */
export function buildIsStale(): boolean {
  let built: number;
  try {
    built = statSync(CLI).mtimeMs;
  } catch {
    return true;
  }
  const newer = (path: string): boolean => statSync(path).mtimeMs > built;
  const walk = (dir: string): boolean => readdirSync(dir, { withFileTypes: true }).some((entry) =>
    entry.isDirectory() ? walk(join(dir, entry.name)) : entry.name.endsWith('.ts') && newer(join(dir, entry.name)));
  return ['tsconfig.json', 'tsconfig.build.json', 'package.json'].some((f) => newer(join(ROOT, f)))
    || SOURCES.some((folder) => walk(join(ROOT, folder)));
}

/** Builds dist/ (`npm run build`) when the sources are newer than it. */
export async function ensureBuilt(): Promise<void> {
  if (!buildIsStale()) return;
  const child = spawn(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const code = await new Promise<number | null>((done) => child.once('exit', done));
  if (code !== 0) throw new Error(`npm run build failed (${code}):\n${output}`);
}

/** The environment without the caller's SHOUWANG_* settings, plus `extra`. */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('SHOUWANG_')));
  return { ...clean, ...extra };
}

/** Runs `shouwang <args>` to its end. */
export function runCli(args: string[], env: Record<string, string> = {}, timeout = 60_000): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, env: cliEnv(env), encoding: 'utf8', timeout });
}

export interface CliProcess {
  child: ChildProcess;
  /** The exit signal, or the exit code. */
  exited: Promise<NodeJS.Signals | number | null>;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** What was written to stderr alone. */
  stderr(): string;
}

/** Starts a long-lived `shouwang <args>` (collect, start); the caller kills it. */
export function spawnCli(args: string[], env: Record<string, string> = {}): CliProcess {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => {
    output += chunk;
    stderr += chunk;
  });
  const exited = new Promise<NodeJS.Signals | number | null>((done) => child.once('close', (code, signal) => done(signal ?? code)));
  return { child, exited, output: () => output, stderr: () => stderr };
}
