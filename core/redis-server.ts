import { join } from 'node:path';
import { connect } from 'node:net';
import { ChildService, freePort } from './child-service.js';
import { ensurePrivateDirSync } from './private-files.js';
import { ensureExecutable } from './provision.js';

export interface LocalRedis {
  url: string;
  port: number;
  /** The redis-server process (a failover test kills it with SIGKILL). */
  pid: number | undefined;
  stop(): Promise<void>;
}

/**
 * Starts a redis-server child on a free loopback port, keeping its data in `dir`.
 * Append-only persistence, so queued jobs survive a restart of Shouwang.
 */
export async function startLocalRedis(options: {
  dir: string;
  port?: number;
  /** A config file read first (a Sentinel's: it rewrites the file, so it must be writable). */
  configFile?: string;
  /** More arguments after ours, e.g. `--replicaof 127.0.0.1 6379` or `--sentinel`. */
  args?: string[];
}): Promise<LocalRedis> {
  const command = await ensureExecutable({ command: 'redis-server', debianPackage: 'redis-server' });
  // Queued jobs (with their payloads) live here: 0700 like the rest of the data dir.
  ensurePrivateDirSync(options.dir);
  const port = options.port ?? (await freePort());
  const service = await ChildService.start({
    name: 'redis-server',
    command,
    args: [
      ...(options.configFile ? [options.configFile] : []),
      '--port', String(port), '--bind', '127.0.0.1', '--dir', options.dir, '--appendonly', 'yes',
      '--save', '', '--protected-mode', 'yes', '--daemonize', 'no', '--logfile', '',
      ...(options.args ?? []),
    ],
    logFile: join(options.dir, 'redis.log'),
    ready: () => answersPing(port),
    readyTimeoutMs: 20_000,
  });
  return { url: `redis://127.0.0.1:${port}`, port, pid: service.pid, stop: () => service.stop() };
}

/** True once Redis answers PING with PONG (not LOADING while it replays its append-only file). */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    let reply = '';
    socket.setTimeout(1000, () => socket.destroy());
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) socket.end();
    });
    socket.once('close', () => resolve(reply.startsWith('+PONG')));
    socket.once('error', () => resolve(false));
  });
}
