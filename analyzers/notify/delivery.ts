import { Queue, Worker, type Job } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import type { Registry } from 'prom-client';
import { counter, histogram, type AlertNotification, type AlertStatus, type Logger, type RedisTarget } from '../../core/index.js';
import { redisConnection } from '../../backup/index.js';
import { sendDispatch, type SendOptions } from './channels/send.js';
import { shouldEscalate } from './escalation.js';
import { NotifyErrors } from './errors.js';
import type { ResolvedChannel } from './secrets.js';
import type { Dispatch, Recipients } from './types.js';

export const NOTIFY_QUEUE = 'shouwang-notify';

export interface NotifyJobData { dispatch: Dispatch }

export interface NotifyQueueOptions {
  /** Where Redis is (`redis.url` or `redis.sentinels`). */
  redis: RedisTarget;
  prefix?: string;
  attempts?: number;
  backoffMs?: number;
}

/** Adds messages; the dispatch key is the job id, so the same alert × route × step × channel is queued once. */
export class NotifyQueue {
  readonly queue: Queue<NotifyJobData>;
  readonly #attempts: number;
  readonly #backoffMs: number;
  #closing: Promise<void> | undefined;

  constructor(options: NotifyQueueOptions) {
    this.queue = new Queue<NotifyJobData>(NOTIFY_QUEUE, { connection: redisConnection(options.redis), prefix: options.prefix ?? 'shouwang' });
    this.queue.on('error', () => undefined); // reconnects on its own
    this.#attempts = options.attempts ?? 5;
    this.#backoffMs = options.backoffMs ?? 10_000;
  }

  /** `delayMs`: an escalation tier waits in Redis, so a restart neither loses nor repeats it. */
  async enqueue(dispatch: Dispatch, delayMs = 0): Promise<void> {
    await this.queue.add('send', { dispatch }, {
      jobId: dispatch.key, attempts: this.#attempts, backoff: { type: 'exponential', delay: this.#backoffMs },
      ...(delayMs > 0 ? { delay: delayMs } : {}),
      // Kept a week: a repeat of the same key within it is refused by BullMQ as a duplicate id.
      removeOnComplete: { age: 7 * 86_400 }, removeOnFail: { age: 30 * 86_400 },
    });
  }

  close(): Promise<void> {
    this.#closing ??= this.queue.close();
    return this.#closing;
  }
}

/** One try to deliver a dispatch, for the alert's timeline and the metrics. */
export interface DeliveryAttempt extends AlertNotification {
  key: string;
  alertIds: string[];
  at: string;
}

export interface NotifyWorkerOptions {
  /** Where Redis is (`redis.url` or `redis.sentinels`). */
  redis: RedisTarget;
  prefix?: string;
  channels: ReadonlyMap<string, ResolvedChannel>;
  send?: SendOptions;
  concurrency?: number;
  /** Each attempt, whatever its outcome; a failure here fails the attempt (it is retried). */
  onAttempt?: (attempt: DeliveryAttempt) => Promise<void> | void;
  /** The last retry failed: raise the system alert. */
  onGiveUp?: (attempt: DeliveryAttempt) => Promise<void> | void;
  /** The alert's current status, for escalation tiers (acknowledged: nothing is sent). */
  statusOf?: (alertId: string) => Promise<AlertStatus | undefined>;
  /**
   * The recipients an escalation tier has when it is due (a tier waits minutes to hours: a user disabled or moved
   * meanwhile must not get it, whoever is on call then does); they replace those computed when it was queued.
   */
  recipientsOf?: (dispatch: Dispatch) => Recipients | undefined;
  lockDuration?: number;
  stalledInterval?: number;
  logger?: Logger;
  /** Attempts by channel and outcome, and delivery latency, for /metrics. */
  registry?: Registry;
  /** Replaces the channel senders (the benchmark's no-op baseline); tests use real receivers. */
  sender?: (channel: ResolvedChannel, dispatch: Dispatch, options: SendOptions) => Promise<void>;
}

export interface NotifyWorker {
  readonly worker: Worker<NotifyJobData>;
  close(): Promise<void>;
}

const SENT_TTL_SECONDS = 30 * 86_400;

/**
 * Sends queued dispatches with retries and exponential backoff. A delivered key is marked in Redis
 * (`…:sent:<key>`) before the attempt is recorded and the job completes: a worker killed after that
 * point, or a Redis restart, runs the job again but does not send again. A worker killed during the
 * request itself cannot know whether the receiver got it; the retry sends the same idempotency key
 * (webhook `Idempotency-Key`, email Message-ID) so the receiver can drop the copy.
 */
export function startNotifyWorker(options: NotifyWorkerOptions): NotifyWorker {
  const connection = redisConnection(options.redis);
  const prefix = options.prefix ?? 'shouwang';
  const marks = new Redis(connection as RedisOptions);
  marks.on('error', () => undefined);
  const sentKey = (key: string) => `${prefix}:${NOTIFY_QUEUE}:sent:${key}`;
  const send = options.sender ?? sendDispatch;
  const sendOptions: SendOptions = options.send ?? { timeoutMs: 10_000 };
  const metrics = options.registry && deliveryMetrics(options.registry);

  const process = async (job: Job<NotifyJobData>) => {
    const { dispatch } = job.data;
    const attemptNo = job.attemptsMade + 1;
    const started = performance.now();
    const record = (outcome: AlertNotification['outcome'], error?: string): DeliveryAttempt => {
      const latencyMs = Math.round(performance.now() - started);
      metrics?.attempts.inc({ channel: dispatch.channelId, outcome });
      if (outcome === 'delivered' && error === undefined) metrics?.latency.observe({ channel: dispatch.channelId }, latencyMs / 1000);
      return {
        key: dispatch.key, alertIds: dispatch.alerts.map((a) => a.id), at: new Date().toISOString(),
        channel: dispatch.channelId, route: dispatch.routeId, step: dispatch.step, kind: dispatch.kind,
        outcome, attempt: attemptNo, latencyMs, ...(error ? { error } : {}),
      };
    };
    if (await marks.exists(sentKey(dispatch.key))) {
      // Delivered by a worker that died before recording it: record, never send again.
      await options.onAttempt?.(record('delivered', 'already delivered'));
      return { outcome: 'delivered', again: true };
    }
    if (dispatch.kind === 'escalation' && options.statusOf) {
      const status = await options.statusOf(dispatch.alerts[0]!.id);
      if (status && !shouldEscalate(status)) {
        await options.onAttempt?.(record('skipped', `status ${status}`));
        return { outcome: 'skipped' };
      }
    }
    const channel = options.channels.get(dispatch.channelId);
    try {
      if (!channel) throw NotifyErrors.unknownChannel(dispatch.channelId);
      await send(channel, dispatch.kind === 'escalation' ? currentRecipients(dispatch, options.recipientsOf) : dispatch, sendOptions);
    } catch (error) {
      const attempt = record('failed', (error as Error).message.slice(0, 300));
      await Promise.resolve(options.onAttempt?.(attempt)).catch((e: Error) => options.logger?.warn({ err: e }, 'notification attempt not recorded'));
      if (attemptNo >= (job.opts.attempts ?? 1)) await options.onGiveUp?.(attempt);
      throw error;
    }
    await marks.set(sentKey(dispatch.key), '1', 'EX', SENT_TTL_SECONDS);
    await options.onAttempt?.(record('delivered'));
    return { outcome: 'delivered' };
  };

  const worker = new Worker<NotifyJobData>(NOTIFY_QUEUE, process, {
    connection, prefix, concurrency: options.concurrency ?? 8,
    ...(options.lockDuration ? { lockDuration: options.lockDuration } : {}),
    ...(options.stalledInterval ? { stalledInterval: options.stalledInterval } : {}),
  });
  worker.on('error', (error) => options.logger?.warn({ err: error }, 'notify worker error'));
  if (metrics) worker.on('failed', (job) => {
    if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) metrics.gaveUp.inc({ channel: job.data.dispatch.channelId });
  });
  let closing: Promise<void> | undefined;
  return {
    worker,
    close() {
      closing ??= worker.close().then(() => marks.quit()).then(() => undefined, () => undefined);
      return closing;
    },
  };
}

function currentRecipients(dispatch: Dispatch, recipientsOf: NotifyWorkerOptions['recipientsOf']): Dispatch {
  if (!recipientsOf) return dispatch;
  const { recipients: _queued, ...rest } = dispatch;
  const now = recipientsOf(dispatch);
  return now && (now.emails.length || now.phones.length) ? { ...rest, recipients: now } : rest;
}

function deliveryMetrics(registry: Registry) {
  const existing = <T>(name: string) => registry.getSingleMetric(`shouwang_${name}`) as T | undefined;
  return {
    attempts: existing<ReturnType<typeof counter<'channel' | 'outcome'>>>('notify_attempts_total')
      ?? counter(registry, { name: 'notify_attempts_total', help: 'Notification delivery attempts, by channel and outcome', labelNames: ['channel', 'outcome'] }),
    gaveUp: existing<ReturnType<typeof counter<'channel'>>>('notify_failed_total')
      ?? counter(registry, { name: 'notify_failed_total', help: 'Notifications given up after the last retry, by channel', labelNames: ['channel'] }),
    latency: existing<ReturnType<typeof histogram<'channel'>>>('notify_delivery_seconds')
      ?? histogram(registry, { name: 'notify_delivery_seconds', help: 'Time for one delivered send, by channel', labelNames: ['channel'], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] }),
  };
}
