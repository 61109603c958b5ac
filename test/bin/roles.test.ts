import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { canConnect, freePort } from '../../core/index.js';
import { EmbeddedStore } from '../../store/index.js';
import { CLI } from '../harness/built.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-roles-'));
const env = (extra: Record<string, string>) => {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SHOUWANG_')));
  return { ...clean, SHOUWANG_DATA_DIR: dir, SHOUWANG_LOG_LEVEL: 'warn', SHOUWANG_DEMO_ENABLED: 'false', ...extra };
};
const children: ReturnType<typeof spawn>[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

/** `shouwang start --roles …` until it says Ctrl-C stops it; `stop` sends the signal and waits for the exit. */
async function startRoles(roles: string, extra: Record<string, string>) {
  const child = spawn('node', [CLI, 'start', '--roles', roles], { env: env(extra), stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await expect.poll(() => /Ctrl-C/.test(output) || child.exitCode !== null, { timeout: 60_000 }).toBe(true);
  expect(child.exitCode, output).toBeNull();
  const stop = async (signal: NodeJS.Signals = 'SIGINT') => {
    child.kill(signal);
    return { code: await exited, output };
  };
  return { output, stop };
}

describe('shouwang start --roles', () => {
  it('refuses an unknown role, naming the flag, with exit 2', () => {
    const result = spawnSync('node', [CLI, 'start', '--roles', 'collect,frobnicate'], { env: env({}), encoding: 'utf8', timeout: 60_000 });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/--roles: unknown role "frobnicate"[\s\S]*collect, analyze, console, backup/);
    expect(spawnSync('node', [CLI, 'start', '--roles', ','], { env: env({}), encoding: 'utf8' }).status).toBe(2);
  });

  it('console alone serves the console and binds no syslog port', async () => {
    const syslogPort = await freePort();
    const { output, stop } = await startRoles('console', {
      SHOUWANG_HTTP_PORT: '0', SHOUWANG_EMBEDDED_PATH: join(dir, 'console.db'), SHOUWANG_COLLECT_SYSLOG_TCP_PORT: String(syslogPort),
    });
    const url = /控制台 console: +(http:\/\/\S+)/.exec(output)?.[1];
    expect(url, output).toBeDefined();
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(output).not.toMatch(/Syslog:/);
    expect(await canConnect(syslogPort)).toBe(false);
    expect((await stop()).code).toBe(0);
  });

  it('collect alone stores a syslog line and serves no console and starts no Redis', async () => {
    const httpPort = await freePort();
    const dbPath = join(dir, 'collect.db');
    const { output, stop } = await startRoles('collect', {
      SHOUWANG_HTTP_PORT: String(httpPort), SHOUWANG_EMBEDDED_PATH: dbPath, SHOUWANG_COLLECT_SYSLOG_TCP_PORT: '0',
    });
    expect(output).not.toMatch(/控制台 console|Redis:/);
    expect(await canConnect(httpPort)).toBe(false);
    const port = Number(/tcp (\d+)/.exec(output)?.[1]);
    expect(port, output).toBeGreaterThan(0);
    const socket = connect({ port, host: '127.0.0.1' });
    await new Promise((resolve) => socket.once('connect', resolve));
    await new Promise<void>((resolve) => socket.end('<38>Nov 20 10:00:01 gaj-jwzh-app01 sshd[1]: Accepted publickey for ops from 10.0.0.1 port 22 ssh2\n', () => resolve()));
    await new Promise((resolve) => socket.once('close', resolve));
    expect((await stop()).code).toBe(0);
    const store = new EmbeddedStore({ path: dbPath });
    const page = await store.events.search({ filters: { 'shouwang.system': 'gaj-jwzh' } });
    await store.close();
    expect(page.total).toBe(1);
  });

  it('stops every role in reverse order on SIGTERM: exit 0, no failed shutdown step, no redis-server left', async () => {
    const { output, stop } = await startRoles('console,backup,analyze', {
      SHOUWANG_HTTP_PORT: '0', SHOUWANG_EMBEDDED_PATH: join(dir, 'sigterm.db'), SHOUWANG_LOG_LEVEL: 'info',
    });
    const redisPort = Number(/Redis: +redis:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1]);
    expect(redisPort, output).toBeGreaterThan(0);
    expect(await canConnect(redisPort)).toBe(true);
    const { code, output: all } = await stop('SIGTERM');
    expect(code).toBe(0);
    expect(all).toContain('已停止 / stopped');
    // Queues and workers close before Redis, Redis before the store: any other order logs a failed step.
    expect(all).not.toMatch(/shutdown step failed/);
    expect(await canConnect(redisPort)).toBe(false);
  });

  it('analyze alone with analyze.distributed owns the correlation partitions and raises what a publish-only collector saw', async () => {
    const keyPrefix = `test-${randomUUID().slice(0, 8)}:`;
    const dbPath = join(dir, 'distributed.db');
    const shared = {
      SHOUWANG_EMBEDDED_PATH: dbPath, SHOUWANG_REDIS_URL: inject('redisUrl'), SHOUWANG_ANALYZE_DISTRIBUTED_ENABLED: 'true',
      SHOUWANG_ANALYZE_DISTRIBUTED_KEY_PREFIX: keyPrefix, SHOUWANG_ANALYZE_DISTRIBUTED_PARTITIONS: '4', SHOUWANG_ANALYZE_DISTRIBUTED_LEASE: '3s',
      // Signals wait this long (processing time) for late ones before the windows see them in time order.
      SHOUWANG_ANALYZE_LATENESS: '1s',
    };
    const redis = new Redis(inject('redisUrl'));
    const analyzer = await startRoles('analyze', shared);
    const collector = await startRoles('collect', { ...shared, SHOUWANG_ANALYZE_DISTRIBUTED_CORRELATE: 'false', SHOUWANG_COLLECT_SYSLOG_TCP_PORT: '0' });
    try {
      // Every partition's lease is the analyzer's: the collector only publishes.
      await expect.poll(async () => (await redis.mget([0, 1, 2, 3].map((p) => `${keyPrefix}lease:${p}`))).every(Boolean), { timeout: 30_000 }).toBe(true);
      const port = Number(/tcp (\d+)/.exec(collector.output)?.[1]);
      const socket = connect({ port, host: '127.0.0.1' });
      await new Promise((resolve) => socket.once('connect', resolve));
      // Now (RFC 5424 with its offset): windows also close by processing time, so an old burst would be late.
      const at = (n: number) => new Date(Date.now() - 10_000 + n * 100).toISOString();
      const failures = Array.from({ length: 10 }, (_, n) =>
        `<38>1 ${at(n)} gaj-jwzh-app01 sshd ${100 + n} - - Failed password for root from 198.51.100.7 port ${4000 + n} ssh2\n`);
      // Then ordinary traffic: event time moves past the burst, so the windows see it (a live stream is never only signals).
      const quiet = Array.from({ length: 3 }, (_, n) => `<78>1 ${new Date().toISOString()} gaj-jwzh-app01 CRON ${200 + n} - - pam_unix(cron:session): session closed for user root\n`);
      const success = `<38>1 ${at(20)} gaj-jwzh-app01 sshd 150 - - Accepted password for root from 198.51.100.7 port 4100 ssh2\n`;
      await new Promise<void>((resolve) => socket.end([...failures, success, ...quiet].join(''), () => resolve()));
      const store = new EmbeddedStore({ path: dbPath });
      try {
        // The chain (10 failures from one address, then a login from it), raised by the analyze process from the collector's signals.
        await expect.poll(async () => (await store.alerts.search({})).items.map((alert) => alert.rule.title), { timeout: 60_000 })
          .toContain('SSH 暴力破解后登录成功 / SSH brute force, then a successful login');
      } finally {
        await store.close();
      }
    } finally {
      expect((await collector.stop()).code).toBe(0);
      expect((await analyzer.stop()).code).toBe(0);
      const keys = await redis.keys(`${keyPrefix}*`);
      if (keys.length) await redis.del(keys);
      redis.disconnect();
    }
  }, 120_000);
});
