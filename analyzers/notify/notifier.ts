import { randomUUID } from 'node:crypto';
import type { Registry } from 'prom-client';
import { alertId, alertPriority, type Alert, type Logger, type RedisTarget, type RuleLevel } from '../../core/index.js';
import type { AlertStore } from '../../store/index.js';
import { sendDispatch } from './channels/send.js';
import { NotifyQueue, startNotifyWorker, type DeliveryAttempt, type NotifyWorker } from './delivery.js';
import { escalationDispatches, escalationSteps } from './escalation.js';
import { NotifyErrors } from './errors.js';
import { NotifyPlanner } from './planner.js';
import { CorrelationStateFile } from '../correlation/index.js';
import { resolveChannels } from './secrets.js';
import type { Dispatch, NotifyConfig, Recipients } from './types.js';
import { routeRecipients, type Subscriber } from './user-recipients.js';

/** The system alert raised when a message could not be delivered after its last try. */
export const NOTIFY_FAILED_RULE = { id: 'shouwang-notify-failed', title: '告警通知发送失败 / Alert notification failed', level: 'high' as RuleLevel };

/** Test messages per channel and minute ("send test message" in the console). */
export const TESTS_PER_WINDOW = 3;
const TEST_WINDOW_MS = 60_000;

export interface NotifierOptions {
  config: NotifyConfig;
  /** Where Redis is (`redis.url` or `redis.sentinels`). */
  redis: RedisTarget;
  prefix?: string;
  alerts: Pick<AlertStore, 'get' | 'update' | 'upsert'>;
  logger?: Logger;
  tagsOf?: (ruleId: string) => readonly string[];
  /** Department contacts and on-call at a time (inventory), for routes with `toDepartment`. */
  contactsOf?: (department: string | undefined, at: number) => Recipients;
  /** Console users with notification preferences (kept fresh by the caller), for routes with `toUsers`. */
  usersOf?: () => readonly Subscriber[];
  env?: NodeJS.ProcessEnv;
  now?: () => number;
  /** How often grouped, held and digest messages are looked for. */
  tickMs?: number;
  /** Run a worker in this process (default true). */
  worker?: boolean;
  /** `timeZone`: local time of quiet hours and the digest unless `quietHours.utcOffset` is set. */
  timeZone?: string;
  /** Where the planner's waiting work (groups, quiet hours, digest) is kept across restarts. */
  statePath?: string;
  /** Delivery metrics (attempts, give-ups, latency) for /metrics. */
  registry?: Registry;
}

export interface Notifier {
  /** Alerts just written (new ones and repeats); never throws: a notification problem must not stop alerting. */
  notify(alerts: readonly Alert[]): Promise<void>;
  /** Console "send test message": sends now, outside the queue; throws SW_ERR_NOTIFY_SEND / _UNKNOWN_CHANNEL. */
  sendTest(channelId: string, actor: string): Promise<{ latencyMs: number }>;
  /** Looks for due grouped, held and digest messages now (the timer does it every tickMs). */
  tick(): Promise<void>;
  readonly channelIds: readonly string[];
  close(): Promise<void>;
}

/** The system alert for a delivery that failed after its last try: one per channel and hour, repeats count. */
export function notifyFailedAlert(attempt: DeliveryAttempt, now: Date): Alert {
  const at = now.toISOString();
  const hour = at.slice(0, 13);
  return {
    id: alertId(NOTIFY_FAILED_RULE.id, attempt.channel, hour),
    rule: { ...NOTIFY_FAILED_RULE }, mlps: [], priority: alertPriority(NOTIFY_FAILED_RULE.level, undefined), status: 'new',
    timeline: [{ at, actor: 'shouwang', action: 'raised', comment: `${attempt.channel} (${attempt.route}): ${attempt.error ?? ''}`.slice(0, 500) }],
    firstSeen: at, lastSeen: at, count: 1, sampleEventIds: [], groupKey: `channel=${attempt.channel}`,
  };
}

/**
 * Alerts in, messages out: the planner decides, the queue delivers (and retries), each attempt lands
 * on the alert's timeline, escalation tiers wait as delayed jobs and check the alert's status first.
 */
export async function startNotifier(options: NotifierOptions): Promise<Notifier> {
  const { config, logger } = options;
  const channels = resolveChannels(config, options.env);
  const now = options.now ?? Date.now;
  const stateFile = options.statePath ? new CorrelationStateFile(options.statePath) : undefined;
  const state = await stateFile?.load().catch((error: Error) => logger?.warn({ err: error }, 'notification state unreadable; starting empty'));
  const planner = new NotifyPlanner({ config, now, ...(options.tagsOf ? { tagsOf: options.tagsOf } : {}),
    ...(options.contactsOf ? { contactsOf: options.contactsOf } : {}), ...(options.usersOf ? { usersOf: options.usersOf } : {}),
    ...(options.timeZone ? { timeZone: options.timeZone } : {}), ...(state ? { state } : {}) });
  const persist = async () => {
    if (stateFile && planner.dirty) await stateFile.save(() => planner.snapshot());
  };
  const queueOptions = { redis: options.redis, ...(options.prefix ? { prefix: options.prefix } : {}) };
  const queue = new NotifyQueue({ ...queueOptions, attempts: config.attempts, backoffMs: config.backoffMs });
  const sendOptions = { consoleUrl: config.consoleUrl, timeoutMs: config.timeoutMs, now };

  const record = async (attempt: DeliveryAttempt) => {
    const { key: _key, alertIds, at, ...notification } = attempt;
    for (const id of alertIds) {
      // An alert deleted meanwhile (retention) has no timeline to write to.
      await options.alerts.update(id, { actor: 'notify', at, notification }).catch((error: Error & { code?: string }) => {
        if (error.code !== 'SW_ERR_STORE_NOT_FOUND') throw error;
      });
    }
  };
  let worker: NotifyWorker | undefined;
  if (options.worker !== false) {
    worker = startNotifyWorker({
      ...queueOptions, channels, send: sendOptions, concurrency: config.concurrency,
      onAttempt: record,
      onGiveUp: async (attempt) => {
        logger?.error({ channel: attempt.channel, route: attempt.route, key: attempt.key, error: attempt.error }, 'notification failed after the last try');
        const alert = notifyFailedAlert(attempt, new Date(now()));
        const { suppressed } = await options.alerts.upsert([alert]);
        // A triage suppression of the failed channel's alert: stored and marked, not sent.
        if (!suppressed?.includes(alert.id)) await notify([alert]);
      },
      statusOf: async (id) => (await options.alerts.get(id))?.status,
      recipientsOf: (dispatch) => {
        const route = config.routes.find((r) => r.id === dispatch.routeId);
        return route && dispatch.alerts[0] ? routeRecipients(route, dispatch.alerts[0], now(), options.contactsOf, options.usersOf) : undefined;
      },
      ...(logger ? { logger } : {}), ...(options.registry ? { registry: options.registry } : {}),
    });
  }

  const enqueue = async (dispatches: readonly Dispatch[]) => {
    for (const dispatch of dispatches) await queue.enqueue(dispatch);
    // Escalation tiers: once per alert and route, from its first notice.
    const escalated = new Set<string>();
    for (const dispatch of dispatches) {
      const alert = dispatch.alerts[0]!;
      const once = `${dispatch.routeId}\u0000${alert.id}`;
      if (dispatch.kind !== 'alert' || escalated.has(once)) continue;
      escalated.add(once);
      const route = config.routes.find((r) => r.id === dispatch.routeId)!;
      for (const step of escalationSteps(route, alert, config.escalateAfterMinutes)) {
        // Whoever is on call when the tier is due.
        const recipients = routeRecipients(route, alert, now() + step.delayMs, options.contactsOf, options.usersOf);
        for (const tier of escalationDispatches(route, alert, step, recipients)) await queue.enqueue(tier, step.delayMs);
      }
    }
  };

  const notify = async (alerts: readonly Alert[]) => {
    try {
      await enqueue(alerts.flatMap((alert) => planner.accept(alert)));
      await persist();
    } catch (error) {
      logger?.error({ err: error, alerts: alerts.map((a) => a.id) }, 'notifications not queued');
    }
  };
  const tick = async () => {
    try {
      await enqueue(planner.tick());
      await persist();
    } catch (error) {
      logger?.warn({ err: error }, 'notification tick failed; next tick retries');
    }
  };
  const timer = setInterval(() => void tick(), options.tickMs ?? 1000);
  // Test messages skip the planner's rate limit; unbounded, clicks would use up a robot's quota (钉钉: 20 a minute,
  // then silenced for 10 minutes) and real alerts would be refused.
  const tests = new Map<string, number[]>();
  const testSlot = (channelId: string) => {
    const at = now();
    const recent = (tests.get(channelId) ?? []).filter((t) => t > at - TEST_WINDOW_MS);
    if (recent.length >= TESTS_PER_WINDOW) throw NotifyErrors.testRate(Math.ceil((recent[0]! + TEST_WINDOW_MS - at) / 1000), channelId);
    tests.set(channelId, [...recent, at]);
  };
  timer.unref();

  let closing: Promise<void> | undefined;
  return {
    notify, tick,
    channelIds: [...channels.keys()],
    async sendTest(channelId, actor) {
      const channel = channels.get(channelId);
      if (!channel) throw NotifyErrors.unknownChannel(channelId);
      testSlot(channelId);
      const started = performance.now();
      const dispatch: Dispatch = { key: randomUUID(), kind: 'test', routeId: `test:${actor}`, channelId, step: 0, alerts: [], count: 0 };
      await sendDispatch(channel, dispatch, sendOptions);
      return { latencyMs: Math.round(performance.now() - started) };
    },
    close() {
      closing ??= (async () => {
        clearInterval(timer);
        await tick();
        await worker?.close();
        await queue.close();
      })();
      return closing;
    },
  };
}

/** The alert store as the analysis writes to it, telling the notifier about every alert written that no suppression covers. */
export function notifyingAlerts<S extends Pick<AlertStore, 'upsert' | 'get'>>(alerts: S, notifier: () => Notifier | undefined): Pick<AlertStore, 'upsert' | 'get'> {
  return {
    get: (id, scope) => alerts.get(id, scope),
    async upsert(batch) {
      const result = await alerts.upsert(batch);
      // Alerts a triage suppression covers are stored and counted, never sent.
      const quiet = new Set(result.suppressed ?? []);
      const loud = quiet.size ? batch.filter((alert) => !quiet.has(alert.id)) : batch;
      if (loud.length) await notifier()?.notify(loud);
      return result;
    },
  };
}
