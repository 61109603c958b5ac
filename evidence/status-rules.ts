/**
 * The documented rules that turn measured facts into an MLPS status per system and catalog item. One
 * rule decides one item (EVIDENCED_ITEMS in controls.ts says which item at which level); every other
 * item of the system's level is 未测评（需人工核查）: Shouwang holds no automated evidence for it, which
 * is not the same as 不适用. 不适用 is only given with a stated reason (the system's level lacks the
 * control), never by default.
 *
 * 安全审计 a) coverage (x.1.4.3 a):
 *   不符合 no audit event in the period; 符合 every expected log source sent events in the period;
 *   部分符合 otherwise — a system with no expected source declared cannot show full coverage.
 * 安全审计 b) record content (x.1.4.3 b): stored events are sampled (up to 100 per dataset) and each is
 *   checked for date/time (@timestamp), user (user.name), event type (event.action / type / category)
 *   and outcome (event.outcome). 不符合 no sample or none complete; 符合 every sample complete; else 部分符合.
 *   Level 4 (9.1.4.3 b) also asks for 客体标识 (object identity), which no checked field shows: every
 *   sample complete is 部分符合 there.
 * 安全审计 c) protection and backup of records (x.1.4.3 c): 未测评 — records are copied off the host
 *   into Shouwang's store (stated), but the backup of that store is not something Shouwang can observe.
 * 集中管控 d) retention (x.1.5.4 d, levels 3–4): 符合 when the system's stored events reach back six
 *   calendar months (in the configured timeZone) from the period end and no calendar day of that span lacks events;
 *   部分符合 when events exist but the span is short or has gaps; 不符合 when no event is stored.
 * 入侵防范 (x.1.4.4 f at levels 3–4, 7.1.3.3 at level 2): detection must be shown to run for the system.
 *   At level 2 only the boundary intrusion rules (tagged x.1.3.3, network attacks at key network nodes)
 *   count: a host-only detection rule evidences 8.1.4.4 f), which level 2 lacks.
 *   不符合 no event in the period, no enabled intrusion rule, or none of the system's events reaches one;
 *   符合 its events reach enabled intrusion rules AND an intrusion rule matched in the period (an alert,
 *   including one raised by a test event); 部分符合 reaching but no match: no alert is not evidence.
 * 安全事件处置 c) (x.1.10.12 c): only intrusion-rule alerts count. 未测评 without such alerts;
 *   不符合 alerts and none handled; 符合 ≥ 90 % handled (resolved / false positive) with a written note
 *   on the alert's timeline (the requirement asks for the cause, evidence and handling to be recorded: a
 *   bare status change records none) and the median time to acknowledge ≤ 24 h; 部分符合 otherwise.
 * 数据备份恢复 a) local (x.1.4.8/9 a): 不符合 no backup policy, no same-city check in the period, or
 *   every one failed; 符合 ≥ 90 % passed, the latest result of each same-city check passed, and the
 *   latest same-city restore drill (failed or not) met the RTO; 部分符合 otherwise.
 * 数据备份恢复 b) off-site (x.1.4.8/9 b): 不符合 no policy, no off-site check in the period (a system
 *   never checked off-site is not 符合), or every one failed; 符合 ≥ 90 % of off-site and cross-site
 *   checks passed, the latest of each passed, the off-site copy is within the RPO, at levels 3–4
 *   (异地实时备份) the policy RPO is within the real-time bound, and the latest off-site drill, if any,
 *   met its RTO; 部分符合 otherwise.
 * 备份与恢复管理 (x.1.10.11), from the inventory's backup policy and the period's checks and drills:
 *   a) identify what to back up regularly: 不符合 no backup policy; 部分符合 a policy names the system's
 *      backup sets (same-city and off-site targets) — the wider list of business information, data
 *      and software needing backup is a document to review by hand, so never 符合.
 *   b) backup method, frequency, medium and retention stipulated: 不符合 no policy; 符合 the policy
 *      states the method (a same-city and an off-site copy), the frequency (the RPO bounds the newest
 *      backup's age), the media (path or SFTP targets) and the retention; 部分符合 no retention stated.
 *   c) backup and recovery strategies and procedures: 不符合 no policy; 符合 the policy's RPO/RTO
 *      (the strategy) AND in the period both copies were checked and the latest restore drill, from
 *      either copy, passed (the procedures run); 部分符合 otherwise.
 * 应急预案管理 c) (x.1.10.13 c at levels 3–4, 7.1.10.13 b at level 2) train and rehearse: a restore
 *   drill in the period is a rehearsal of the plan's system-recovery part, so 部分符合 (training and
 *   other rehearsals need manual review); without one 未测评 — plans may be rehearsed outside Shouwang.
 * Any 符合 over a period shorter than the minimum evidence window becomes 部分符合.
 */
import { DEFAULT_TIME_ZONE, type RtoMeasure } from '../core/index.js';
import { formatLocalIso } from './local-time.js';

export const STATUSES = ['符合', '部分符合', '不符合', '未测评', '不适用'] as const;
export type ComplianceStatus = (typeof STATUSES)[number];

/** How a status is printed (CSV, XLSX, PDF). */
export const STATUS_LABEL: Record<ComplianceStatus, string> = {
  符合: '符合', 部分符合: '部分符合', 不符合: '不符合', 未测评: '未测评（需人工核查）', 不适用: '不适用',
};

export const STATUS_EN: Record<ComplianceStatus, string> = {
  符合: 'compliant', 部分符合: 'partially compliant', 不符合: 'non-compliant', 未测评: 'not assessed (manual review)', 不适用: 'not applicable',
};

export const RETENTION_MONTHS_REQUIRED = 6;
export const HANDLED_SHARE_REQUIRED = 0.9;
export const MEDIAN_ACK_LIMIT_SECONDS = 24 * 3600;
export const BACKUP_PASS_SHARE_REQUIRED = 0.9;

/** Settings the rules read (`evidence.minimumWindow`, `evidence.realtimeRpo`), stated in the report. */
export interface EvidenceRuleSettings {
  /** A shorter period cannot give 符合. */
  minimumWindowDays: number;
  /** The largest RPO that counts as 异地实时备份 (level 3–4 backup b). */
  realtimeRpoSeconds: number;
  /** `timeZone`: the zone of every local time and calendar day in the report (IANA name). */
  timeZone: string;
}

export const DEFAULT_RULE_SETTINGS: EvidenceRuleSettings = { minimumWindowDays: 30, realtimeRpoSeconds: 900, timeZone: DEFAULT_TIME_ZONE };

export type EvidencedControl =
  | 'auditCoverage' | 'auditRecords' | 'auditProtection' | 'auditRetention'
  | 'intrusion' | 'incidentHandling' | 'backupLocal' | 'backupOffsite'
  | 'backupIdentification' | 'backupStipulation' | 'backupProcedures' | 'emergencyDrill';

export const EVIDENCED_CONTROLS = [
  'auditCoverage', 'auditRecords', 'auditProtection', 'auditRetention', 'intrusion', 'incidentHandling', 'backupLocal', 'backupOffsite',
  'backupIdentification', 'backupStipulation', 'backupProcedures', 'emergencyDrill',
] as const satisfies readonly EvidencedControl[];

/** Short zh-CN / English titles of each rule, for the report. */
export const CONTROL_TITLES: Record<EvidencedControl, string> = {
  auditCoverage: '安全审计 a) 审计覆盖 coverage',
  auditRecords: '安全审计 b) 记录内容 record fields',
  auditProtection: '安全审计 c) 记录保护与备份 protection',
  auditRetention: '集中管控 d) 留存六个月 retention',
  intrusion: '入侵防范 检测运行 detection',
  incidentHandling: '安全事件处置 c) handling',
  backupLocal: '数据备份恢复 a) 本地 local',
  backupOffsite: '数据备份恢复 b) 异地 off-site',
  backupIdentification: '备份与恢复管理 a) 识别备份对象 identification',
  backupStipulation: '备份与恢复管理 b) 备份方式与保存期 method and retention',
  backupProcedures: '备份与恢复管理 c) 备份恢复策略与程序 strategy and procedures',
  emergencyDrill: '应急预案管理 培训与演练 rehearsal',
};

/** The fields an audit record must carry (x.1.4.3 b). */
export const RECORD_FIELDS = ['date/time', 'user', 'event type', 'outcome'] as const;
export type RecordField = (typeof RECORD_FIELDS)[number];
export const RECORD_FIELD_ZH: Record<RecordField, string> = { 'date/time': '日期时间', user: '用户', 'event type': '事件类型', outcome: '结果' };

export interface AuditFacts {
  eventsInPeriod: number;
  expectedSources: number;
  /** Expected sources with at least one event in the period. */
  reportingSources: number;
  silentSources: string[];
  records: { sampled: number; complete: number; missing: Record<RecordField, number> };
  retention: RetentionFacts;
}

export interface RetentionFacts {
  /** Six calendar months before the period end, in the zone (settings.timeZone), and the period end. */
  requiredFrom: string;
  requiredTo: string;
  /** Oldest stored event of the system, any time. */
  oldestEvent?: string;
  /** Calendar days (in the zone) of the required span, and those without a stored event (first 10 listed). */
  days: number;
  gapDays: number;
  gaps: string[];
}

export interface IntrusionFacts {
  eventsInPeriod: number;
  /** Intrusion rules (tagged with an 入侵防范 item) loaded, and how many are enabled. */
  rules: number;
  rulesEnabled: number;
  /** Datasets of the system's sampled events that an enabled intrusion rule reads. */
  reachingDatasets: string[];
  /** Intrusion-rule alerts for the system in the period (matches, test events included). */
  matches: number;
}

export interface HandlingFacts {
  alerts: number;
  handled: number;
  /** Handled alerts whose timeline carries a written note (the cause, evidence and handling recorded); absent in facts made before it was counted. */
  documented?: number;
  open: number;
  medianAckSeconds?: number;
}

export interface DrillFacts {
  finishedAt: string;
  status: string;
  rto?: RtoMeasure;
}

export interface SiteBackupFacts {
  checks: number;
  passed: number;
  failed: number;
  /** Latest status per check name. */
  latest: Record<string, 'pass' | 'warn' | 'fail'>;
  /** The latest freshness check: age of the newest set vs. the RPO. */
  freshness?: { ageSeconds: number; targetSeconds: number };
  drills: number;
  /** The latest drill from this site's copy, failed or not. */
  latestDrill?: DrillFacts;
  /** Where the policy keeps this copy (`path /backup/x`, `sftp host:/path`), when there is a policy. */
  medium?: string;
}

export interface BackupFacts {
  hasPolicy: boolean;
  /** From the inventory's policy. */
  rpoTargetSeconds?: number;
  rtoTargetSeconds?: number;
  retentionSeconds?: number;
  sameCity: SiteBackupFacts;
  offSite: SiteBackupFacts;
  crossSite: { checks: number; passed: number; failed: number; latest?: 'pass' | 'warn' | 'fail' };
}

export type ControlVerdict =
  | { status: Exclude<ComplianceStatus, '不适用'>; summary: string; rule: string }
  /** 不适用 always says why. */
  | { status: '不适用'; summary: string; rule: string; reason: string };

const pct = (share: number) => `${Math.round(share * 1000) / 10}%`;
/**
 * Seconds for a reader, rounded to one unit (`2.0h`, `30min`): report figures, not the exact
 * config text form of core's formatDuration (`1h30m`).
 */
export const formatRoundedDuration = (seconds: number): string =>
  seconds >= 86_400 ? `${(seconds / 86_400).toFixed(1)}d` : seconds >= 3600 ? `${(seconds / 3600).toFixed(1)}h`
    : seconds >= 60 ? `${Math.round(seconds / 60)}min` : `${Math.round(seconds)}s`;

const verdict = (status: Exclude<ComplianceStatus, '不适用'>, summary: string, rule: string): ControlVerdict => ({ status, summary, rule });

/** 不适用, with the reason required. */
export function notApplicable(reason: string): ControlVerdict {
  if (!reason.trim()) throw new Error('不适用 needs a stated reason');
  return { status: '不适用', summary: reason, rule: `不适用：${reason}`, reason };
}

export const MANUAL_REVIEW: ControlVerdict = verdict(
  '未测评',
  '本平台无可自动取证的数据，需人工核查 / nothing Shouwang monitors evidences this item: manual review',
  '无自动取证规则 → 未测评（需人工核查） / no automated rule → not assessed (manual review)',
);

export function auditCoverageVerdict(f: AuditFacts): ControlVerdict {
  const summary = `审计日志 ${f.eventsInPeriod} 条；日志源上报 ${f.reportingSources}/${f.expectedSources}`
    + `${f.silentSources.length ? `，静默：${f.silentSources.join('、')}` : ''}`
    + ` / ${f.eventsInPeriod} audit events; sources reporting ${f.reportingSources}/${f.expectedSources}`;
  if (f.eventsInPeriod === 0) return verdict('不符合', summary, '期间内无审计事件 → 不符合 / no audit event in the period → non-compliant');
  if (f.expectedSources === 0) {
    return verdict('部分符合', summary, '资产清单未声明日志源，无法证明审计覆盖到每个用户 → 部分符合 / no expected log source declared: coverage cannot be shown');
  }
  if (f.reportingSources >= f.expectedSources) return verdict('符合', summary, '全部日志源在期间内上报 → 符合 / every expected source reported');
  return verdict('部分符合', summary, '部分日志源静默 → 部分符合 / some expected sources silent');
}

export function auditRecordsVerdict(f: AuditFacts, level = 3): ControlVerdict {
  const { sampled, complete, missing } = f.records;
  const gaps = RECORD_FIELDS.filter((field) => missing[field] > 0).map((field) => `${RECORD_FIELD_ZH[field]} ${field} 缺 ${missing[field]}`);
  const summary = `抽样 ${sampled} 条记录，字段齐全 ${complete} 条${gaps.length ? `（${gaps.join('，')}）` : ''}`
    + ` / ${sampled} records sampled, ${complete} with date/time, user, event type and outcome`;
  if (sampled === 0) return verdict('不符合', summary, '无可抽样的审计记录 → 不符合 / no stored record to sample');
  if (complete === 0) return verdict('不符合', summary, '抽样记录均缺少必备字段 → 不符合 / no sampled record has every field');
  // 9.1.4.3 b) asks for 主体标识 and 客体标识 instead of 用户 and 事件是否成功: the records carry no field that
  // names the object in general, so at level 4 complete samples are partial evidence, never 符合.
  if (complete === sampled && level >= 4) {
    return verdict('部分符合', summary, '抽样记录均含日期时间、主体（用户）、事件类型和结果；第四级另要求客体标识，记录无可核对的客体字段，需人工核查 → 部分符合'
      + ' / every sampled record has date/time, subject (user), event type and outcome; level 4 also asks for the object identity, which the records do not show: manual review');
  }
  if (complete === sampled) return verdict('符合', summary, '抽样记录均含日期时间、用户、事件类型和结果 → 符合 / every sampled record has every field');
  return verdict('部分符合', summary, '部分抽样记录缺少必备字段 → 部分符合 / some sampled records lack a field');
}

export function auditProtectionVerdict(f: AuditFacts): ControlVerdict {
  return verdict(
    '未测评',
    `期间内 ${f.eventsInPeriod} 条审计记录已集中存储于守望（脱离被审计主机）；记录的定期备份需人工核查`
      + ` / ${f.eventsInPeriod} records held in Shouwang's store, off the audited host; their regular backup needs manual review`,
    '审计记录的备份无自动证据 → 未测评（需人工核查） / no automated evidence of the records\' backup → not assessed',
  );
}

export function retentionVerdict(f: AuditFacts): ControlVerdict {
  const r = f.retention;
  const summary = `要求留存 ${r.requiredFrom} 至 ${r.requiredTo}（${r.days} 天）；最早事件 ${r.oldestEvent ?? '—'}；缺失 ${r.gapDays} 天`
    + `${r.gaps.length ? `（${r.gaps.join('、')}${r.gapDays > r.gaps.length ? ' …' : ''}）` : ''}`
    + ` / ${RETENTION_MONTHS_REQUIRED} calendar months required from ${r.requiredFrom}; ${r.gapDays} of ${r.days} days without stored events`;
  if (!r.oldestEvent) return verdict('不符合', summary, '未存储该系统的任何审计记录 → 不符合 / no stored record → non-compliant');
  if (r.gapDays === 0) {
    return verdict('符合', summary, `留存满 ${RETENTION_MONTHS_REQUIRED} 个自然月且无缺失日 → 符合 / ${RETENTION_MONTHS_REQUIRED} calendar months kept without a gap`);
  }
  return verdict('部分符合', summary, `留存不足 ${RETENTION_MONTHS_REQUIRED} 个自然月或存在缺失日 → 部分符合 / fewer than ${RETENTION_MONTHS_REQUIRED} calendar months kept, or gaps`);
}

export function intrusionVerdict(f: IntrusionFacts): ControlVerdict {
  const summary = `入侵检测规则 ${f.rulesEnabled}/${f.rules} 条启用；到达规则的数据集：${f.reachingDatasets.join('、') || '无'}；期间内规则命中 ${f.matches} 次`
    + ` / ${f.rulesEnabled} of ${f.rules} intrusion rules enabled; datasets reaching them: ${f.reachingDatasets.join(', ') || 'none'}; ${f.matches} matches`;
  if (f.eventsInPeriod === 0) return verdict('不符合', summary, '期间内无事件，未受监测 → 不符合 / no event in the period: not monitored');
  if (f.rulesEnabled === 0) return verdict('不符合', summary, '无启用的入侵检测规则 → 不符合 / no intrusion rule enabled');
  if (f.reachingDatasets.length === 0) return verdict('不符合', summary, '系统的日志未到达任何入侵检测规则 → 不符合 / none of the system\'s events reaches an intrusion rule');
  if (f.matches > 0) return verdict('符合', summary, '日志到达启用的入侵检测规则且期间内有命中 → 符合 / events reach enabled rules and a rule matched');
  return verdict('部分符合', summary, '日志到达规则但期间内无命中或测试事件，无告警不能证明检测有效 → 部分符合 / reaching, but no match or test event: no alert is not evidence');
}

export function incidentHandlingVerdict(f: HandlingFacts): ControlVerdict {
  const share = f.alerts ? f.handled / f.alerts : 0;
  const documented = f.documented ?? 0;
  const ack = f.medianAckSeconds === undefined ? '—' : formatRoundedDuration(f.medianAckSeconds);
  const summary = `入侵告警 ${f.alerts} 条，已处置 ${f.handled}（${pct(share)}），其中有处置记录 ${documented}，未结 ${f.open}；确认时间中位数 ${ack}`
    + ` / ${f.alerts} intrusion alerts, ${f.handled} handled (${documented} with a written record), ${f.open} open; median time to acknowledge ${ack}`;
  if (f.alerts === 0) return verdict('未测评', summary, '期间内无入侵告警，无处置记录可查 → 未测评（需人工核查） / no intrusion alert to show handling');
  if (f.handled === 0) return verdict('不符合', summary, '有告警但无一处置 → 不符合 / alerts raised, none handled');
  const ackOk = f.medianAckSeconds !== undefined && f.medianAckSeconds <= MEDIAN_ACK_LIMIT_SECONDS;
  // c) asks to analyse the cause, collect evidence and record the handling: a status change alone records none of it.
  if (share >= HANDLED_SHARE_REQUIRED && documented / f.alerts >= HANDLED_SHARE_REQUIRED && ackOk) {
    return verdict('符合', summary, '处置率 ≥ 90%（均有书面处置记录）且确认中位数 ≤ 24h → 符合 / ≥ 90 % handled with a written record, median acknowledge ≤ 24 h');
  }
  return verdict('部分符合', summary, '处置率 < 90%、已处置告警缺少书面处置记录或确认中位数 > 24h → 部分符合'
    + ' / < 90 % handled, handled alerts without a written record, or median acknowledge > 24 h');
}

const drillText = (d: DrillFacts | undefined, zone: string) => d
  ? `最近演练 ${formatLocalIso(d.finishedAt, zone)} ${d.status}，RTO 实际 ${d.rto ? formatRoundedDuration(d.rto.achievedSeconds) : '—'} / 目标 ${d.rto ? formatRoundedDuration(d.rto.targetSeconds) : '—'}`
  : '期间内无恢复演练';
const latestText = (latest: Record<string, string>) => Object.entries(latest).map(([check, status]) => `${check}:${status}`).join(', ') || '—';
const noPolicy = verdict('不符合', '资产清单中无备份策略 / no backup policy in the inventory', '无备份策略 → 不符合 / no backup policy → non-compliant');

export function backupLocalVerdict(f: BackupFacts, zone = DEFAULT_TIME_ZONE): ControlVerdict {
  if (!f.hasPolicy) return noPolicy;
  const s = f.sameCity;
  const share = s.checks ? s.passed / s.checks : 0;
  const summary = `同城核查 ${s.checks} 次，通过 ${s.passed}（${pct(share)}）；最新：${latestText(s.latest)}；${drillText(s.latestDrill, zone)}`
    + ` / ${s.checks} same-city checks, ${s.passed} passed; ${s.drills} drills from the same-city copy`;
  if (s.checks === 0) return verdict('不符合', summary, '期间内无同城备份核查 → 不符合 / no same-city check in the period');
  if (s.passed === 0 && s.failed === s.checks) return verdict('不符合', summary, '同城核查全部失败 → 不符合 / every same-city check failed');
  const latestOk = Object.values(s.latest).every((status) => status === 'pass');
  if (share >= BACKUP_PASS_SHARE_REQUIRED && latestOk && s.latestDrill?.rto?.met === true) {
    return verdict('符合', summary, '同城核查通过率 ≥ 90%、各项最新核查通过、最近一次演练达到 RTO → 符合 / ≥ 90 % passed, latest pass, the latest drill met the RTO');
  }
  return verdict('部分符合', summary, '通过率 < 90%、最新核查未通过或最近一次演练未达到 RTO → 部分符合 / < 90 % passed, a latest check not passing, or the latest drill missed the RTO');
}

export function backupOffsiteVerdict(f: BackupFacts, level: number, settings: EvidenceRuleSettings): ControlVerdict {
  if (!f.hasPolicy) return noPolicy;
  const o = f.offSite;
  const x = f.crossSite;
  const checks = o.checks + x.checks;
  const passed = o.passed + x.passed;
  const share = checks ? passed / checks : 0;
  const realtime = level >= 3;
  const rpo = f.rpoTargetSeconds;
  const fresh = o.freshness ? `异地最新备份 ${formatRoundedDuration(o.freshness.ageSeconds)} 前 / RPO ${formatRoundedDuration(o.freshness.targetSeconds)}` : '无异地时效核查';
  const summary = `异地核查 ${o.checks} 次、同城异地一致性 ${x.checks} 次，通过 ${passed}（${pct(share)}）；最新：${latestText(o.latest)}${x.latest ? `, cross-site:${x.latest}` : ''}；${fresh}`
    + `${realtime ? `；实时备份上限 RPO ≤ ${formatRoundedDuration(settings.realtimeRpoSeconds)}，策略 RPO ${rpo === undefined ? '—' : formatRoundedDuration(rpo)}` : ''}；${drillText(o.latestDrill, settings.timeZone)}`
    + ` / ${o.checks} off-site and ${x.checks} cross-site checks, ${passed} passed; ${o.drills} drills from the off-site copy`;
  if (o.checks === 0) return verdict('不符合', summary, '期间内未核查异地备份 → 不符合 / no off-site check in the period');
  if (passed === 0 && o.failed + x.failed === checks) return verdict('不符合', summary, '异地核查全部失败 → 不符合 / every off-site check failed');
  const latestOk = Object.values(o.latest).every((status) => status === 'pass') && (x.latest === undefined || x.latest === 'pass');
  const withinRpo = o.freshness !== undefined && o.freshness.ageSeconds <= o.freshness.targetSeconds;
  const realtimeOk = !realtime || (rpo !== undefined && rpo <= settings.realtimeRpoSeconds);
  const drillOk = o.latestDrill === undefined || o.latestDrill.rto?.met === true;
  if (share >= BACKUP_PASS_SHARE_REQUIRED && latestOk && withinRpo && realtimeOk && drillOk) {
    return verdict('符合', summary, `异地核查通过率 ≥ 90%、最新核查通过、异地副本在 RPO 内${realtime ? `、策略 RPO ≤ ${formatRoundedDuration(settings.realtimeRpoSeconds)}（实时）` : ''} → 符合`
      + ` / ≥ 90 % passed, latest pass, off-site copy within the RPO${realtime ? ', policy RPO within the real-time bound' : ''}`);
  }
  const why = [
    share < BACKUP_PASS_SHARE_REQUIRED ? '通过率 < 90% / < 90 % passed' : '',
    latestOk ? '' : '最新核查未通过 / a latest check not passing',
    withinRpo ? '' : '异地副本超出 RPO 或无时效核查 / off-site copy past the RPO or not checked',
    realtimeOk ? '' : `策略 RPO 超出实时备份上限 ${formatRoundedDuration(settings.realtimeRpoSeconds)} / policy RPO beyond the real-time bound`,
    drillOk ? '' : '最近一次异地恢复演练未达到 RTO / the latest off-site drill missed the RTO',
  ].filter(Boolean);
  return verdict('部分符合', summary, `${why.join('；')} → 部分符合 / partially compliant`);
}

/** The latest restore drill from either copy, failed or not. */
const latestDrillOf = (f: BackupFacts): DrillFacts | undefined =>
  [f.sameCity.latestDrill, f.offSite.latestDrill].filter((d): d is DrillFacts => d !== undefined)
    .sort((a, b) => a.finishedAt.localeCompare(b.finishedAt)).at(-1);

export function backupIdentificationVerdict(f: BackupFacts): ControlVerdict {
  if (!f.hasPolicy) return verdict('不符合', noPolicy.summary, '资产清单未将该系统数据列入定期备份 → 不符合 / the system\'s data is not identified for regular backup');
  return verdict(
    '部分符合',
    '备份策略列出该系统的同城、异地备份集 / the policy names the system\'s same-city and off-site backup sets',
    '系统数据已列入定期备份；需备份的业务信息、系统数据及软件清单需人工核查 → 部分符合'
      + ' / the system\'s data is identified for regular backup; the list of business information, data and software to back up needs manual review',
  );
}

export function backupStipulationVerdict(f: BackupFacts): ControlVerdict {
  if (!f.hasPolicy) return noPolicy;
  const retention = f.retentionSeconds === undefined ? '未规定' : formatRoundedDuration(f.retentionSeconds);
  const summary = `备份方式 同城+异地副本；频度 RPO ${formatRoundedDuration(f.rpoTargetSeconds ?? 0)}；介质 ${f.sameCity.medium ?? '—'} / ${f.offSite.medium ?? '—'}；保存期 ${retention}`
    + ` / method same-city and off-site copies; frequency within RPO; media as listed; retention ${f.retentionSeconds === undefined ? 'not stated' : retention}`;
  if (f.retentionSeconds === undefined) {
    return verdict('部分符合', summary, '备份策略未规定保存期 → 部分符合 / the policy states no retention');
  }
  return verdict('符合', summary, '备份策略规定了备份方式、频度（RPO）、存储介质和保存期 → 符合 / the policy states method, frequency (RPO), media and retention');
}

export function backupProceduresVerdict(f: BackupFacts, zone = DEFAULT_TIME_ZONE): ControlVerdict {
  if (!f.hasPolicy) return noPolicy;
  const drill = latestDrillOf(f);
  const summary = `备份策略 RPO ${formatRoundedDuration(f.rpoTargetSeconds ?? 0)}、RTO ${formatRoundedDuration(f.rtoTargetSeconds ?? 0)}；期间内同城核查 ${f.sameCity.checks} 次、异地核查 ${f.offSite.checks} 次；`
    + `恢复演练 ${f.sameCity.drills + f.offSite.drills} 次${drill ? `，最近 ${formatLocalIso(drill.finishedAt, zone)} ${drill.status}` : ''}`
    + ` / policy RPO and RTO; ${f.sameCity.checks} same-city and ${f.offSite.checks} off-site checks; ${f.sameCity.drills + f.offSite.drills} restore drills in the period`;
  // Checked means the latest result of each check passed: checks that ran and failed are no procedure carried out.
  const passing = (site: SiteBackupFacts) => site.checks > 0 && Object.values(site.latest).every((status) => status === 'pass');
  if (passing(f.sameCity) && passing(f.offSite) && drill?.status === 'pass') {
    return verdict('符合', summary, '策略规定 RPO/RTO，期间内两地备份均经核查且各项最新结果通过，最近一次恢复演练通过 → 符合'
      + ' / RPO/RTO set, both copies checked in the period with every latest result passed, and the latest restore drill passed');
  }
  return verdict('部分符合', summary, '策略已规定 RPO/RTO，但期间内未核查两地备份、最新核查结果未全部通过或最近一次恢复演练未通过（或无演练） → 部分符合'
    + ' / RPO/RTO set, but a copy went unchecked in the period, a latest check result did not pass, or the latest restore drill did not pass (or none ran)');
}

export function emergencyDrillVerdict(f: BackupFacts, zone = DEFAULT_TIME_ZONE): ControlVerdict {
  const drills = f.sameCity.drills + f.offSite.drills;
  const drill = latestDrillOf(f);
  const summary = `期间内系统恢复演练 ${drills} 次${drill ? `，最近 ${formatLocalIso(drill.finishedAt, zone)} ${drill.status}` : ''} / ${drills} restore drills in the period`;
  if (drills === 0) {
    return verdict('未测评', summary, '期间内无恢复演练记录；应急预案培训与演练可能在本平台之外进行 → 未测评（需人工核查） / no restore drill: rehearsals may happen outside Shouwang');
  }
  return verdict('部分符合', summary, '恢复演练是对应急预案中系统恢复流程的演练；人员培训及其他演练需人工核查 → 部分符合'
    + ' / restore drills rehearse the plan\'s system recovery; staff training and other rehearsals need manual review');
}

/** 符合 needs a period of at least the minimum evidence window. */
export function capToWindow(v: ControlVerdict, periodDays: number, settings: EvidenceRuleSettings): ControlVerdict {
  if (v.status !== '符合' || periodDays >= settings.minimumWindowDays) return v;
  return verdict('部分符合', v.summary, `${v.rule}；但取证期间 ${Math.floor(periodDays)} 天短于最短窗口 ${settings.minimumWindowDays} 天 → 部分符合`
    + ` / but the period is shorter than the ${settings.minimumWindowDays}-day minimum window`);
}
