import { createHash } from 'node:crypto';
import type { BackupCheckName } from '../../core/index.js';

export type BackupSite = 'same-city' | 'off-site';
export const BACKUP_SITES: readonly BackupSite[] = ['same-city', 'off-site'];
export const SITE_LABEL: Record<BackupSite, string> = { 'same-city': '同城', 'off-site': '异地' };

/** The check names a result carries (core's BackupCheckName: job results are typed there). */
export type CheckName = BackupCheckName;
export const CHECK_LABEL: Record<CheckName, string> = {
  presence: '备份存在性 presence',
  freshness: '备份时效 freshness',
  completeness: '备份完整度 completeness',
  integrity: '完整性校验 integrity',
  retention: '保留期 retention',
  'cross-site': '同城异地一致性 cross-site agreement',
  immutability: '防篡改保护 immutability (WORM)',
  ransomware: '勒索软件迹象 ransomware signals',
};

/** What one check found; verifyBackups turns it into a JobResult. */
export interface CheckOutcome {
  status: 'pass' | 'warn' | 'fail';
  /** zh-CN, then English. */
  summary: string;
  /** Measured values. */
  detail: Record<string, unknown>;
}

/**
 * GB/T 22239-2019 "数据备份恢复" (data backup and recovery) sits in the computing-environment section
 * of each level's general requirements: 6.1.4.7 (level 1), 7.1.4.8 (2), 8.1.4.9 (3), 9.1.4.9 (4).
 * Levels 1 and 2 have no 数据保密性, so their control comes one number earlier (7.1.4.9 is 剩余信息保护),
 * as rules/mlps/catalog.yaml.
 */
const BACKUP_CLAUSE: Record<number, string> = { 1: '6.1.4.7', 2: '7.1.4.8', 3: '8.1.4.9', 4: '9.1.4.9' };

export function backupClause(mlpsLevel: number): string {
  return `GB/T 22239-2019 ${BACKUP_CLAUSE[mlpsLevel] ?? BACKUP_CLAUSE[3]} 数据备份恢复`;
}

/** Deterministic per (run, system, site, check): a retried job overwrites its own results. */
export function checkResultId(runId: string, system: string, site: BackupSite | 'cross-site', check: CheckName): string {
  const digest = createHash('sha256').update(JSON.stringify([runId, system, site, check])).digest('hex').slice(0, 24);
  return `backup-check-${digest}`;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit ? value.toFixed(1) : value} ${units[unit]}`;
}

export function formatSeconds(seconds: number): string {
  const s = Math.round(Math.abs(seconds));
  const sign = seconds < 0 ? '-' : '';
  if (s >= 86_400) return `${sign}${(s / 86_400).toFixed(1)}d`;
  if (s >= 3_600) return `${sign}${(s / 3_600).toFixed(1)}h`;
  if (s >= 60) return `${sign}${Math.round(s / 60)}m`;
  return `${sign}${s}s`;
}

/** Long lists of names stay readable in summaries; the detail keeps them all. */
export function nameList(names: readonly string[], max = 5): string {
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} … (+${names.length - max})`;
}
