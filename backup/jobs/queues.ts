import { randomUUID } from 'node:crypto';
import { Queue, type ConnectionOptions, type Job, type JobsOptions, type JobType } from 'bullmq';
import type { Redis, RedisOptions } from 'ioredis';
import { connectRedis, redisOptions, sleep, type Inventory, type RedisTarget } from '../../core/index.js';
import type { BackupSite } from '../checks/index.js';
import { JobErrors } from './errors.js';

export const VERIFY_QUEUE = 'shouwang-backup-verify';
export const DRILL_QUEUE = 'shouwang-restore-drill';

export interface BackupJobData {
  system: string;
  /** Verification only; both sites when absent. */
  sites?: BackupSite[];
  /** Drills only: the copy restored from; same-city when absent (scheduled drills). */
  site?: BackupSite;
}

export interface BackupQueueOptions {
  /** Where Redis is (`redis.url` or `redis.sentinels`). */
  redis: RedisTarget;
  /** Redis key prefix (`backup.queuePrefix`). */
  prefix?: string;
  /** Tries per job, the first included (`backup.attempts`). */
  attempts?: number;
  /** First retry delay; each later one doubles (`backup.backoffMs`). */
  backoffMs?: number;
  /** Zone of the cron patterns (`backup.timezone`). */
  timezone?: string;
  /** Drills queued or running city-wide beyond which a new request is refused (`backup.drill.maxQueued`). */
  maxQueuedDrills?: number;
  /** A one-off command's look at the queues: a command fails when Redis does not answer, instead of waiting for it. */
  failFast?: boolean;
}

/** States of a drill job that has not finished: it holds its system's place and counts against the cap. */
const NOW: JobType[] = ['waiting', 'active', 'prioritized', 'waiting-children'];

export interface ScheduleSummary {
  /** Scheduler ids now in place, e.g. `verify:gov-portal`. */
  scheduled: string[];
  /** Schedulers of systems that left the inventory or lost their policy. */
  removed: string[];
  invalid: { system: string; schedule: 'checkSchedule' | 'drillSchedule'; pattern: string; reason: string }[];
}

/** A service's settings: commands wait through a Redis restart or a Sentinel failover, reconnects back off up to 2 s. */
const WAIT_THROUGH_RESTARTS = { maxRetriesPerRequest: null, retryStrategy: (times: number) => Math.min(times * 100, 2000) };
/** A one-off command's settings: it fails when Redis does not answer, instead of waiting for it. */
const FAIL_FAST = { maxRetriesPerRequest: 1, retryStrategy: () => null, connectTimeout: 5000 };

/**
 * ioredis settings for BullMQ: commands wait through a Redis restart or a Sentinel failover instead of failing
 * (`maxRetriesPerRequest: null`, which BullMQ workers require), and reconnect attempts back off up to 2 s.
 */
export function redisConnection(target: RedisTarget): ConnectionOptions {
  return { ...redisOptions(target), ...WAIT_THROUGH_RESTARTS };
}

/** The copy a drill restores from: same-city when the job names none (scheduled drills). */
export const drillSite = (job: Job<BackupJobData>): BackupSite => job.data.site ?? 'same-city';

/** How long the drill enqueue lock lives: a process that dies holding it blocks the others no longer than this. */
const ENQUEUE_LOCK_MS = 10_000;
/** Deletes the lock only while it is still the caller's (it may have expired and been taken by another). */
const RELEASE_LOCK = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

const drillOf = (system: string, site: BackupSite) => (job: Job<BackupJobData>) =>
  job.data.system === system && drillSite(job) === site;

/** The two backup queues: add jobs, keep the policies' schedules in Redis. */
export class BackupQueues {
  readonly verify: Queue<BackupJobData>;
  readonly drill: Queue<BackupJobData>;
  readonly jobOptions: JobsOptions;
  readonly #timezone: string;
  readonly #maxQueuedDrills: number;
  readonly #enqueueLock: string;
  readonly #redis: RedisTarget;
  readonly #lockOptions: RedisOptions;
  #lockClient: Redis | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: BackupQueueOptions) {
    // As the queues': a one-off command fails fast, a service waits through a Redis restart.
    const settings = options.failFast ? FAIL_FAST : WAIT_THROUGH_RESTARTS;
    this.#lockOptions = settings;
    const connection: ConnectionOptions = { ...redisOptions(options.redis), ...settings };
    const prefix = options.prefix ?? 'shouwang';
    this.verify = new Queue<BackupJobData>(VERIFY_QUEUE, { connection, prefix });
    this.drill = new Queue<BackupJobData>(DRILL_QUEUE, { connection, prefix });
    for (const queue of [this.verify, this.drill]) queue.on('error', () => undefined); // reconnects on its own
    this.#timezone = options.timezone ?? 'Asia/Shanghai';
    this.#maxQueuedDrills = options.maxQueuedDrills ?? 20;
    this.#enqueueLock = `${prefix}:${DRILL_QUEUE}:enqueue-lock`;
    this.#redis = options.redis;
    this.jobOptions = {
      attempts: options.attempts ?? 3,
      backoff: { type: 'exponential', delay: options.backoffMs ?? 30_000 },
      // Results live in the store; Redis keeps only recent job records.
      removeOnComplete: { age: 7 * 86_400, count: 1000 },
      removeOnFail: { age: 30 * 86_400 },
    };
  }

  /** A run now, outside the schedule (console "run now", tests). `jobId` makes it idempotent. */
  enqueueVerify(system: string, options: { sites?: BackupSite[]; jobId?: string } = {}) {
    const data: BackupJobData = { system, ...(options.sites ? { sites: options.sites } : {}) };
    return this.verify.add('verify', data, { ...this.jobOptions, ...(options.jobId ? { jobId: options.jobId } : {}) });
  }

  /**
   * A drill now. At most one drill per system and copy waits or runs (a repeated click or script would otherwise
   * stack restores of the same data), and at most `maxQueuedDrills` city-wide; both refusals are 409s.
   * The scan sees scheduled drills once due; the deduplication key makes two requests at the same moment add one job.
   */
  enqueueDrill(system: string, options: { jobId?: string; site?: BackupSite } = {}) {
    if (this.#closing) return Promise.reject(new Error('backup queues are closed'));
    // The cap is a count read before the add: requests at the same moment (two console processes, a script) each read
    // room for one more and all added, past it. One enqueue at a time, city-wide, through a lock in Redis.
    return this.#oneAtATime(() => this.#enqueueDrill(system, options));
  }

  async #enqueueDrill(system: string, options: { jobId?: string; site?: BackupSite }) {
    const site = options.site ?? 'same-city';
    const pending = await this.#pendingDrills();
    const same = pending.find(drillOf(system, site));
    if (same) throw JobErrors.drillPending(system, site, same.id ?? '?');
    if (pending.length >= this.#maxQueuedDrills) throw JobErrors.drillQueueFull(pending.length, this.#maxQueuedDrills);
    const data: BackupJobData = { system, ...(options.site ? { site: options.site } : {}) };
    const jobId = options.jobId ?? `drill-${randomUUID()}`;
    // Simple-mode deduplication: the key is held until the job completes or fails for good.
    const job = await this.drill.add('drill', data, { ...this.jobOptions, jobId, deduplication: { id: JSON.stringify([system, site]) } });
    // A deduplicated add answers with the job that holds the key.
    if (job.id !== jobId) throw JobErrors.drillPending(system, site, job.id ?? '?');
    return job;
  }

  async #oneAtATime<T>(work: () => Promise<T>): Promise<T> {
    // Its own connection, made at the first drill asked: most processes that hold queues never ask for one.
    const redis = (this.#lockClient ??= connectRedis(this.#redis, this.#lockOptions));
    const token = randomUUID();
    for (let pause = 5; (await redis.set(this.#enqueueLock, token, 'PX', ENQUEUE_LOCK_MS, 'NX')) !== 'OK'; pause = Math.min(pause * 2, 100)) {
      await sleep(pause);
    }
    try {
      return await work();
    } finally {
      await redis.eval(RELEASE_LOCK, 1, this.#enqueueLock, token).catch(() => undefined); // it expires on its own
    }
  }

  /** The drill of this system and copy that waits or runs (a scheduled one once due), if any. */
  async pendingDrill(system: string, site: BackupSite = 'same-city') {
    return (await this.#pendingDrills()).find(drillOf(system, site));
  }

  /**
   * Drills waiting, retrying or running. Not a scheduler's next drill: it waits as a delayed job until its time (next
   * Sunday), and counting it refused every drill asked now of a scheduled system, and filled the city-wide cap.
   */
  async #pendingDrills() {
    const [now, delayed] = await Promise.all([this.drill.getJobs(NOW), this.drill.getJobs(['delayed'])]);
    // A scheduler's job that has started (and waits for a running drill of its system, see the worker) is one.
    return [...now, ...delayed.filter((job) => job.repeatJobKey === undefined || (job.attemptsStarted ?? 0) > 0)];
  }

  /**
   * One BullMQ job scheduler per system and job family. Schedulers live in Redis with
   * deterministic ids, so every process may call this at start: the upserts agree, and each tick
   * makes exactly one job (its id is the scheduler id and the tick time) whatever the workers.
   */
  async syncSchedules(inventory: Inventory): Promise<ScheduleSummary> {
    const summary: ScheduleSummary = { scheduled: [], removed: [], invalid: [] };
    const families = [
      { queue: this.verify, name: 'verify', field: 'checkSchedule' as const },
      { queue: this.drill, name: 'drill', field: 'drillSchedule' as const },
    ];
    for (const { queue, name, field } of families) {
      const wanted = new Set<string>();
      for (const system of inventory.systems) {
        if (!system.backup) continue;
        const id = `${name}:${system.id}`;
        const pattern = system.backup[field];
        try {
          await queue.upsertJobScheduler(id, { pattern, tz: this.#timezone }, { name, data: { system: system.id }, opts: this.jobOptions });
          wanted.add(id);
          summary.scheduled.push(id);
        } catch (error) {
          summary.invalid.push({ system: system.id, schedule: field, pattern, reason: (error as Error).message });
        }
      }
      for (const scheduler of await queue.getJobSchedulers(0, -1)) {
        // A pattern that no longer parses keeps its last good schedule rather than none.
        if (wanted.has(scheduler.key) || summary.invalid.some((i) => `${name}:${i.system}` === scheduler.key)) continue;
        await queue.removeJobScheduler(scheduler.key);
        summary.removed.push(scheduler.key);
      }
    }
    return summary;
  }

  /** Safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= Promise.all([this.verify.close(), this.drill.close(), this.#lockClient?.quit().catch(() => undefined)]).then(() => undefined);
    return this.#closing;
  }
}
