import { join } from 'node:path';
import { connect } from 'node:net';
import { ChildService, freePort } from './child-service.js';
import { ensurePrivateDirSync } from './private-files.js';
import { ensureExecutable } from './provision.js';

export interface LocalRedis {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * Starts a redis-server child on a free loopback port, keeping its data in `dir`.
 * Append-only persistence, so queued jobs survive a restart of Shouwang.
 */
export async function startLocalRedis(options: { dir: string; port?: number }): Promise<LocalRedis> {
  const command = await ensureExecutable({ command: 'redis-server', debianPackage: 'redis-server' });
  // Queued jobs (with their payloads) live here: 0700 like the rest of the data dir.
  ensurePrivateDirSync(options.dir);
  const port = options.port ?? (await freePort());
  const service = await ChildService.start({
    name: 'redis-server',
    command,
    args: [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', options.dir, '--appendonly', 'yes',
      '--save', '', '--protected-mode', 'yes', '--daemonize', 'no', '--logfile', '',
    ],
    logFile: join(options.dir, 'redis.log'),
    ready: () => answersPing(port),
    readyTimeoutMs: 20_000,
  });
  return { url: `redis://127.0.0.1:${port}`, port, stop: () => service.stop() };
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
