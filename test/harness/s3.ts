import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ChildService, canConnect, ensureDebianPackage, ensureExecutable, freePort } from '../../core/index.js';

const run = promisify(execFile);

/**
 * moto's S3 server from PyPI: a real S3 REST implementation that keeps Object Lock (bucket
 * configuration, per-object retention, refusing to delete locked versions) and SHA-256 checksums.
 * s3proxy has no Object Lock; MinIO from source takes longer to build than CI can spare.
 */
export const MOTO_VERSION = '5.2.6';

export interface S3Server {
  endpoint: string;
  region: string;
  /** moto accepts any keys; these are what the tests hand to targets through the environment. */
  accessKeyId: string;
  secretAccessKey: string;
  logFile: string;
  stop(): Promise<void>;
}

// One install per process even when several files start a server at once.
let installing: Promise<string> | undefined;

/** `moto_server` in a virtualenv under ~/.cache (kept between runs), installed from PyPI when missing. */
export function ensureMotoServer(): Promise<string> {
  installing ??= (async () => {
    const venv = join(process.env.SHOUWANG_TOOLS_DIR ?? join(homedir(), '.cache', 'shouwang'), `moto-${MOTO_VERSION}`);
    const server = join(venv, 'bin', 'moto_server');
    if (existsSync(server)) return server;
    const python = await ensureExecutable({ command: 'python3', debianPackage: 'python3-venv' });
    mkdirSync(join(venv, '..'), { recursive: true });
    try {
      await run(python, ['-m', 'venv', venv]);
    } catch {
      // Debian's python3 ships venv without ensurepip; the python3-venv package brings it.
      rmSync(venv, { recursive: true, force: true });
      await ensureDebianPackage({ debianPackage: 'python3-venv', file: '/usr/share/doc/python3-venv' });
      await run(python, ['-m', 'venv', venv]);
    }
    await run(join(venv, 'bin', 'pip'), ['install', '-q', '--disable-pip-version-check', `moto[server]==${MOTO_VERSION}`], { maxBuffer: 64 << 20 });
    if (!existsSync(server)) throw new Error(`moto_server missing after pip install in ${venv}`);
    return server;
  })();
  installing.catch(() => { installing = undefined; });
  return installing;
}

/** An S3 server on a free loopback port; objects live in its memory, gone when it stops. */
export async function startS3(): Promise<S3Server> {
  const command = await ensureMotoServer();
  const dir = mkdtempSync(join(tmpdir(), 'shouwang-s3-'));
  const port = await freePort();
  const logFile = join(dir, 'moto.log');
  const service = await ChildService.start({
    name: 'moto_server',
    command,
    args: ['-H', '127.0.0.1', '-p', String(port)],
    logFile,
    ready: () => canConnect(port),
    readyTimeoutMs: 30_000,
  });
  return {
    endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', accessKeyId: 'shouwang-test', secretAccessKey: 'shouwang-test-secret', logFile,
    stop: async () => {
      await service.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
