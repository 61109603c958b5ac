import { eventId, type BusinessSystem, type JobResult, type ShouwangEvent } from '../../core/index.js';

/** The dataset of backup check and drill events: the backup rules (rules/shouwang/backup) read it. */
export const BACKUP_DATASET = 'shouwang.backup';

/** Rule ids of alerts raised before backup alerts came from the rules; old alerts in a store still carry them. */
export const BACKUP_ALERT_RULE_PREFIX = 'shouwang-backup-';

/**
 * The ids of the rules in rules/shouwang/backup (a test keeps this list equal to the files): the
 * posture counts their alerts as the backup problem they are, not as security alerts.
 */
export const BACKUP_RULE_IDS: ReadonlySet<string> = new Set([
  '5fd4a0c0-9eac-5134-a7da-ee5ba969e8ce', // 备份检查失败 backup check failure
  '58eba0c7-d995-5e78-b965-95a180a164dd', // 备份连续失败 repeated failure (correlation)
  '19fa9c65-f2a6-5688-8fca-1bf5eae3970d', // 备份完整性校验失败 integrity
  '7d999df2-9e92-54b1-a7e0-8fb2497a6818', // 异地备份检查失败 off-site
  '268498ad-97ff-5b1f-9c38-73cddcd1ac9b', // 恢复演练失败或超出 RTO drill
  '6fcbebd8-bc41-547b-a9ed-0f51058672c2', // 同城与异地备份不一致 cross-site
  'c2ef49e9-ec8a-41e3-8e13-2bf843c2ae9b', // 备份疑似被勒索软件加密 ransomware signals
]);

export const isBackupAlertRule = (ruleId: string): boolean => BACKUP_RULE_IDS.has(ruleId) || ruleId.startsWith(BACKUP_ALERT_RULE_PREFIX);

/** Rules name checks and sites with underscores (`cross_site`, `off_site`), as Sigma field values usually are. */
const underscored = (value: string) => value.replace(/-/g, '_');

/** `presence`, `integrity`, … for checks, `restore-drill` for drills. */
export function resultCheck(result: JobResult): string {
  return result.kind === 'backup-check' ? result.detail.check : result.kind;
}

/**
 * A check or drill result as an event: the same history for the rules, search, posture and evidence.
 * Its id derives from the result id, so a retried job (same result id) writes the same event again
 * — a duplicate the store drops — and the rules see it once.
 */
export function backupResultEvent(system: BusinessSystem, result: JobResult): ShouwangEvent {
  const check = resultCheck(result);
  const site = result.kind === 'backup-check' ? result.detail.site : result.site ?? 'same-city';
  const measured: Record<string, unknown> = {};
  if (result.kind === 'backup-check') {
    if (typeof result.detail.ageSeconds === 'number') measured.age_seconds = result.detail.ageSeconds;
    if (typeof result.detail.rpoSeconds === 'number') measured.rpo_seconds = result.detail.rpoSeconds;
  }
  if (result.kind === 'restore-drill' && result.detail.rto) {
    measured.rto = { target_seconds: result.detail.rto.targetSeconds, achieved_seconds: result.detail.rto.achievedSeconds, met: result.detail.rto.met };
  }
  return {
    id: eventId(BACKUP_DATASET, result.id),
    '@timestamp': result.finishedAt,
    message: result.summary,
    event: {
      kind: 'event', dataset: BACKUP_DATASET, module: 'shouwang', category: ['configuration'], type: ['info'],
      action: `backup-${check}`, outcome: result.status === 'fail' ? 'failure' : 'success',
    },
    backup: {
      check: underscored(check), ...(site === 'cross-site' ? {} : { site: underscored(site) }), status: result.status, result_id: result.id,
      ...(typeof result.detail.target === 'string' ? { target: result.detail.target } : {}),
      ...measured,
    },
    shouwang: { department: system.department, system: system.id, mlps_level: system.mlpsLevel },
  };
}
