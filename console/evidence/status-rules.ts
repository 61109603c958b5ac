/**
 * The documented rules that turn measured facts into an MLPS status per system and control. Only
 * three controls can be evidenced from what Shouwang monitors, and only some of their items (see
 * EVIDENCED_ITEMS in controls.ts); every other item of the system's level is 不适用 for this export and
 * marked 需人工核查 (manual review).
 *
 * 安全审计 Security audit (x.1.4.3):
 *   不符合  no audit event from the system in the whole period;
 *   符合    every expected log source sent events in the period AND logs are kept ≥ 180 days
 *           (oldest stored event of the system to the period end);
 *   部分符合 otherwise.
 * 入侵防范 Intrusion prevention (x.1.4.4):
 *   不符合  no event in the period (nothing was monitored), or alerts were raised and none was handled;
 *   符合    no alert raised, or ≥ 90 % handled (resolved / false positive) and the median time to
 *           acknowledge (first triage action after raising) ≤ 24 h;
 *   部分符合 otherwise.
 * 数据备份恢复 Data backup and recovery (7.1.4.8 at level 2, x.1.4.9 at levels 3 and 4):
 *   不适用  the inventory has no backup policy for the system (需人工核查 manual review);
 *   不符合  no backup check in the period, or every check failed;
 *   符合    ≥ 90 % of checks passed, the latest check of each site passed, and a restore drill in the
 *           period met the RTO;
 *   部分符合 otherwise.
 * Level-1 systems have no catalogued item (the catalog covers levels 2–4): no rows.
 */

export const STATUSES = ['符合', '部分符合', '不符合', '不适用'] as const;
export type ComplianceStatus = (typeof STATUSES)[number];

export const STATUS_EN: Record<ComplianceStatus, string> = {
  符合: 'compliant', 部分符合: 'partially compliant', 不符合: 'non-compliant', 不适用: 'not applicable',
};

export const RETENTION_DAYS_REQUIRED = 180;
export const HANDLED_SHARE_REQUIRED = 0.9;
export const MEDIAN_ACK_LIMIT_SECONDS = 24 * 3600;
export const BACKUP_PASS_SHARE_REQUIRED = 0.9;

export type EvidencedControl = 'audit' | 'intrusion' | 'backup';

/** The computing-environment control each rule evidences (its Chinese name in the catalog). */
export const EVIDENCED_CONTROLS: Record<EvidencedControl, string> = { audit: '安全审计', intrusion: '入侵防范', backup: '数据备份恢复' };

export interface AuditFacts {
  eventsInPeriod: number;
  expectedSources: number;
  /** Expected sources with at least one event in the period. */
  reportingSources: number;
  silentSources: string[];
  /** Oldest stored event of the system, any time. */
  oldestEvent?: string;
  /** From the oldest stored event to the period end, whole days. */
  retainedDays: number;
}

export interface IntrusionFacts {
  eventsInPeriod: number;
  alerts: number;
  handled: number;
  open: number;
  medianAckSeconds?: number;
}

export interface BackupFacts {
  hasPolicy: boolean;
  checks: number;
  passed: number;
  failed: number;
  /** Status of the latest check per site (and cross-site). */
  latestBySite: Record<string, 'pass' | 'warn' | 'fail'>;
  /** Largest age of the latest set vs. the RPO among the latest freshness checks. */
  rpo?: { ageSeconds: number; targetSeconds: number };
  drills: number;
  drillsPassed: number;
  latestDrill?: { finishedAt: string; status: string; rtoTargetSeconds?: number; rtoAchievedSeconds?: number; rtoMet?: boolean };
}

export interface ControlVerdict {
  status: ComplianceStatus;
  /** zh-CN first, then English: the figures behind the status. */
  summary: string;
  /** The rule that decided, as written above. */
  rule: string;
}

const pct = (share: number) => `${Math.round(share * 1000) / 10}%`;
export const formatDuration = (seconds: number): string =>
  seconds >= 86_400 ? `${(seconds / 86_400).toFixed(1)}d` : seconds >= 3600 ? `${(seconds / 3600).toFixed(1)}h`
    : seconds >= 60 ? `${Math.round(seconds / 60)}min` : `${Math.round(seconds)}s`;

export function auditVerdict(f: AuditFacts): ControlVerdict {
  const ratio = f.expectedSources ? f.reportingSources / f.expectedSources : 1;
  const summary = `审计日志 ${f.eventsInPeriod} 条；日志源上报 ${f.reportingSources}/${f.expectedSources}（${pct(ratio)}）`
    + `${f.silentSources.length ? `，静默：${f.silentSources.join('、')}` : ''}；日志留存 ${f.retainedDays} 天`
    + ` / ${f.eventsInPeriod} audit events; sources reporting ${f.reportingSources}/${f.expectedSources}; ${f.retainedDays} days retained`;
  if (f.eventsInPeriod === 0) {
    return { status: '不符合', summary, rule: '期间内无审计事件 → 不符合 / no audit event in the period → non-compliant' };
  }
  if (ratio >= 1 && f.retainedDays >= RETENTION_DAYS_REQUIRED) {
    return { status: '符合', summary, rule: `全部日志源上报且留存 ≥ ${RETENTION_DAYS_REQUIRED} 天 → 符合 / all sources reporting and ≥ ${RETENTION_DAYS_REQUIRED} days kept` };
  }
  return {
    status: '部分符合', summary,
    rule: `有审计事件，但${ratio < 1 ? '部分日志源静默' : ''}${ratio < 1 && f.retainedDays < RETENTION_DAYS_REQUIRED ? '且' : ''}${f.retainedDays < RETENTION_DAYS_REQUIRED ? `留存不足 ${RETENTION_DAYS_REQUIRED} 天` : ''} → 部分符合`
      + ` / events present but ${ratio < 1 ? 'sources silent' : `fewer than ${RETENTION_DAYS_REQUIRED} days kept`}`,
  };
}

export function intrusionVerdict(f: IntrusionFacts): ControlVerdict {
  const share = f.alerts ? f.handled / f.alerts : 1;
  const ack = f.medianAckSeconds === undefined ? '—' : formatDuration(f.medianAckSeconds);
  const summary = `告警 ${f.alerts} 条，已处置 ${f.handled}（${pct(share)}），未结 ${f.open}；确认时间中位数 ${ack}`
    + ` / ${f.alerts} alerts, ${f.handled} handled, ${f.open} open; median time to acknowledge ${ack}`;
  if (f.eventsInPeriod === 0) {
    return { status: '不符合', summary, rule: '期间内无事件，未受监测 → 不符合 / no event in the period: not monitored → non-compliant' };
  }
  if (f.alerts > 0 && f.handled === 0) {
    return { status: '不符合', summary, rule: '有告警但无一处置 → 不符合 / alerts raised, none handled → non-compliant' };
  }
  if (f.alerts === 0) {
    return { status: '符合', summary, rule: '受监测且期间内无告警 → 符合 / monitored, no alert raised → compliant' };
  }
  const ackOk = f.medianAckSeconds !== undefined && f.medianAckSeconds <= MEDIAN_ACK_LIMIT_SECONDS;
  if (share >= HANDLED_SHARE_REQUIRED && ackOk) {
    return { status: '符合', summary, rule: `处置率 ≥ ${pct(HANDLED_SHARE_REQUIRED)} 且确认中位数 ≤ 24h → 符合 / ≥ 90 % handled, median acknowledge ≤ 24 h` };
  }
  return { status: '部分符合', summary, rule: `处置率 < ${pct(HANDLED_SHARE_REQUIRED)} 或确认中位数 > 24h → 部分符合 / < 90 % handled or median acknowledge > 24 h` };
}

export function backupVerdict(f: BackupFacts): ControlVerdict {
  if (!f.hasPolicy) {
    return {
      status: '不适用',
      summary: '资产清单中无备份策略，需人工核查 / no backup policy in the inventory: manual review',
      rule: '无备份策略 → 不适用（需人工核查） / no policy → not applicable (manual review)',
    };
  }
  const share = f.checks ? f.passed / f.checks : 0;
  const latest = Object.entries(f.latestBySite).map(([site, status]) => `${site}:${status}`).join(', ') || '—';
  const rpo = f.rpo ? `RPO 实际 ${formatDuration(f.rpo.ageSeconds)} / 目标 ${formatDuration(f.rpo.targetSeconds)}` : 'RPO —';
  const drill = f.latestDrill
    ? `最近演练 ${f.latestDrill.status}，RTO 实际 ${f.latestDrill.rtoAchievedSeconds === undefined ? '—' : formatDuration(f.latestDrill.rtoAchievedSeconds)} / 目标 ${f.latestDrill.rtoTargetSeconds === undefined ? '—' : formatDuration(f.latestDrill.rtoTargetSeconds)}`
    : '期间内无恢复演练';
  const summary = `备份核查 ${f.checks} 次，通过 ${f.passed}（${pct(share)}），失败 ${f.failed}；最新：${latest}；${rpo}；演练 ${f.drills} 次，${drill}`
    + ` / ${f.checks} backup checks, ${f.passed} passed; ${f.drills} drills`;
  if (f.checks === 0) return { status: '不符合', summary, rule: '期间内无备份核查 → 不符合 / no backup check in the period → non-compliant' };
  if (f.passed === 0 && f.failed === f.checks) return { status: '不符合', summary, rule: '全部核查失败 → 不符合 / every check failed → non-compliant' };
  const latestOk = Object.values(f.latestBySite).every((status) => status === 'pass');
  if (share >= BACKUP_PASS_SHARE_REQUIRED && latestOk && f.latestDrill?.rtoMet === true) {
    return { status: '符合', summary, rule: '核查通过率 ≥ 90%、各站点最新核查通过、演练达到 RTO → 符合 / ≥ 90 % checks passed, latest pass per site, a drill met the RTO' };
  }
  return {
    status: '部分符合', summary,
    rule: '有核查，但通过率 < 90%、最新核查未通过或无达标演练 → 部分符合 / checks present but < 90 % passed, latest not passing, or no drill meeting the RTO',
  };
}

export const MANUAL_REVIEW: ControlVerdict = {
  status: '不适用',
  summary: '本平台无可自动取证的数据，需人工核查 / nothing Shouwang monitors evidences this item: manual review',
  rule: '无自动取证规则 → 不适用（需人工核查） / no automated rule → not applicable (manual review)',
};
