import { join } from 'node:path';
import { Redis } from 'ioredis';
import cron from 'node-cron';
import type { FastifyInstance } from 'fastify';
import {
  AssetIndex, createLogger, createMetricsRegistry, gauge, loadInventory, startLocalRedis,
  type Config, type Inventory, type LocalRedis, type Logger,
} from '../core/index.js';
import { openStore, type Store } from '../store/index.js';
import { createIngestMetrics, demoLogLines, FileDeadLetterSink, ingestLines, startCollection } from '../collectors/index.js';
import { buildApp, listen } from '../console/index.js';

/** Everything `shouwang start` runs, with one `close()` that stops it in reverse order. */
export interface Runtime {
  url: string;
  redisUrl: string;
  store: Store;
  inventory: Inventory;
  syslogPorts: { udp?: number; tcp?: number; tls?: number };
  close(): Promise<void>;
}

export async function startRuntime(config: Config, logger: Logger = createLogger({ level: config.log.level })): Promise<Runtime> {
  const closers: (() => Promise<unknown> | unknown)[] = [];
  const close = async () => {
    for (const closer of closers.splice(0).reverse()) {
      await Promise.resolve(closer()).catch((error: Error) => logger.error({ err: error }, 'shutdown step failed'));
    }
  };
  try {
    const registry = createMetricsRegistry();
    const store = await openStore(config);
    closers.push(() => store.close());

    const inventory = loadInventory(config.inventory.path);
    await store.assets.replaceInventory(inventory);
    const assets = new AssetIndex(inventory);
    gauge(registry, { name: 'inventory_systems', help: 'Business systems in the inventory' }).set(inventory.systems.length);

    // The console answers /healthz before Redis is up; the check says Redis is still starting.
    const live: { redis?: Redis } = {};
    const app: FastifyInstance = await buildApp({
      store, registry, logger,
      checks: {
        redis: async () => {
          const { redis } = live;
          if (!redis) return { ok: false, detail: 'starting' };
          return { ok: (await redis.ping()) === 'PONG', detail: `${redis.options.host}:${redis.options.port}` };
        },
      },
      ...(config.http.metricsToken ? { metricsToken: config.http.metricsToken } : {}),
    });
    const url = await listen(app, config.http);
    closers.push(() => app.close());

    let local: LocalRedis | undefined;
    if (!config.redis.url) {
      local = await startLocalRedis({ dir: join(config.dataDir, 'redis') });
      closers.push(() => local!.stop());
    }
    const redisUrl = config.redis.url ?? local!.url;
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: 3, lazyConnect: true });
    await redis.connect();
    live.redis = redis;
    closers.push(() => redis.quit());

    const retention = cron.schedule('30 3 * * *', () => void applyRetention(store, config.retention.days, logger), {
      timezone: 'Asia/Shanghai',
    });
    closers.push(() => retention.stop());
    await applyRetention(store, config.retention.days, logger);

    const metrics = createIngestMetrics(registry);
    const collection = await startCollection({ config, store: store.events, assets, registry, metrics, logger });
    closers.push(() => collection.close());

    if (config.demo.replay) {
      const stats = await ingestLines(demoLogLines(inventory), {
        source: 'demo', store: store.events, assets,
        deadLetters: new FileDeadLetterSink(join(config.dataDir, 'dead-letter')),
        metrics,
      });
      logger.info({ stats }, 'demo logs replayed');
    }
    return { url, redisUrl, store, inventory, syslogPorts: collection.syslogPorts, close };
  } catch (error) {
    await close();
    throw error;
  }
}

async function applyRetention(store: Store, days: number, logger: Logger): Promise<void> {
  const before = new Date(Date.now() - days * 86_400_000).toISOString();
  const deleted = await store.events.deleteBefore(before);
  if (deleted) logger.info({ deleted, before }, 'retention: deleted old events');
}
