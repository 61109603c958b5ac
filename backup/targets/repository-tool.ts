import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';
import { promisify } from 'node:util';
import { BackupErrors } from '../errors.js';
import type { ReadOptions } from './target.js';

const run = promisify(execFile);

/** What a repository tool's result keeps of its output: the last lines, where the verdict is. */
export const tail = (text: string, lines = 12) => text.trim().split('\n').slice(-lines).join('\n');

export interface SecretSpec {
  passwordFile?: string;
  passwordEnv?: string;
}

/** The environment variable a spec names, or an error naming the variable (never its value). */
export function passwordFromEnv(name: string, description: string): string {
  const value = process.env[name];
  if (value === undefined) throw BackupErrors.target(description, `environment variable ${name} is not set`);
  return value;
}

/** A repository secret from its file (one trailing newline dropped) or environment variable; undefined when none is set. */
export function readSecret(spec: SecretSpec, description: string): string | undefined {
  if (spec.passwordFile) {
    try {
      return readFileSync(spec.passwordFile, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      throw BackupErrors.target(description, `cannot read passwordFile: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  return spec.passwordEnv ? passwordFromEnv(spec.passwordEnv, description) : undefined;
}

export interface ToolOptions {
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  cwd?: string;
  /** The reason to report from a failed run's stderr (default: its last three lines). */
  reason?: (stderr: string) => string;
}

/** Runs a repository tool; a failure becomes SW_ERR_BACKUP_TARGET with the tool's own reason, an abort stays an abort. */
export async function runTool(description: string, command: string, args: readonly string[], options: ToolOptions): Promise<string> {
  try {
    const { stdout } = await run(command, args, {
      env: options.env, maxBuffer: 256 << 20, ...(options.signal ? { signal: options.signal } : {}), ...(options.cwd ? { cwd: options.cwd } : {}),
    });
    return stdout;
  } catch (error) {
    if (options.signal?.aborted) throw error;
    const stderr = (error as { stderr?: string }).stderr;
    throw BackupErrors.target(description, stderr ? (options.reason ?? ((text) => tail(text, 3)))(stderr) : (error as Error).message);
  }
}

export interface RepositoryCheck {
  ok: boolean;
  /** The command as run (no secret: passwords travel in the child's environment). */
  command: string;
  /** The tool's own words, last lines, for the result. */
  output: string;
}

/**
 * Runs a tool's own check; its verdict is the exit code, unless `failed` reads a failure in the output
 * (pgBackRest verify exits 0 and reports invalid files in its log).
 */
export async function runCheck(
  command: string, args: readonly string[], env: NodeJS.ProcessEnv, signal?: AbortSignal, failed?: (output: string) => boolean,
): Promise<RepositoryCheck> {
  const shown = `${command} ${args.join(' ')}`;
  try {
    const { stdout, stderr } = await run(command, args, { env, maxBuffer: 64 << 20, ...(signal ? { signal } : {}) });
    const output = `${stdout}\n${stderr}`;
    return { ok: !failed?.(output), command: shown, output: tail(output) };
  } catch (error) {
    if (signal?.aborted) throw error;
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    return { ok: false, command: shown, output: tail(`${stdout}\n${stderr}`.trim() || (error as Error).message) };
  }
}

/** A tool's stdout as a stream that ends only when the tool succeeded, else fails with `failure(stderr, code)`. */
export function streamTool(
  command: string, args: readonly string[], env: NodeJS.ProcessEnv, options: ReadOptions,
  failure: (stderr: string, code: number | null) => Error | undefined,
): Readable {
  const out = new PassThrough({ highWaterMark: options.highWaterMark ?? 4 << 20 });
  let child;
  try {
    child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'], ...(options.signal ? { signal: options.signal } : {}) });
  } catch (error) {
    queueMicrotask(() => out.destroy(error as Error));
    return out;
  }
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-2000); });
  child.stdout.pipe(out, { end: false });
  child.on('error', (error) => out.destroy(error));
  child.on('close', (code) => {
    const error = failure(stderr, code);
    if (error) out.destroy(error);
    else out.end();
  });
  return out;
}
