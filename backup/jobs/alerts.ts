import { alertId, alertPriority, type Alert, type BusinessSystem, type JobResult } from '../../core/index.js';
import type { AlertStore } from '../../store/index.js';
import { backupClause } from '../checks/outcome.js';

const CHECK_TITLE: Record<string, string> = {
  presence: '备份缺失 / backup missing',
  freshness: '备份过期（超出 RPO） / backup older than the RPO',
  completeness: '备份不完整 / backup incomplete',
  integrity: '备份校验失败 / backup integrity check failed',
  retention: '备份保留不足 / backup retention not kept',
  'cross-site': '同城异地备份不一致 / same-city and off-site backups disagree',
  'restore-drill': '恢复演练失败 / restore drill failed',
};

/** Rule ids of backup failure alerts start with this; the posture counts them as the backup problem they are. */
export const BACKUP_ALERT_RULE_PREFIX = 'shouwang-backup-';

/** `presence`, `integrity`, … for checks (detail.check), `restore-drill` for drills. */
export function failedCheck(result: JobResult): string {
  return typeof result.detail.check === 'string' ? result.detail.check : result.kind;
}

/** Shanghai midnight of the job's creation, as UTC ISO: the alert window, stable across retries. */
export function alertWindow(jobCreatedAt: number): string {
  const shanghai = new Date(jobCreatedAt + 8 * 3_600_000);
  return new Date(Date.UTC(shanghai.getUTCFullYear(), shanghai.getUTCMonth(), shanghai.getUTCDate()) - 8 * 3_600_000).toISOString();
}

/**
 * A failed check or drill as an alert: rule `shouwang-backup-<check>`, level high, grouped by system
 * and site per day, so a failing system raises one alert a day whose count grows with repeats.
 */
export function backupFailureAlert(system: BusinessSystem, result: JobResult, window: string): Alert {
  const check = failedCheck(result);
  const ruleId = `${BACKUP_ALERT_RULE_PREFIX}${check}`;
  const groupKey = `${system.id}|${result.site ?? 'all'}`;
  // The clause of the system's level now, not one stored with an older result (7.1.4.9 was once cited for level 2).
  const clause = backupClause(system.mlpsLevel);
  const number = /\d+\.\d+\.\d+\.\d+/.exec(clause)?.[0] ?? clause;
  // a) local backup and recovery; b) off-site backup (levels 2–4); level 1 (6.1.4.7) has one requirement, no letter.
  const item = system.mlpsLevel <= 1 ? '' : result.site === 'off-site' || check === 'cross-site' ? ' b)' : ' a)';
  return {
    id: alertId(ruleId, groupKey, window),
    rule: { id: ruleId, title: CHECK_TITLE[check] ?? `备份任务失败 / backup job failed: ${check}`, level: 'high' },
    mlps: [`${number}${item}`],
    department: system.department,
    system: system.id,
    mlpsLevel: system.mlpsLevel,
    priority: alertPriority('high', system.mlpsLevel),
    status: 'new',
    timeline: [{ at: result.finishedAt, actor: 'shouwang', action: 'raised', comment: result.summary }],
    firstSeen: result.finishedAt,
    lastSeen: result.finishedAt,
    count: 1,
    // The failing result's id, so the alert leads to its evidence.
    sampleEventIds: [result.id],
    groupKey,
  };
}

/** Raises an alert per failed result; a re-run of the same job (same result id) raises nothing new. */
export async function raiseFailureAlerts(
  alerts: Pick<AlertStore, 'get' | 'upsert'>, system: BusinessSystem, results: readonly JobResult[], window: string,
): Promise<Alert[]> {
  const raised: Alert[] = [];
  for (const result of results) {
    if (result.status !== 'fail') continue;
    const alert = backupFailureAlert(system, result, window);
    const stored = await alerts.get(alert.id);
    if (stored?.sampleEventIds.includes(result.id)) continue;
    await alerts.upsert([alert]);
    raised.push(alert);
  }
  return raised;
}
