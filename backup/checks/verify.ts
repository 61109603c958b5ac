import type { BusinessSystem, JobResult } from '../../core/index.js';
import type { JobResultStore } from '../../store/index.js';
import { BackupErrors } from '../errors.js';
import { ResticRepository, S3Target, isDatabaseRepository, isS3Target, openTarget, type BackupTarget, type SftpOptions } from '../targets/index.js';
import { checkCompleteness } from './completeness.js';
import { checkCrossSite } from './cross-site.js';
import { checkFreshness } from './freshness.js';
import { checkImmutability, checkResticImmutability } from './immutability.js';
import { checkIntegrity } from './integrity.js';
import {
  BACKUP_SITES, CHECK_LABEL, SITE_LABEL, backupClause, checkResultId, type BackupSite, type CheckName, type CheckOutcome,
} from './outcome.js';
import { checkPresence } from './presence.js';
import { checkRansomware } from './ransomware.js';
import { checkRetention } from './retention.js';
import type { FingerprintLookup } from './set-fingerprint.js';
import { takeSnapshot, type SiteSnapshot } from './snapshot.js';

export interface VerifyProgress {
  /** Bytes hashed so far across the sites (hashing is nearly all of the time). */
  done: number;
  /** Bytes to hash; known once the sites are listed, 0 before. */
  total: number;
  /** What runs now, zh-CN and English, e.g. `同城 完整性校验 integrity`. */
  step: string;
  site?: BackupSite;
  file?: string;
}

export interface VerifyOptions {
  /** Default both; cross-site agreement runs only when both are checked. */
  sites?: BackupSite[];
  now?: Date;
  /** Result ids derive from it: the same run id (a retried job) overwrites the same results. */
  runId?: string;
  onProgress?: (progress: VerifyProgress) => void;
  signal?: AbortSignal;
  sftp?: SftpOptions;
  /** Files hashed at once per site (default 2). */
  concurrency?: number;
  /** Previous sets compared by the completeness check (default 7). */
  historySize?: number;
  /**
   * The set fingerprints earlier ransomware checks stored (`storedFingerprints(store, system)`);
   * without it each run samples the previous set again.
   */
  fingerprints?: FingerprintLookup;
  /** Opens a policy target; tests and the job layer may pass their own. */
  openTarget?: typeof openTarget;
}

export const BACKUP_CHECK_KIND = 'backup-check';
const PROGRESS_INTERVAL_MS = 100;

/**
 * Runs every check on a system's backups: per site presence, freshness, completeness, integrity,
 * retention and ransomware signals, then cross-site agreement. One result per check per site (plus one cross-site), each
 * with measured values and the MLPS clause; problems in the backups are results, not exceptions.
 * It throws only for a system without a backup policy, or when `signal` aborts.
 */
export async function verifyBackups(system: BusinessSystem, options: VerifyOptions = {}): Promise<JobResult[]> {
  const policy = system.backup;
  if (!policy) throw BackupErrors.noPolicy(system.id);
  const now = options.now ?? new Date();
  const runId = options.runId ?? now.toISOString();
  const sites = BACKUP_SITES.filter((site) => (options.sites ?? BACKUP_SITES).includes(site));
  const clause = backupClause(system.mlpsLevel);
  const open = options.openTarget ?? openTarget;
  const targets = new Map<BackupSite, BackupTarget>(
    sites.map((site) => [site, open(site === 'same-city' ? policy.sameCity : policy.offSite, options.sftp)]),
  );

  let done = 0;
  let total = 0;
  let lastEmit = 0;
  const progress = (step: string, extra: Partial<VerifyProgress> = {}, force = true) => {
    if (!options.onProgress) return;
    const at = Date.now();
    if (!force && at - lastEmit < PROGRESS_INTERVAL_MS) return;
    lastEmit = at;
    options.onProgress({ done, total, step, ...extra });
  };

  const results: JobResult[] = [];
  const record = async (site: BackupSite | 'cross-site', check: CheckName, run: () => CheckOutcome | Promise<CheckOutcome>) => {
    options.signal?.throwIfAborted();
    const startedAt = new Date().toISOString();
    const outcome = await run();
    results.push({
      id: checkResultId(runId, system.id, site, check),
      kind: BACKUP_CHECK_KIND,
      status: outcome.status,
      system: system.id,
      department: system.department,
      ...(site === 'cross-site' ? {} : { site }),
      startedAt,
      finishedAt: new Date().toISOString(),
      summary: outcome.summary,
      detail: { check, site, clause, mlpsLevel: system.mlpsLevel, runId, ...outcome.detail },
    });
  };

  try {
    progress('列出备份集 listing sets');
    const snapshots = new Map<BackupSite, SiteSnapshot>();
    await Promise.all(sites.map(async (site) => {
      snapshots.set(site, await takeSnapshot(site, targets.get(site)!, options.historySize));
    }));
    for (const snapshot of snapshots.values()) {
      const sizes = new Map(snapshot.latest?.files.map((file) => [file.path, file.size]));
      for (const entry of snapshot.latest?.manifest?.files ?? []) total += sizes.get(entry.path) ?? 0;
    }
    for (const site of sites) {
      const snapshot = snapshots.get(site)!;
      const label = (check: CheckName) => `${SITE_LABEL[site]} ${CHECK_LABEL[check]}`;
      progress(label('presence'), { site });
      await record(site, 'presence', () => checkPresence(snapshot));
      await record(site, 'freshness', () => checkFreshness(snapshot, policy.rpo, now));
      await record(site, 'completeness', () => checkCompleteness(snapshot));
      progress(label('integrity'), { site });
      await record(site, 'integrity', () => checkIntegrity(snapshot, {
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.concurrency ? { concurrency: options.concurrency } : {}),
        onBytes: (bytes, file) => {
          done += bytes;
          progress(label('integrity'), { site, file }, false);
        },
      }));
      progress(label('retention'), { site });
      await record(site, 'retention', () => checkRetention(snapshot, policy.rpo, policy.retention, now));
      // Only object storage can say whether a copy is write-once; the off-site copy is the one that must be.
      const target = targets.get(site)!;
      if (site === 'off-site' && isS3Target(target)) {
        progress(label('immutability'), { site });
        await record(site, 'immutability', () => checkImmutability(snapshot, target, now));
      }
      const objectStore = target instanceof ResticRepository ? target.objectStore : undefined;
      if (site === 'off-site' && target instanceof ResticRepository && objectStore) {
        progress(label('immutability'), { site });
        const store = new S3Target(objectStore);
        try {
          await record(site, 'immutability', () => checkResticImmutability(snapshot, target, store, now));
        } finally {
          await store.close();
        }
      }
      // Physical database backups (pgBackRest, mariabackup) are compressed pages: entropy says nothing there,
      // and sampling would mean restoring the whole database each run.
      if (!isDatabaseRepository(snapshot.target)) {
        progress(label('ransomware'), { site });
        await record(site, 'ransomware', async () => {
          const stored = await options.fingerprints?.(site, snapshot.target.description);
          return checkRansomware(snapshot, {
            ...(stored ? { stored } : {}),
            ...(options.signal ? { signal: options.signal } : {}),
            ...(options.concurrency ? { concurrency: options.concurrency } : {}),
          });
        });
      }
    }
    const sameCity = snapshots.get('same-city');
    const offSite = snapshots.get('off-site');
    if (sameCity && offSite) {
      progress(CHECK_LABEL['cross-site']);
      await record('cross-site', 'cross-site', () => checkCrossSite(sameCity, offSite, policy.rpo));
    }
    done = total;
    progress('完成 done');
    return results;
  } finally {
    await Promise.all([...targets.values()].map((target) => target.close()));
  }
}

/** Stores results; ids are deterministic, so storing a retried run again replaces, never duplicates. */
export async function recordResults(store: Pick<JobResultStore, 'put'>, results: readonly JobResult[]): Promise<void> {
  for (const result of results) await store.put(result);
}

/** The worst status among results: what a job or the CLI exits with. */
export function overallStatus(results: readonly JobResult[]): JobResult['status'] {
  return results.some((r) => r.status === 'fail') ? 'fail' : results.some((r) => r.status === 'warn') ? 'warn' : 'pass';
}
