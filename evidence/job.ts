import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { ShouwangError, type Logger, type RedisTarget } from '../core/index.js';
import { redisConnection } from '../backup/index.js';
import type { MlpsCatalog } from '../analyzers/index.js';
import type { Scope, Store } from '../store/index.js';
import { exportEvidenceBundle, type ExportOptions, type ExportSummary } from './bundle.js';
import type { EvidenceSelection } from './facts.js';
import type { SigningKey } from './signing.js';

export const EVIDENCE_QUEUE = 'shouwang-evidence-export';

export interface EvidenceJobData {
  selection: EvidenceSelection;
  /** The requester's department scope, fixed when the job is queued. */
  scope?: Scope;
  requestedBy: string;
  /**
   * The departments the bundle can hold, fixed when the job is queued (absent: every department), so a
   * later inventory edit cannot move a bundle into someone else's scope.
   */
  departments?: string[];
}

export interface EvidenceJobProgress {
  done: number;
  total: number;
  step: string;
}

export interface EvidenceQueueOptions {
  /** Where Redis is (`redis.url` or `redis.sentinels`). */
  redis: RedisTarget;
  prefix?: string;
}

/** 128 random bits, base64url: a job id (and so a bundle's URL) cannot be guessed or counted through. */
export const newEvidenceJobId = (): string => randomBytes(16).toString('base64url');
export const EVIDENCE_JOB_ID = /^[A-Za-z0-9_-]{22}$/;

/** The bundle of job `id` lives here; job ids are our random ids, never user text. */
export const bundlePath = (dataDir: string, jobId: string): string => join(dataDir, 'evidence', `evidence-${jobId.replace(/[^\w-]/g, '_')}.zip`);

/** Adds export jobs; one attempt (a failed export is re-requested, not silently retried twice). */
export class EvidenceQueue {
  readonly queue: Queue<EvidenceJobData, ExportSummary>;
  #closing: Promise<void> | undefined;

  constructor(options: EvidenceQueueOptions) {
    this.queue = new Queue<EvidenceJobData, ExportSummary>(EVIDENCE_QUEUE, { connection: redisConnection(options.redis), prefix: options.prefix ?? 'shouwang' });
    this.queue.on('error', () => undefined); // ioredis reconnects on its own
  }

  enqueue(data: EvidenceJobData): Promise<Job<EvidenceJobData, ExportSummary>> {
    return this.queue.add('export', data, { jobId: newEvidenceJobId(), attempts: 1, removeOnComplete: { age: 7 * 86_400 }, removeOnFail: { age: 7 * 86_400 } });
  }

  async get(id: string): Promise<Job<EvidenceJobData, ExportSummary> | undefined> {
    return (await this.queue.getJob(id)) ?? undefined;
  }

  /** Safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= this.queue.close();
    return this.#closing;
  }
}

export interface EvidenceWorkerOptions extends EvidenceQueueOptions {
  store: Store;
  dataDir: string;
  /** The signing key, read once when the worker starts. */
  key: SigningKey;
  catalog?: MlpsCatalog;
  fontFile?: string;
  silentAfterSeconds?: number;
  settings?: ExportOptions['settings'];
  intrusionRules?: ExportOptions['intrusionRules'];
  logger?: Logger;
}

const PROGRESS_EVERY_MS = 250;

/**
 * Runs export jobs: the bundle goes to `<dataDir>/evidence/evidence-<job>.zip` and a result record
 * (kind `evidence-export`) to the store. Progress goes to Redis at most every 250 ms.
 */
export function startEvidenceWorker(options: EvidenceWorkerOptions): Worker<EvidenceJobData, ExportSummary> {
  const worker = new Worker<EvidenceJobData, ExportSummary>(EVIDENCE_QUEUE, async (job) => {
    const startedAt = new Date().toISOString();
    let last = 0;
    const onProgress = (progress: EvidenceJobProgress) => {
      const now = Date.now();
      if (progress.done < progress.total && now - last < PROGRESS_EVERY_MS) return;
      last = now;
      job.updateProgress({ ...progress }).catch((error: Error) => options.logger?.debug({ err: error, job: job.id }, 'progress not sent'));
    };
    try {
      const summary = await exportEvidenceBundle({
        store: options.store, selection: job.data.selection, key: options.key, out: bundlePath(options.dataDir, job.id!), onProgress,
        ...(job.data.scope ? { scope: job.data.scope } : {}),
        ...(options.catalog ? { catalog: options.catalog } : {}),
        ...(options.fontFile ? { fontFile: options.fontFile } : {}),
        ...(options.silentAfterSeconds ? { silentAfterSeconds: options.silentAfterSeconds } : {}),
        ...(options.settings ? { settings: options.settings } : {}),
        ...(options.intrusionRules ? { intrusionRules: options.intrusionRules } : {}),
      });
      await options.store.jobResults.put({
        id: `evidence-export:${job.id}`, kind: 'evidence-export', status: 'pass', startedAt, finishedAt: new Date().toISOString(),
        summary: `证据包 ${summary.systems} 个系统，${summary.bytes} 字节 / evidence bundle of ${summary.systems} systems, ${summary.bytes} bytes`,
        detail: { ...summary, selection: job.data.selection, requestedBy: job.data.requestedBy },
        ...(job.data.selection.system ? { system: job.data.selection.system } : {}),
        ...(job.data.selection.department ? { department: job.data.selection.department } : {}),
      });
      await job.updateProgress({ done: 100, total: 100, step: '完成 / done' });
      return summary;
    } catch (error) {
      // A failed export leaves a result with its reason too (a later successful try overwrites it: same id).
      const reason = (error as Error).message;
      await options.store.jobResults.put({
        id: `evidence-export:${job.id}`, kind: 'evidence-export', status: 'fail', startedAt, finishedAt: new Date().toISOString(),
        summary: `证据包导出失败 / evidence export failed: ${reason}`,
        detail: { reason, selection: job.data.selection, requestedBy: job.data.requestedBy },
        ...(job.data.selection.system ? { system: job.data.selection.system } : {}),
        ...(job.data.selection.department ? { department: job.data.selection.department } : {}),
      }).catch((stored: Error) => options.logger?.warn({ err: stored, job: job.id }, 'evidence export failure not recorded'));
      // A bad selection stays bad: no retry.
      if (error instanceof ShouwangError && error.statusCode < 500) throw new UnrecoverableError(reason);
      throw error;
    }
  }, { connection: redisConnection(options.redis), prefix: options.prefix ?? 'shouwang', concurrency: 1 });
  worker.on('error', (error) => options.logger?.warn({ err: error }, 'evidence worker error'));
  worker.on('failed', (job, error) => options.logger?.warn({ err: error, job: job?.id }, 'evidence export failed'));
  return worker;
}
