import { DelayedError, Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Registry } from 'prom-client';
import { counter, gauge, type BusinessSystem, type JobResult, type Logger, type RedisTarget, type ShouwangEvent } from '../../core/index.js';
import type { EventStore, JobResultStore } from '../../store/index.js';
import { storedFingerprints, verifyBackups, type VerifyOptions } from '../checks/index.js';
import type { SftpOptions } from '../targets/index.js';
import { DRILL_KIND, drillResultId, runRestoreDrill, type DrillOptions } from '../drill/index.js';
import { BACKUP_SITES, backupClause, checkResultId } from '../checks/index.js';
import { withoutSecrets } from './without-secrets.js';
import type { DrillEngine, DrillServer } from '../drill/index.js';
import { JobErrors } from './errors.js';
import { backupResultEvent } from './backup-events.js';
import { DRILL_QUEUE, VERIFY_QUEUE, drillSite, redisConnection, type BackupJobData } from './queues.js';

export interface JobProgress {
  done: number;
  total: number;
  step: string;
}

export type VerifyRunner = (system: BusinessSystem, options: VerifyOptions) => Promise<JobResult[]>;
export type DrillRunner = (system: BusinessSystem, options: Omit<DrillOptions, 'servers'>) => Promise<JobResult>;

/** Runs events through the rules and writes the alerts they raise (the analysis's analyze + flush). */
export type BackupEventSink = (events: readonly ShouwangEvent[]) => Promise<void>;

export interface BackupResultStore {
  /** With `latestPerSystem`, the ransomware check compares with the fingerprint the previous run stored. */
  jobResults: Pick<JobResultStore, 'put'> & Partial<Pick<JobResultStore, 'latestPerSystem'>>;
  events: Pick<EventStore, 'write' | 'get'>;
}

export interface BackupWorkerOptions {
  /** Where Redis is (`redis.url` or `redis.sentinels`). */
  redis: RedisTarget;
  prefix?: string;
  store: BackupResultStore;
  /**
   * The rules: every result becomes a `shouwang.backup` event, and the backup rules
   * (rules/shouwang/backup) raise the alerts. Without it, results and events are stored but no alert is raised.
   */
  analyze?: BackupEventSink;
  /** Looks a job's system up in the current inventory. */
  findSystem: (id: string) => BusinessSystem | undefined;
  /** Every system of the current inventory: a drill never restores onto any one's production database. */
  listSystems?: () => readonly BusinessSystem[];
  drillServers?: Partial<Record<DrillEngine, DrillServer>>;
  sftp?: SftpOptions;
  /** Verification jobs at once in this process (`backup.concurrency`). */
  concurrency?: number;
  /** Drills at once in this process (`backup.drill.concurrency`). */
  drillConcurrency?: number;
  /** How long a drill waits before looking again when one of the same system and copy is running (default 60 s). */
  drillWaitMs?: number;
  /** A worker that stops renewing its lock this long is presumed dead and its job runs again. */
  lockDuration?: number;
  stalledInterval?: number;
  /** The checks and the drill; replaceable so job behaviour can be tested on its own. */
  verify?: VerifyRunner;
  drill?: DrillRunner;
  logger?: Logger;
  /** Adds `shouwang_backup_jobs_total{queue,status}` and `shouwang_backup_drill_rto_seconds{system}`. */
  registry?: Registry;
}

export interface BackupJobOutcome {
  status: JobResult['status'];
  results: { id: string; status: JobResult['status'] }[];
  /** Ids of the `shouwang.backup` events written for the results. */
  events: string[];
}

export interface BackupWorkers {
  readonly verify: Worker<BackupJobData, BackupJobOutcome>;
  readonly drill: Worker<BackupJobData, BackupJobOutcome>;
  close(): Promise<void>;
}

const PROGRESS_EVERY_MS = 250;

/** Sends progress to Redis at most every 250 ms, and always when the step changes. */
function progressReporter(job: Job, logger?: Logger) {
  let last = 0;
  let lastStep = '';
  return (progress: JobProgress) => {
    const now = Date.now();
    if (progress.step === lastStep && now - last < PROGRESS_EVERY_MS) return;
    last = now;
    lastStep = progress.step;
    const { done, total, step } = progress;
    job.updateProgress({ done, total, step }).catch((error: Error) => logger?.debug({ err: error, job: job.id }, 'progress not sent'));
  };
}

/**
 * Stores the results and each as a `shouwang.backup` event, and runs the events not stored before
 * through the rules, which raise the backup alerts. The rules run before the event is written: a crash
 * in between makes a retry count the alert twice rather than lose it.
 */
export async function recordBackupResults(
  store: BackupResultStore, system: BusinessSystem, results: readonly JobResult[], analyze?: BackupEventSink,
): Promise<ShouwangEvent[]> {
  for (const result of results) await store.jobResults.put(result);
  const events = results.map((result) => backupResultEvent(system, result));
  const fresh: ShouwangEvent[] = [];
  for (const event of events) if (!(await store.events.get(event.id))) fresh.push(event);
  if (analyze && fresh.length) await analyze(fresh);
  await store.events.write(events);
  return events;
}

const worst = (results: readonly JobResult[]): JobResult['status'] =>
  results.some((r) => r.status === 'fail') ? 'fail' : results.some((r) => r.status === 'warn') ? 'warn' : 'pass';

/**
 * Workers for both queues. Each job runs with its job id as run id, so results (and alerts) have
 * deterministic ids: a job retried after a crash, a stall or a Redis outage overwrites its own
 * result instead of adding one. Failing checks are results, not job failures; a job fails (and is
 * retried with exponential backoff) only when it cannot finish, e.g. the store is down.
 */
export function startBackupWorkers(options: BackupWorkerOptions): BackupWorkers {
  const connection = redisConnection(options.redis);
  const common = {
    connection,
    prefix: options.prefix ?? 'shouwang',
    ...(options.lockDuration ? { lockDuration: options.lockDuration } : {}),
    ...(options.stalledInterval ? { stalledInterval: options.stalledInterval } : {}),
  };
  const verify = options.verify ?? verifyBackups;
  const drill: DrillRunner = options.drill ?? ((system, drillOptions) => runRestoreDrill(system, { ...drillOptions, servers: options.drillServers ?? {} }));

  const jobsTotal = options.registry
    && counter(options.registry, { name: 'backup_jobs_total', help: 'Backup jobs finished, by queue and worst result', labelNames: ['queue', 'status'] });
  const drillRto = options.registry
    && gauge(options.registry, { name: 'backup_drill_rto_seconds', help: 'Restore time measured by the last drill', labelNames: ['system'] });

  const finish = async (job: Job<BackupJobData>, system: BusinessSystem, results: JobResult[]): Promise<BackupJobOutcome> => {
    const events = await recordBackupResults(options.store, system, results, options.analyze);
    for (const result of results) {
      const achieved = result.kind === 'restore-drill' ? result.detail.rto?.achievedSeconds : undefined;
      if (achieved !== undefined) drillRto?.set({ system: system.id }, achieved);
    }
    jobsTotal?.inc({ queue: job.queueName, status: worst(results) });
    await job.updateProgress({ done: 1, total: 1, step: '完成 done' });
    return { status: worst(results), results: results.map(({ id, status }) => ({ id, status })), events: events.map((e) => e.id) };
  };

  const systemOf = (job: Job<BackupJobData>): BusinessSystem => {
    const system = options.findSystem(job.data.system);
    // Retrying cannot make an unknown system known: fail the job at once.
    if (!system) throw new UnrecoverableError(JobErrors.unknownSystem(job.data.system).message);
    if (!system.backup) throw new UnrecoverableError(`系统 ${system.id} 没有备份策略 / system ${system.id} has no backup policy`);
    return system;
  };

  const jobResults = options.store.jobResults;
  const fingerprintsOf = (system: BusinessSystem) =>
    jobResults.latestPerSystem ? storedFingerprints({ latestPerSystem: jobResults.latestPerSystem.bind(jobResults) }, system.id) : undefined;

  const verifyWorker = new Worker<BackupJobData, BackupJobOutcome>(VERIFY_QUEUE, async (job, _token, signal) => {
    const system = systemOf(job);
    const results = await verify(system, {
      runId: job.id!,
      onProgress: progressReporter(job, options.logger),
      ...(job.data.sites ? { sites: job.data.sites } : {}),
      ...(signal ? { signal } : {}),
      ...(options.sftp ? { sftp: options.sftp } : {}),
      ...(fingerprintsOf(system) ? { fingerprints: fingerprintsOf(system)! } : {}),
    });
    return finish(job, system, results);
  }, { ...common, concurrency: options.concurrency ?? 4 });

  // Read-only here: which drills run now, in any process.
  const drillQueue = new Queue<BackupJobData>(DRILL_QUEUE, { connection, prefix: common.prefix });
  drillQueue.on('error', () => undefined); // reconnects on its own
  /**
   * A drill of the same system and copy started before this one and runs. The console's deduplication key covers drills
   * asked now; a scheduler's drill comes due outside it, and two restores of the same data at once would only compete.
   * Ordered by when each try started (processedOn), not by when the job was made: a scheduler makes its next job up to
   * a week ahead, and a retry is an old job. The later one waits; two that start together do not both wait.
   */
  const earlierDrillRunning = async (job: Job<BackupJobData>) => (await drillQueue.getJobs(['active'])).some((other) => {
    if (other.id === job.id || other.data.system !== job.data.system || drillSite(other) !== drillSite(job)) return false;
    const [mine, theirs] = [job.processedOn ?? Date.now(), other.processedOn ?? Date.now()];
    return theirs < mine || (theirs === mine && other.id! < job.id!);
  });

  const drillWorker = new Worker<BackupJobData, BackupJobOutcome>(DRILL_QUEUE, async (job, token, signal) => {
    const system = systemOf(job);
    if (token && (await earlierDrillRunning(job))) {
      // Not a failed try: the job waits, with its attempts untouched, and looks again.
      await job.moveToDelayed(Date.now() + (options.drillWaitMs ?? 60_000), token);
      throw new DelayedError();
    }
    const result = await drill(system, {
      runId: job.id!,
      ...(job.data.site ? { site: job.data.site } : {}),
      ...(options.listSystems ? { systems: options.listSystems() } : {}),
      onProgress: progressReporter(job, options.logger),
      ...(signal ? { signal } : {}),
      ...(options.sftp ? { sftp: options.sftp } : {}),
    });
    return finish(job, system, [result]);
  }, { ...common, concurrency: options.drillConcurrency ?? 1 });

  for (const worker of [verifyWorker, drillWorker]) {
    // Connection errors are logged; ioredis reconnects and BullMQ resumes on its own.
    worker.on('error', (error) => options.logger?.warn({ err: error, queue: worker.name }, 'backup worker error'));
    worker.on('failed', (job, error) =>
      options.logger?.warn({ err: error, queue: worker.name, job: job?.id, attempt: job?.attemptsMade }, 'backup job failed'));
  }
  // A job that failed for good (its last try threw, or its worker was killed on every try, as a restore that eats the
  // memory does) ran no check or drill to report: without a result the console and the evidence would see nothing,
  // or go on showing the previous run. BullMQ emits `failed` on the worker that failed it (for a stalled job, the one
  // whose stalled check did); the results' ids are the job's, so a repeat replaces them.
  for (const worker of [verifyWorker, drillWorker]) {
    worker.on('failed', (job, error) => {
      if (!job) return;
      void recordUnfinishedJob(job, error).catch((failure: Error) =>
        options.logger?.warn({ err: failure, job: job.id }, 'could not record the failed backup job'));
    });
  }
  const recordUnfinishedJob = async (job: Job<BackupJobData>, error: Error) => {
    const system = options.findSystem(job.data.system);
    if (!system?.backup || (await job.getState()) !== 'failed') return;
    const startedAt = new Date(job.processedOn ?? job.timestamp).toISOString();
    const finishedAt = new Date(job.finishedOn ?? Date.now()).toISOString();
    const reason = withoutSecrets(error.message);
    const clause = backupClause(system.mlpsLevel);
    const common = { status: 'fail' as const, system: system.id, department: system.department, startedAt, finishedAt };
    let results: JobResult[];
    if (job.queueName === DRILL_QUEUE) {
      const site = drillSite(job);
      results = [{
        ...common, id: drillResultId(system.id, job.id!, site), kind: DRILL_KIND, site,
        summary: `恢复演练任务未能完成（${job.attemptsStarted} 次尝试）/ the restore drill job could not finish after ${job.attemptsStarted} tries: ${reason}`,
        detail: { site, clause, runId: job.id!, steps: [], error: reason },
      }];
    } else {
      // A verification that never finished proved no copy readable: each site it was to check fails presence.
      results = (job.data.sites ?? BACKUP_SITES).map((site) => ({
        ...common, id: checkResultId(job.id!, system.id, site, 'presence'), kind: 'backup-check' as const, site,
        summary: `备份核验任务未能完成（${job.attemptsStarted} 次尝试）/ the backup verification job could not finish after ${job.attemptsStarted} tries: ${reason}`,
        detail: { check: 'presence' as const, site, clause, mlpsLevel: system.mlpsLevel, runId: job.id!, error: reason, jobFailed: true },
      }));
    }
    await recordBackupResults(options.store, system, results, options.analyze);
    jobsTotal?.inc({ queue: job.queueName, status: 'fail' });
  };

  let closing: Promise<void> | undefined;
  return {
    verify: verifyWorker,
    drill: drillWorker,
    close() {
      closing ??= Promise.all([verifyWorker.close(), drillWorker.close()]).then(() => drillQueue.close());
      return closing;
    },
  };
}
