import { join } from 'node:path';
import type { Registry } from 'prom-client';
import type { Config, Inventory, Logger, RedisTarget } from '../core/index.js';
import type { Store } from '../store/index.js';
import {
  BackupQueues, mariadbDrillServer, postgresDrillServer, startBackupWorkers,
  type BackupEventSink, type BackupWorkers, type DrillServer, type ScheduleSummary, type SftpOptions,
} from '../backup/index.js';
import type { Analysis } from '../analyzers/index.js';

export function drillServers(config: Config): Partial<Record<'postgresql' | 'mariadb', DrillServer>> {
  const { postgresUrl, mariadbUrl } = config.backup.drill;
  return {
    ...(postgresUrl ? { postgresql: postgresDrillServer(postgresUrl) } : {}),
    ...(mariadbUrl ? { mariadb: mariadbDrillServer(mariadbUrl) } : {}),
  };
}

export function sftpOptions(config: Config): SftpOptions {
  const { privateKeyPath, hostKeyFingerprints } = config.backup.sftp;
  return {
    ...(privateKeyPath ? { privateKeyPath } : {}),
    knownHostsPath: join(config.dataDir, 'sftp-known-hosts.json'),
    ...(hostKeyFingerprints ? { hostKeyFingerprints: hostKeyFingerprints.split(',').map((f) => f.trim()) } : {}),
  };
}

/** Runs backup events through an analysis and waits for the alerts to be written. */
export function analysisSink(analysis: Analysis | (() => Analysis | undefined)): BackupEventSink {
  return async (events) => {
    const current = typeof analysis === 'function' ? analysis() : analysis;
    // Failing the job (it is retried with backoff) beats raising no alert while the rules are loading.
    if (!current) throw new Error('规则尚未加载 / rules not loaded yet: backup events wait for the retry');
    current.analyze(events);
    await current.flush();
  };
}

/** The backup queues, to enqueue into (the console) or to schedule on (the backup role). */
export function backupQueues(config: Config, redis: RedisTarget): BackupQueues {
  return new BackupQueues({
    redis, prefix: config.backup.queuePrefix, attempts: config.backup.attempts, backoffMs: config.backup.backoffMs,
    timezone: config.backup.timezone ?? config.timeZone, maxQueuedDrills: config.backup.drill.maxQueued,
  });
}

/** The backup queues with the policies' schedules, and workers for both: the backup role of the wiring. */
export async function startBackupJobs(
  config: Config, redis: RedisTarget, store: Store, inventory: () => Inventory, logger: Logger, registry?: Registry, analyze?: BackupEventSink,
): Promise<{ queues: BackupQueues; workers: BackupWorkers; schedules: ScheduleSummary }> {
  const queues = backupQueues(config, redis);
  const schedules = await queues.syncSchedules(inventory());
  for (const bad of schedules.invalid) logger.error({ schedule: bad }, 'invalid backup schedule; the previous one stays');
  const workers = startBackupWorkers({
    redis, prefix: config.backup.queuePrefix, store, logger, ...(registry ? { registry } : {}), ...(analyze ? { analyze } : {}),
    findSystem: (id) => inventory().systems.find((s) => s.id === id), listSystems: () => inventory().systems,
    drillServers: drillServers(config), sftp: sftpOptions(config),
    concurrency: config.backup.concurrency, drillConcurrency: config.backup.drill.concurrency,
  });
  return { queues, workers, schedules };
}
