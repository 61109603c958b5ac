import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { Redis } from 'ioredis';
import cron from 'node-cron';
import type { Registry } from 'prom-client';
import { analysisSink, backupQueues, startBackupJobs } from './backup-jobs.js';
import { demoEnabled, startDemo, type Demo } from './demo.js';
import { evidenceJudging } from './evidence-command.js';
import { watchInventory } from './inventory-watch.js';
import { closerStack } from './closers.js';
import type { FastifyInstance } from 'fastify';
import {
  AssetIndex, connectRedis, createLogger, createMetricsRegistry, describeRedis, gauge, loadInventory, redisTarget, saveInventory, startLocalRedis, zoneOffset,
  type Config, type RedisTarget, type Inventory, type LocalRedis, type Logger, type ShouwangEvent,
} from '../core/index.js';
import { tightenDataDirSync } from '../core/index.js';
import { openStore, type Store } from '../store/index.js';
import { createIngestMetrics, startCollection } from '../collectors/index.js';
import {
  distributedAnalysisOptions, expectedSources, loadPlaceholders, mergePlaceholders, raiseSilentSourceAlerts, sourceStatuses, startAnalysis, type Analysis,
  type Placeholders,
} from '../analyzers/index.js';
import { departmentRecipients, notifyingAlerts, startNotifier, watchSubscribers, type Notifier } from '../analyzers/index.js';
import type { AlertStore } from '../store/index.js';
import type { BackupQueues, ScheduleSummary } from '../backup/index.js';
import {
  buildApp, checkListenOptions, ConsoleErrors, ensureFirstAdmin, fingerprintKeyFrom, isLoopbackHost, listen, RuleSwitches, ruleSwitchesFile, type SessionOptions,
} from '../console/index.js';
import { ensureSigningKey, EvidenceQueue, startEvidenceWorker } from '../evidence/index.js';

/**
 * What a process runs: `shouwang start --roles`, `collect` (collect) and `backup worker` (backup) are this wiring with
 * their roles; `ingest` is it with none (store, inventory and rules only).
 */
export const ROLES = ['collect', 'analyze', 'console', 'backup'] as const;
export type Role = (typeof ROLES)[number];

/** `collect,console` → the roles; an unknown name throws a usage error naming the flag (exit 2). */
export function parseRoles(text: string): Role[] {
  const names = text.split(',').map((name) => name.trim()).filter(Boolean);
  const unknown = names.filter((name) => !(ROLES as readonly string[]).includes(name));
  if (unknown.length || !names.length) {
    throw new RolesError(`--roles: unknown role ${JSON.stringify(unknown.join(',') || text)}; expected a comma-separated list of ${ROLES.join(', ')}`);
  }
  return [...new Set(names as Role[])];
}
/** A bad --roles value: the CLI prints it with the usage and exits 2. */
export class RolesError extends Error {}

/** Everything a process runs for its roles, with one `close()` that stops it in reverse order. */
export interface Runtime {
  roles: readonly Role[];
  /** The console's address (console role). */
  url?: string;
  /** Redis, when a role needs it (console, backup, analyze with notify channels): where it is, without a password. */
  redis?: string;
  store: Store;
  /** The rules: alerts go to the store (and to notifications with the analyze role). */
  analysis: Analysis;
  inventory: Inventory;
  syslogPorts: { udp?: number; tcp?: number; tls?: number };
  /** The living demo, when it runs. */
  demo?: Demo;
  /** File sources tailed (collect role). */
  fileSources: number;
  /** The backup policies' schedules (backup role). */
  schedules?: ScheduleSummary;
  /** Reads the inventory file again and applies it (as the file watcher does; `backup worker` on SIGHUP). */
  reloadInventory(): Promise<void>;
  close(): Promise<void>;
}

export async function startRuntime(
  config: Config, logger: Logger = createLogger({ level: config.log.level }), roles: readonly Role[] = ROLES,
): Promise<Runtime> {
  const has = (role: Role) => roles.includes(role);
  if (has('console')) checkListenOptions(config.http);
  const closers = closerStack(logger);
  const close = () => closers.close();
  try {
    // 0700 even when an older version made it 0755, and the files it left 0644 made 0600: password hashes, sessions and bundles live here.
    tightenDataDirSync(config.dataDir);
    const registry = createMetricsRegistry();
    const store = await openStore(config);
    closers.push(() => store.close());
    // The instance key signs evidence bundles and the audit trail's checkpoints (created on first start, mode 600): the console's.
    const instanceKey = has('console') ? ensureSigningKey(join(config.dataDir, 'evidence', 'signing-key.pem')) : undefined;
    // The high-water mark beside the key: cutting the newest entries and their checkpoints shows in verify.
    if (instanceKey) closers.push(await store.audit.anchorWith(instanceKey, { highWaterPath: join(config.dataDir, 'evidence', 'audit-head.json') }));

    let inventory = loadInventory(config.inventory.path);
    await store.assets.replaceInventory(inventory);
    const assets = new AssetIndex(inventory);
    const systemsGauge = gauge(registry, { name: 'inventory_systems', help: 'Business systems in the inventory' });
    systemsGauge.set(inventory.systems.length);
    // The console answers /healthz before Redis is up; the check says Redis is still starting.
    const live: { redis?: Redis; queues?: BackupQueues; analysis?: Analysis; evidence?: EvidenceQueue; notifier?: Notifier } = {};
    /**
     * One way in for a new inventory, from the console or from the edited file: store, collectors,
     * schedules. Applies run one after another; `inventory` moves on only when every step worked, so
     * a failed step is tried again by the next apply (the file watcher fires after a console save).
     */
    let applying = Promise.resolve();
    const applyInventory = (next: Inventory, alreadyStored = false) => {
      const run = applying.then(async () => {
        if (JSON.stringify(next) === JSON.stringify(inventory)) return;
        if (!alreadyStored) await store.assets.replaceInventory(next);
        assets.replace(next);
        if (live.queues && has('backup')) await live.queues.syncSchedules(next);
        inventory = next;
        systemsGauge.set(next.systems.length);
      });
      applying = run.catch(() => undefined);
      return run;
    };
    closers.push(watchInventory(config.inventory.path, applyInventory, logger));
    const reloadInventory = () => applyInventory(loadInventory(config.inventory.path));

    const ruleSwitches = await RuleSwitches.open(ruleSwitchesFile(config.dataDir));
    // The console is up before Redis and the rules: until then these answer 503.
    const queuesReady = () => {
      if (!live.queues) throw ConsoleErrors.unavailable('backup queues (starting)');
      return live.queues;
    };
    const evidenceReady = () => {
      if (!live.evidence) throw ConsoleErrors.unavailable('evidence export queue (starting)');
      return live.evidence;
    };
    let url: string | undefined;
    if (has('console')) {
      // Printed to stdout once, never logged.
      await ensureFirstAdmin(store);
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
        sessions: consoleSessionOptions(config),
        trustProxy: config.http.trustProxy ?? false,
        silentAfterSeconds: config.analyze.silentAfter,
        timeZone: config.timeZone,
        // Failed logins with an unknown username: fingerprints that still match after a restart.
        fingerprintKey: fingerprintKeyFrom(instanceKey!.privateKey),
        backupQueues: {
          enqueueVerify: (...args) => queuesReady().enqueueVerify(...args),
          enqueueDrill: (...args) => queuesReady().enqueueDrill(...args),
          get verify() { return queuesReady().verify; },
          get drill() { return queuesReady().drill; },
        },
        rules: { catalog: () => live.analysis?.catalog ?? [], switches: ruleSwitches },
        evidence: {
          queue: { enqueue: (data) => evidenceReady().enqueue(data), get: (id) => evidenceReady().get(id) },
          dataDir: config.dataDir,
          publicKey: instanceKey!.publicKey,
        },
        // Channels and routes come from the config file; the notifier starts after Redis.
        ...(config.notify.channels.length ? {
          notify: {
            config: config.notify,
            sendTest: (id: string, actor: string) => {
              if (!live.notifier) throw ConsoleErrors.unavailable('notifications (starting)');
              return live.notifier.sendTest(id, actor);
            },
          },
        } : {}),
        // Saved to the file first (the one source of truth, read again at the next start), then applied.
        saveInventory: (next, actor) => saveInventory(config.inventory.path, next, actor),
        // The console stored it already.
        onInventory: (next) => applyInventory(next, true),
      });
      url = await listen(app, config.http);
      closers.push(() => app.close());
    }

    // Notifications go from every process that raises alerts: the rules (collect), backup results (backup) and silent
    // sources (analyze); a console alone sends only its "send test message".
    const notifying = config.notify.channels.length > 0 && (has('collect') || has('backup') || has('analyze'));
    const consoleTests = config.notify.channels.length > 0 && has('console');
    let redisAt: RedisTarget | undefined;
    if (has('console') || has('backup') || notifying) {
      redisAt = redisTarget(config.redis);
      if (!redisAt) {
        const local: LocalRedis = await startLocalRedis({ dir: join(config.dataDir, 'redis') });
        closers.push(() => local.stop());
        redisAt = local.url;
      }
      const redis = connectRedis(redisAt, { maxRetriesPerRequest: 3, lazyConnect: true });
      await redis.connect();
      live.redis = redis;
      closers.push(() => redis.quit());
    }

    // Alert notifications: every alert the rules write (backup and silent-source alerts too) goes through the routes.
    let notifier: Notifier | undefined;
    if (notifying || consoleTests) {
      const subscribers = notifying && config.notify.routes.some((route) => route.toUsers)
        ? await watchSubscribers(() => store.users.list(), 60_000, (err) => logger.warn({ err }, 'notification subscribers unreadable; keeping the last list'))
        : undefined;
      if (subscribers) closers.push(() => subscribers.close());
      notifier = await startNotifier({
        config: config.notify, redis: redisAt!, prefix: config.backup.queuePrefix, alerts: store.alerts, logger, registry,
        // A console alone only sends test messages: no worker, no planner state of its own.
        ...(notifying ? { statePath: notifyStatePath(config, roles) } : { worker: false }),
        contactsOf: (department, at) => departmentRecipients(department ? assets.department(department) : undefined, at, config.notify.quietHours?.utcOffset ?? zoneOffset(config.timeZone, at)),
        timeZone: config.timeZone,
        tagsOf: (ruleId) => live.analysis?.catalog.find((rule) => rule.id === ruleId)?.tags ?? [],
        ...(subscribers ? { usersOf: subscribers.current } : {}),
      });
      closers.push(() => notifier!.close());
      live.notifier = notifier;
    }
    // The rules: collectors and backup jobs raise alerts through them, the console lists them. Correlation windows are
    // kept on disk only by the collect role (a live stream), so two processes never write the same state file.
    // With analyze.distributed the analyze role alone owns partitions of the collectors' live stream (`--roles analyze`).
    const liveStream = has('collect') || (has('analyze') && config.analyze.distributed.enabled);
    const analysis = await openAnalysis(config, store, registry, logger, ruleSwitches, liveStream, notifyingAlerts(store.alerts, () => (notifying ? notifier : undefined)));
    live.analysis = analysis;
    closers.push(() => analysis.close());

    let schedules: ScheduleSummary | undefined;
    if (has('backup')) {
      const jobs = await startBackupJobs(config, redisAt!, store, () => inventory, logger, registry, analysisSink(() => live.analysis));
      closers.push(() => jobs.queues.close(), () => jobs.workers.close());
      live.queues = jobs.queues;
      schedules = jobs.schedules;
    } else if (has('console')) {
      // The console enqueues checks and drills for the backup role's workers.
      const queues = backupQueues(config, redisAt!);
      closers.push(() => queues.close());
      live.queues = queues;
    }

    if (has('console')) {
      const evidenceQueue = new EvidenceQueue({ redis: redisAt!, prefix: config.backup.queuePrefix });
      closers.push(() => evidenceQueue.close());
      const evidenceWorker = startEvidenceWorker({
        redis: redisAt!, prefix: config.backup.queuePrefix, store, dataDir: config.dataDir, logger,
        key: instanceKey!, ...await evidenceJudging(config, ruleSwitches),
      });
      closers.push(() => evidenceWorker.close());
      live.evidence = evidenceQueue;
    }

    if (has('analyze')) {
      const retention = cron.schedule('30 3 * * *', () => void applyRetention(store, config.retention.days, logger), {
        timezone: config.timeZone,
      });
      closers.push(() => retention.stop());
      await applyRetention(store, config.retention.days, logger);
      const silentCheck = cron.schedule(config.analyze.silentCheck, () => void checkSilentSources(store, inventory, config, logger, notifier), {
        timezone: config.timeZone,
      });
      closers.push(() => silentCheck.stop());
    }

    let demo: Demo | undefined;
    let syslogPorts: Runtime['syslogPorts'] = {};
    let fileSources = 0;
    if (has('collect')) {
      const metrics = createIngestMetrics(registry);
      // The correlation state is on disk before a file source checkpoints past these events.
      const observe = (events: readonly ShouwangEvent[]) => (analysis.analyze(events), analysis.persist());
      const collection = await startCollection({ config, store: store.events, assets, registry, metrics, logger, observe });
      closers.push(() => collection.close());
      ({ syslogPorts, fileSources } = collection);
      // The demo plays logs into the collectors and queues backup checks: it needs the queues too.
      demo = demoEnabled(config) && live.queues
        ? await startDemo({ config, inventory: () => inventory, assets, queues: live.queues, analysis, metrics, sink: collection.sink, logger })
        : undefined;
      if (demo) closers.push(() => demo!.close());
    }
    return {
      roles, ...(url ? { url } : {}), ...(redisAt ? { redis: describeRedis(redisAt) } : {}), store, analysis, inventory, syslogPorts, fileSources,
      ...(schedules ? { schedules } : {}), ...(demo ? { demo } : {}), reloadInventory, close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Secure cookies unless the console listens on loopback only (the same strict check as /metrics), where plain http is the norm. */
export function consoleSessionOptions(config: Config): Partial<SessionOptions> {
  const { secureCookies, sessionIdleMinutes, sessionMaxHours, host } = config.http;
  return {
    secureCookies: secureCookies ?? !isLoopbackHost(host),
    ...(sessionIdleMinutes ? { idleMs: sessionIdleMinutes * 60_000 } : {}),
    ...(sessionMaxHours ? { absoluteMs: sessionMaxHours * 3_600_000 } : {}),
  };
}

/**
 * The notification planner's waiting work (groups, quiet hours, digest): one file per set of roles, so processes with
 * different roles on one data directory never write the same file; all roles keep the file they always had.
 */
export function notifyStatePath(config: Config, roles: readonly Role[]): string {
  const all = ROLES.every((role) => roles.includes(role));
  return join(config.dataDir, 'checkpoints', all ? 'notify-planner.json' : `notify-planner-${[...roles].sort().join('-')}.json`);
}

/** Open correlation windows of a live stream, beside the file sources' checkpoints. */
export const correlationStatePath = (config: Config) => join(config.dataDir, 'checkpoints', 'correlation.json');
/** How often processing time moves correlations on: a finished burst alerts within about this long. */
const CORRELATION_TICK_MS = 1000;


/**
 * The rules of `analyze.rulesDir`, compiled; problems are logged with file and line; rules switched off in the console stay off.
 * `live`: a stream that goes on across restarts (start, collect): correlation windows close by processing time too and are
 * kept in `<dataDir>/checkpoints/correlation.json`.
 */
export async function openAnalysis(
  config: Config, store: Store, registry: Registry, logger: Logger, switches?: RuleSwitches, live = false,
  alerts: Pick<AlertStore, 'upsert' | 'get'> = store.alerts,
): Promise<Analysis> {
  const rules = switches ?? await RuleSwitches.open(ruleSwitchesFile(config.dataDir));
  const analysis = await startAnalysis({
    rulesDir: config.analyze.rulesDir, alerts, latenessMs: config.analyze.lateness * 1000, registry, logger,
    isEnabled: rules.isEnabled, placeholders: rulePlaceholders(config), writer: alertWriter(config),
    ...(live ? { statePath: correlationStatePath(config), tickMs: CORRELATION_TICK_MS, ...distributedAnalysisOptions(config) } : {}),
  });
  logger.info({ rules: analysis.rules, correlations: analysis.correlations, problems: analysis.problems.length }, 'rules loaded');
  return analysis;
}

/**
 * This process as an alert writer: the same machine and data dir across restarts (one collect process per dataDir), so
 * a restart replays without counting twice while other collectors' counts add up. Hashed: the store keeps no paths.
 */
export function alertWriter(config: Config): string {
  return `process:${createHash('sha256').update(`${hostname()}\0${resolve(config.dataDir)}`).digest('base64url').slice(0, 16)}`;
}

/** `expand` placeholders: the `analyze.placeholders` file joined with the inventory's, as they are at start. */
export function rulePlaceholders(config: Config): Placeholders {
  return mergePlaceholders(
    config.analyze.placeholders ? loadPlaceholders(config.analyze.placeholders) : undefined,
    loadInventory(config.inventory.path).placeholders,
  );
}

async function checkSilentSources(store: Store, inventory: Inventory, config: Config, logger: Logger, notifier?: Notifier): Promise<void> {
  try {
    const now = new Date();
    const statuses = await sourceStatuses(store.events, expectedSources(inventory, config.analyze.silentAfter), now);
    const raised = await raiseSilentSourceAlerts(store.alerts, statuses, now);
    if (raised.length) logger.warn({ silent: raised.map((a) => a.groupKey) }, 'silent log sources');
    if (raised.length) await notifier?.notify(raised);
  } catch (error) {
    logger.warn({ err: error }, 'silent-source check failed; next run will retry');
  }
}

async function applyRetention(store: Store, days: number, logger: Logger): Promise<void> {
  const before = new Date(Date.now() - days * 86_400_000).toISOString();
  const deleted = await store.events.deleteBefore(before);
  await store.sessions.deleteExpired(new Date().toISOString());
  if (deleted) logger.info({ deleted, before }, 'retention: deleted old events');
}
