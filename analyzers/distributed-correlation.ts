import { connectRedis, CoreErrors, redisTarget, type Config, type Logger, type RedisTarget } from '../core/index.js';
import { AlertBuilder, AlertSink, correlationOnlyRules, type SignalForward } from './alerts/index.js';
import {
  PartitionOwner, SignalPublisher, SignalRouter, correlationUnits, type CompiledCorrelation, type PartitionSink,
} from './correlation/index.js';
import type { Signal } from './types.js';

/** `analyze.distributed`, with the Redis every process shares. */
export interface DistributedCorrelationOptions {
  /** Where Redis is (`redis.url` or `redis.sentinels`). */
  redis: RedisTarget;
  keyPrefix: string;
  partitions: number;
  leaseMs: number;
  /** This process also owns partitions and runs their correlators (false: publish only). */
  correlate: boolean;
  /** Names this process in leases (default host:pid:random). */
  ownerId?: string;
}

/**
 * The one place `analyze.distributed` becomes startAnalysis options (for live streams: start, collect):
 * `{}` when off. Processes share correlation only through a Redis they all reach, so `redis.url` or `redis.sentinels`
 * is required.
 */
export function distributedAnalysisOptions(config: Config): { distributed?: DistributedCorrelationOptions } {
  const { enabled, partitions, keyPrefix, lease, correlate } = config.analyze.distributed;
  if (!enabled) return {};
  const redis = redisTarget(config.redis);
  if (!redis) {
    throw CoreErrors.configInvalid('analyze.distributed',
      '  - redis.url (SHOUWANG_REDIS_URL) or redis.sentinels: required when analyze.distributed.enabled is true (a Redis every process reaches)');
  }
  return { distributed: { redis, keyPrefix, partitions, leaseMs: lease * 1000, correlate } };
}

/** Publishing signals, and owning partitions when asked: what startAnalysis runs instead of an in-process correlator. */
export interface DistributedCorrelation {
  forward: SignalForward;
  owner: PartitionOwner | undefined;
  /** Sends the signals queued so far; never rejects (a failure is logged and retried at the next call). */
  persist(): Promise<void>;
  close(): Promise<void>;
}

export interface DistributedContext {
  correlations: readonly CompiledCorrelation[];
  builder: AlertBuilder;
  /** A new alert sink (one per owned partition), writing as `writer`. */
  openAlertSink: (writer: string) => AlertSink;
  latenessMs: number;
  tickMs?: number;
  now?: () => number;
  onLate?: (signal: Signal) => void;
  logger?: Logger;
}

export async function startDistributedCorrelation(
  options: DistributedCorrelationOptions, context: DistributedContext,
): Promise<DistributedCorrelation> {
  const { logger } = context;
  const units = correlationUnits(context.correlations);
  const redis = connectRedis(options.redis, { maxRetriesPerRequest: 3, lazyConnect: true });
  await redis.connect();
  const publisher = new SignalPublisher({
    redis, keyPrefix: options.keyPrefix, partitions: options.partitions, router: new SignalRouter(units, options.partitions),
    onError: (error) => logger?.warn({ err: error }, '关联信号未能发送，稍后重试 / correlation signals not sent to Redis; retrying'),
  });
  const silent = correlationOnlyRules(context.correlations);
  const isSilent = (rule: Signal['rule']) => silent.has(rule.id) || (rule.name !== undefined && silent.has(rule.name));
  const openSink = (partition: number): PartitionSink => {
    // The partition is the writer: whichever process owns it next resumes its count from the store.
    const sink = context.openAlertSink(`${options.keyPrefix}partition:${partition}`);
    return {
      add: (hits) => {
        for (const hit of hits) if (!isSilent(hit.rule)) sink.add(context.builder.fromHit(hit));
      },
      flush: () => sink.flush().then(() => undefined),
      close: () => sink.close(),
    };
  };
  const owner = options.correlate ? new PartitionOwner({
    redis: options.redis, keyPrefix: options.keyPrefix, partitions: options.partitions, units,
    latenessMs: context.latenessMs, leaseMs: options.leaseMs, openSink,
    ...(options.ownerId ? { ownerId: options.ownerId } : {}),
    ...(context.tickMs ? { tickMs: context.tickMs } : {}),
    ...(context.now ? { now: context.now } : {}),
    ...(context.onLate ? { onLate: context.onLate } : {}),
    onProblem: (message, detail) => logger?.warn(detail, message),
  }) : undefined;
  await owner?.start();
  let closing: Promise<void> | undefined;
  return {
    forward: publisher,
    owner,
    persist: () => publisher.flush().catch((error: unknown) => {
      logger?.warn({ err: error }, '关联信号未能发送，下次再试 / correlation signals not sent to Redis; retrying at the next batch');
      throw error; // the events they came from are not acknowledged: a file source reads them again
    }),
    close: () => (closing ??= (async () => {
      try {
        await publisher.close();
        await owner?.close();
      } finally {
        await redis.quit().catch(() => undefined);
      }
    })()),
  };
}
