import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { CoreErrors } from './errors.js';

/** Asks the kernel for a free loopback port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export function canConnect(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface ChildServiceOptions {
  name: string;
  command: string;
  args: string[];
  /** The child's stdout and stderr go here, and its tail into any start-up error. */
  logFile: string;
  spawn?: SpawnOptions;
  /** Resolves true once the service answers. */
  ready: () => Promise<boolean>;
  readyTimeoutMs?: number;
  /** How the service likes to be stopped; SIGTERM is a clean shutdown for redis, postgres and mariadb. */
  stopSignal?: NodeJS.Signals;
}

/** A server process we started and own: started, waited for, and stopped exactly once. */
export class ChildService {
  readonly name: string;
  readonly #child: ChildProcess;
  readonly #exited: Promise<number | null>;
  #stopping: Promise<void> | undefined;
  readonly #stopSignal: NodeJS.Signals;

  private constructor(name: string, child: ChildProcess, stopSignal: NodeJS.Signals) {
    this.name = name;
    this.#child = child;
    this.#stopSignal = stopSignal;
    this.#exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  static async start(options: ChildServiceOptions): Promise<ChildService> {
    const log = openSync(options.logFile, 'a');
    const child = spawn(options.command, options.args, { ...options.spawn, stdio: ['ignore', log, log] });
    closeSync(log);
    const service = new ChildService(options.name, child, options.stopSignal ?? 'SIGTERM');
    let exitCode: number | null | undefined;
    let spawnError: Error | undefined;
    child.once('error', (error) => (spawnError = error));
    void service.#exited.then((code) => (exitCode = code));
    const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
    while (Date.now() < deadline) {
      if (spawnError || exitCode !== undefined) break;
      if (await options.ready().catch(() => false)) return service;
      await sleep(100);
    }
    await service.stop();
    const tail = readTail(options.logFile);
    const reason = spawnError?.message ?? (exitCode !== undefined ? `exited with code ${exitCode}` : 'not ready in time');
    throw CoreErrors.serviceStart(options.name, `${reason}\n--- ${options.logFile} ---\n${tail}`);
  }

  /** Safe to call twice: the second call returns the same promise. */
  stop(timeoutMs = 15_000): Promise<void> {
    this.#stopping ??= (async () => {
      if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
      this.#child.kill(this.#stopSignal);
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), timeoutMs);
      await this.#exited;
      clearTimeout(timer);
    })();
    return this.#stopping;
  }
}

function readTail(path: string, lines = 20): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
