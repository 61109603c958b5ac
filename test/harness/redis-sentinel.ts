import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, startLocalRedis, type LocalRedis, type SentinelTarget } from '../../core/index.js';
import { eventually } from '../support/eventually.js';

/** A master, a replica and three Sentinels, all from the redis-server binary `startLocalRedis` provisions. */
export interface SentinelGroup {
  /** What Shouwang is given: `redis.sentinels`. */
  target: SentinelTarget;
  /** The port of the master the Sentinels name now. */
  masterPort(): Promise<number>;
  /** SIGKILLs the current master; resolves with its port once the process is gone. */
  killMaster(): Promise<number>;
  /** Resolves with the new master's port once the Sentinels name another master than `old` and it accepts writes. */
  failedOver(old: number): Promise<number>;
  stop(): Promise<void>;
}

const NAME = 'shouwang-test';

/** Sentinel settings short enough for a test: the master is down after 1 s without answers. */
function sentinelConfig(masterPort: number): string {
  return [
    `sentinel monitor ${NAME} 127.0.0.1 ${masterPort} 2`,
    `sentinel down-after-milliseconds ${NAME} 1000`,
    `sentinel failover-timeout ${NAME} 5000`,
    `sentinel parallel-syncs ${NAME} 1`,
    '',
  ].join('\n');
}

export async function startSentinelGroup(): Promise<SentinelGroup> {
  const dir = mkdtempSync(join(tmpdir(), 'shouwang-sentinel-'));
  const servers = new Map<number, LocalRedis>();
  const sentinels: LocalRedis[] = [];
  const stop = async () => {
    await Promise.all([...sentinels, ...servers.values()].map((server) => server.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const master = await startLocalRedis({ dir: join(dir, 'master') });
    servers.set(master.port, master);
    const replica = await startLocalRedis({ dir: join(dir, 'replica'), args: ['--replicaof', '127.0.0.1', String(master.port)] });
    servers.set(replica.port, replica);
    for (let i = 0; i < 3; i += 1) {
      const own = join(dir, `sentinel-${i}`);
      mkdirSync(own, { recursive: true });
      const configFile = join(own, 'sentinel.conf');
      writeFileSync(configFile, sentinelConfig(master.port));
      sentinels.push(await startLocalRedis({ dir: own, port: await freePort(), configFile, args: ['--sentinel'] }));
    }
    const ask = async <T>(port: number, command: (redis: Redis) => Promise<T>): Promise<T> => {
      const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      try {
        await redis.connect();
        return await command(redis);
      } finally {
        redis.disconnect();
      }
    };
    const named = (port: number) => ask(port, (redis) => redis.call('SENTINEL', 'get-master-addr-by-name', NAME) as Promise<[string, string]>)
      .then((address) => Number(address[1]));
    // Ready for a failover: each Sentinel sees the replica and both other Sentinels (they find each other through the master).
    await eventually(async () => {
      for (const sentinel of sentinels) {
        const replicas = await ask(sentinel.port, (redis) => redis.call('SENTINEL', 'replicas', NAME) as Promise<unknown[]>);
        const peers = await ask(sentinel.port, (redis) => redis.call('SENTINEL', 'sentinels', NAME) as Promise<unknown[]>);
        if (replicas.length < 1 || peers.length < 2) throw new Error(`sentinel ${sentinel.port}: ${replicas.length} replicas, ${peers.length} peers`);
      }
    }, { timeout: 30_000, interval: 200 });
    const masterPort = async () => {
      for (const sentinel of sentinels) {
        try {
          return await named(sentinel.port);
        } catch {
          // That Sentinel is busy or gone: ask the next.
        }
      }
      throw new Error('no Sentinel answers');
    };
    return {
      target: { sentinels: sentinels.map(({ port }) => ({ host: '127.0.0.1', port })), name: NAME },
      masterPort,
      killMaster: async () => {
        const port = await masterPort();
        const victim = servers.get(port)!;
        process.kill(victim.pid!, 'SIGKILL');
        await victim.stop();
        return port;
      },
      failedOver: (old) => eventually(async () => {
        const port = await masterPort();
        if (port === old) throw new Error(`the Sentinels still name ${old}`);
        const role = await ask(port, (redis) => redis.call('ROLE') as Promise<[string]>);
        if (role[0] !== 'master') throw new Error(`${port} is still ${role[0]}`);
        return port;
      }, { timeout: 30_000, interval: 200 }),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
