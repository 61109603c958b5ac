import { describe, expect, it } from 'vitest';
import { loadMlpsCatalog } from '../../analyzers/index.js';
import {
  DEFAULT_RULE_SETTINGS, EVIDENCED_CONTROLS, EVIDENCED_ITEMS, MANUAL_REVIEW, auditCoverageVerdict, auditProtectionVerdict, auditRecordsVerdict,
  backupFacts, backupIdentificationVerdict, backupLocalVerdict, backupOffsiteVerdict, backupProceduresVerdict, backupStipulationVerdict,
  emergencyDrillVerdict, calendarMonthsBefore, capToWindow, incidentHandlingVerdict, intrusionVerdict,
  loadIntrusionRules, notApplicable, recordFacts, retentionFacts, retentionVerdict, type AuditFacts, type BackupFacts, type IntrusionFacts,
} from '../../evidence/index.js';
import type { BusinessSystem, JobResult, ShouwangEvent } from '../../core/index.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** 2026-12-01 00:00 +08:00 */
const END = Date.parse('2026-11-30T16:00:00Z');

/** One event an hour from `from` to the period end. */
const hourly = (from: number) => {
  const buckets: { start: string; count: number }[] = [];
  for (let t = Math.floor(from / HOUR) * HOUR; t < END; t += HOUR) buckets.push({ start: new Date(t).toISOString(), count: 1 });
  return buckets;
};

const retention = (from: number) => retentionFacts(END, new Date(from).toISOString(), hourly(from));
const audit = (over: Partial<AuditFacts> = {}): AuditFacts => ({
  eventsInPeriod: 10, expectedSources: 2, reportingSources: 2, silentSources: [],
  records: { sampled: 4, complete: 4, missing: { 'date/time': 0, user: 0, 'event type': 0, outcome: 0 } },
  retention: retention(Date.parse('2026-05-31T16:00:00Z')), ...over,
});
const intrusion: IntrusionFacts = { eventsInPeriod: 10, rules: 20, rulesEnabled: 20, reachingDatasets: ['syslog'], matches: 3 };

const system = (mlpsLevel: number, withPolicy = true, retention?: number): BusinessSystem => ({
  id: 'sys', name: '系统', department: 'd', mlpsLevel, zone: '政务外网', hosts: [], ips: [], databases: [],
  ...(withPolicy ? { backup: { rpo: 600, rto: 3600, ...(retention ? { retention } : {}), sameCity: { type: 'path', path: '/s' }, offSite: { type: 'sftp', host: 'dr.example', port: 22, user: 'bk', path: '/o' }, checkSchedule: '0 2 * * *', drillSchedule: '0 3 * * 0', validationQueries: [] } } : {}),
} as unknown as BusinessSystem);

const at = (n: number) => new Date(END - n * HOUR).toISOString();
const check = (site: 'same-city' | 'off-site' | 'cross-site', status: JobResult['status'], n: number, name: 'freshness' | 'presence' | 'cross-site' = 'freshness'): JobResult => ({
  id: `${site}-${name}-${n}`, kind: 'backup-check', status, system: 'sys', department: 'd', ...(site === 'cross-site' ? {} : { site }),
  startedAt: at(n), finishedAt: at(n), summary: '', detail: { check: name, site, ...(name === 'freshness' ? { ageSeconds: 300, rpoSeconds: 600 } : {}) },
});
const drill = (site: 'same-city' | 'off-site' | undefined, met: boolean, n: number): JobResult => ({
  id: `drill-${site}-${n}`, kind: 'restore-drill', status: met ? 'pass' : 'fail', system: 'sys', department: 'd', ...(site ? { site } : {}),
  startedAt: at(n), finishedAt: at(n), summary: '', detail: { ...(site ? { site } : {}), rto: { targetSeconds: 3600, achievedSeconds: met ? 600 : 7200, met } },
});
const healthy = (level = 3): BackupFacts => backupFacts(system(level), [
  check('same-city', 'pass', 5), check('off-site', 'pass', 5), check('cross-site', 'pass', 5, 'cross-site'),
], [drill('same-city', true, 4), drill('off-site', true, 3)]);

describe('status rules at their boundaries', () => {
  it('未测评（需人工核查）is for items without automated evidence; 不适用 only with a stated reason', () => {
    expect(MANUAL_REVIEW.status).toBe('未测评');
    expect(auditProtectionVerdict(audit()).status).toBe('未测评');
    expect(notApplicable('第二级无集中管控控制点 / level 2 has no x.1.5.4')).toMatchObject({ status: '不适用', reason: expect.stringContaining('第二级') });
    expect(() => notApplicable('  ')).toThrow(/reason/);
  });

  it('安全审计 a): zero expected sources is not full coverage; no event is 不符合', () => {
    expect(auditCoverageVerdict(audit()).status).toBe('符合');
    expect(auditCoverageVerdict(audit({ expectedSources: 0, reportingSources: 0 })).status).toBe('部分符合');
    expect(auditCoverageVerdict(audit({ reportingSources: 1, silentSources: ['db'] })).status).toBe('部分符合');
    expect(auditCoverageVerdict(audit({ eventsInPeriod: 0 })).status).toBe('不符合');
  });

  it('安全审计 b): sampled records must carry date/time, user, event type and outcome', () => {
    const full: ShouwangEvent = { id: '1', '@timestamp': at(1), user: { name: 'root' }, event: { action: 'login', outcome: 'success' } };
    const noUser: ShouwangEvent = { id: '2', '@timestamp': at(1), event: { category: ['authentication'], outcome: 'failure' } };
    const bare: ShouwangEvent = { id: '3', '@timestamp': at(1), message: 'x' };
    expect(recordFacts([full, noUser, bare])).toMatchObject({ sampled: 3, complete: 1, missing: { user: 2, 'event type': 1, outcome: 1, 'date/time': 0 } });
    expect(auditRecordsVerdict(audit({ records: recordFacts([full]) })).status).toBe('符合');
    expect(auditRecordsVerdict(audit({ records: recordFacts([full, noUser]) })).status).toBe('部分符合');
    expect(auditRecordsVerdict(audit({ records: recordFacts([bare]) })).status).toBe('不符合');
    expect(auditRecordsVerdict(audit({ records: recordFacts([]) })).status).toBe('不符合');
  });

  it('集中管控 d): six calendar months pass, 5 months 29 days fail, and a gap fails', () => {
    const sixMonths = calendarMonthsBefore(END, 6);
    expect(new Date(sixMonths).toISOString()).toBe('2026-05-31T16:00:00.000Z'); // 2026-06-01 00:00 +08:00
    expect(retentionVerdict(audit({ retention: retention(sixMonths) })).status).toBe('符合');
    // From 2026-06-02 00:00 +08:00: one day short of six calendar months (5 months 29 days).
    const short = retention(sixMonths + DAY);
    expect(short.gapDays).toBe(1);
    expect(retentionVerdict(audit({ retention: short })).status).toBe('部分符合');
    // A year of logs with one silent day in August is not "six months without gaps".
    const silent = [Date.parse('2026-08-09T16:00:00Z'), Date.parse('2026-08-10T16:00:00Z')] as const; // 10 August, +08:00
    const buckets = hourly(END - 365 * DAY).filter((b) => Date.parse(b.start) < silent[0] || Date.parse(b.start) >= silent[1]);
    const gap = retentionFacts(END, new Date(END - 365 * DAY).toISOString(), buckets);
    expect(gap.gaps).toContain('2026-08-10');
    expect(retentionVerdict(audit({ retention: gap })).status).toBe('部分符合');
    expect(retentionVerdict(audit({ retention: retentionFacts(END, undefined, []) })).status).toBe('不符合');
    // Month ends clamp: 31 August − 6 months is the last day of February.
    expect(new Date(calendarMonthsBefore(Date.parse('2026-08-31T04:00:00Z'), 6)).toISOString()).toBe('2026-02-28T04:00:00.000Z');
  });

  it('入侵防范: no alerts is not 符合; detection must be shown running', () => {
    expect(intrusionVerdict(intrusion).status).toBe('符合');
    expect(intrusionVerdict({ ...intrusion, matches: 0 }).status).toBe('部分符合');
    expect(intrusionVerdict({ ...intrusion, reachingDatasets: [] }).status).toBe('不符合');
    expect(intrusionVerdict({ ...intrusion, rulesEnabled: 0 }).status).toBe('不符合');
    expect(intrusionVerdict({ ...intrusion, eventsInPeriod: 0 }).status).toBe('不符合');
  });

  it('安全事件处置 c): 90 % handled and 24 h median acknowledge decide; no alert is 未测评', () => {
    const h = { alerts: 10, handled: 9, documented: 9, open: 1, medianAckSeconds: 24 * 3600 };
    expect(incidentHandlingVerdict(h).status).toBe('符合');
    expect(incidentHandlingVerdict({ ...h, handled: 8, documented: 8, open: 2 }).status).toBe('部分符合');
    expect(incidentHandlingVerdict({ ...h, medianAckSeconds: 24 * 3600 + 1 }).status).toBe('部分符合');
    expect(incidentHandlingVerdict({ ...h, handled: 0, open: 10 }).status).toBe('不符合');
    expect(incidentHandlingVerdict({ alerts: 0, handled: 0, open: 0 }).status).toBe('未测评');
  });

  it('数据备份恢复 a): no policy is 不符合, not 不适用; the latest drill is the latest, failed or not', () => {
    expect(backupLocalVerdict(healthy()).status).toBe('符合');
    expect(backupLocalVerdict(backupFacts(system(3, false), [], [])).status).toBe('不符合');
    const laterFailed = backupFacts(system(3), [check('same-city', 'pass', 5)], [drill('same-city', true, 4), drill('same-city', false, 2)]);
    expect(laterFailed.sameCity.latestDrill?.rto?.met).toBe(false);
    expect(backupLocalVerdict(laterFailed).status).toBe('部分符合');
    // A drill stored before drills had a site was from the same-city copy.
    expect(backupFacts(system(3), [], [drill(undefined, true, 1)]).sameCity.drills).toBe(1);
    expect(backupLocalVerdict(backupFacts(system(3), [check('same-city', 'fail', 5)], [])).status).toBe('不符合');
    // A fast drill that failed (a file differed), stored saying met: true: it met no RTO, on either site.
    const fastButFailed = (site: 'same-city' | 'off-site'): JobResult => ({ ...drill(site, true, 1), status: 'fail' });
    const failedLocal = backupFacts(system(3), [check('same-city', 'pass', 5), check('off-site', 'pass', 5), check('cross-site', 'pass', 5, 'cross-site')],
      [fastButFailed('same-city'), fastButFailed('off-site')]);
    expect(backupLocalVerdict(failedLocal).status).toBe('部分符合');
    expect(backupOffsiteVerdict(failedLocal, 3, DEFAULT_RULE_SETTINGS).status).toBe('部分符合');
  });

  it('数据备份恢复 b): a system never checked off-site is not 符合; level 3 needs an RPO within the real-time bound', () => {
    const settings = DEFAULT_RULE_SETTINGS;
    expect(backupOffsiteVerdict(healthy(), 3, settings).status).toBe('符合');
    const sameCityOnly = backupFacts(system(3), [check('same-city', 'pass', 5)], [drill('same-city', true, 4)]);
    expect(backupOffsiteVerdict(sameCityOnly, 3, settings)).toMatchObject({ status: '不符合', rule: expect.stringContaining('未核查异地备份') });
    expect(backupOffsiteVerdict(backupFacts(system(3, false), [], []), 3, settings).status).toBe('不符合');
    // Policy RPO 10 min: real-time at a 15 min bound, not at a 5 min bound; level 2 (定时批量) has no bound.
    expect(backupOffsiteVerdict(healthy(), 3, { ...settings, realtimeRpoSeconds: 300 })).toMatchObject({ status: '部分符合', rule: expect.stringContaining('实时备份上限') });
    expect(backupOffsiteVerdict(healthy(2), 2, { ...settings, realtimeRpoSeconds: 300 }).status).toBe('符合');
    const offSiteDrillFailed = backupFacts(system(3), [check('off-site', 'pass', 5)], [drill('off-site', false, 1)]);
    expect(backupOffsiteVerdict(offSiteDrillFailed, 3, settings).status).toBe('部分符合');
  });

  it('备份与恢复管理 a): no policy is 不符合; a policy is only partial evidence (the list of what to back up is a document)', () => {
    expect(backupIdentificationVerdict(backupFacts(system(3, false), [], [])).status).toBe('不符合');
    expect(backupIdentificationVerdict(healthy()).status).toBe('部分符合');
    expect(backupIdentificationVerdict(backupFacts(system(3), [], [])).status).toBe('部分符合');
  });

  it('备份与恢复管理 b): method, frequency and media come from the policy; 符合 only with a stated retention', () => {
    expect(backupStipulationVerdict(backupFacts(system(3, false), [], [])).status).toBe('不符合');
    expect(backupStipulationVerdict(backupFacts(system(3), [], []))).toMatchObject({ status: '部分符合', rule: expect.stringContaining('保存期') });
    const stated = backupStipulationVerdict(backupFacts(system(3, true, 180 * 86_400), [], []));
    expect(stated).toMatchObject({ status: '符合', summary: expect.stringContaining('保存期 180.0d') });
    // The media name the targets, never the SFTP user.
    expect(stated.summary).toContain('path /s / sftp dr.example:/o');
    expect(stated.summary).not.toContain('bk');
  });

  it('备份与恢复管理 c): 符合 needs both copies checked and the latest restore drill (either copy) passed in the period', () => {
    const both = [check('same-city', 'pass', 5), check('off-site', 'pass', 5)];
    expect(backupProceduresVerdict(backupFacts(system(3, false), both, [drill('same-city', true, 1)])).status).toBe('不符合');
    expect(backupProceduresVerdict(backupFacts(system(3), both, [drill('same-city', true, 1)])).status).toBe('符合');
    // The latest drill decides, whichever copy it ran from.
    expect(backupProceduresVerdict(backupFacts(system(3), both, [drill('same-city', true, 4), drill('off-site', false, 1)])).status).toBe('部分符合');
    expect(backupProceduresVerdict(backupFacts(system(3), both, [drill('same-city', false, 4), drill('off-site', true, 1)])).status).toBe('符合');
    expect(backupProceduresVerdict(backupFacts(system(3), both, [])).status).toBe('部分符合');
    expect(backupProceduresVerdict(backupFacts(system(3), [check('same-city', 'pass', 5)], [drill('same-city', true, 1)])).status).toBe('部分符合');
    // Checks that ran and failed are not a carried-out procedure, whatever the drill says.
    const failing = [check('same-city', 'fail', 5), check('off-site', 'fail', 3)];
    expect(backupProceduresVerdict(backupFacts(system(3), failing, [drill('same-city', true, 1)])).status).toBe('部分符合');
    expect(backupProceduresVerdict(backupFacts(system(3), [check('same-city', 'pass', 5), check('off-site', 'fail', 3)], [drill('same-city', true, 1)])).status).toBe('部分符合');
  });

  it('应急预案管理 培训与演练: a restore drill is partial evidence; none is 未测评, never 不符合 or 符合', () => {
    expect(emergencyDrillVerdict(backupFacts(system(3), [], [])).status).toBe('未测评');
    expect(emergencyDrillVerdict(backupFacts(system(3, false), [], [])).status).toBe('未测评');
    expect(emergencyDrillVerdict(backupFacts(system(3), [], [drill('off-site', false, 1)])).status).toBe('部分符合');
    expect(emergencyDrillVerdict(healthy()).status).toBe('部分符合');
    expect(EVIDENCED_ITEMS.emergencyDrill).toEqual({ 2: '7.1.10.13 b)', 3: '8.1.10.13 c)', 4: '9.1.10.13 c)' });
  });

  it('a period shorter than the minimum evidence window gives no 符合', () => {
    const compliant = auditCoverageVerdict(audit());
    expect(capToWindow(compliant, 29.9, DEFAULT_RULE_SETTINGS).status).toBe('部分符合');
    expect(capToWindow(compliant, 30, DEFAULT_RULE_SETTINGS).status).toBe('符合');
  });

  it('each rule decides an item that exists at that level in the catalog; level 2 intrusion is 7.1.3.3', () => {
    const catalog = loadMlpsCatalog();
    for (const control of EVIDENCED_CONTROLS) {
      for (const [level, clause] of Object.entries(EVIDENCED_ITEMS[control])) {
        expect(catalog.itemByClause(clause)?.level, `${control} ${clause}`).toBe(Number(level));
      }
    }
    expect(EVIDENCED_ITEMS.intrusion[2]).toBe('7.1.3.3');
    expect(EVIDENCED_ITEMS.auditRetention[2]).toBeUndefined();
  });

  it('intrusion rules: an sshd record reaches the shipped intrusion rules, a bare record does not, and switched-off rules reach nothing', async () => {
    const sshd: ShouwangEvent = { id: 's', '@timestamp': at(1), event: { dataset: 'system.auth' }, process: { name: 'sshd' }, message: 'Failed password' };
    const bare: ShouwangEvent = { id: 'b', '@timestamp': at(1), event: { dataset: 'hvac.telemetry' }, message: 'hello' };
    const shipped = await loadIntrusionRules();
    expect(shipped.rules.length).toBeGreaterThan(0);
    expect(shipped.rules.every((r) => r.enabled)).toBe(true);
    expect(shipped.reaches(sshd)).toBe(true);
    expect(shipped.reaches(bare)).toBe(false);
    const off = await loadIntrusionRules({ isEnabled: () => false });
    expect(off.rules.filter((r) => r.enabled)).toEqual([]);
    expect(off.reaches(sshd)).toBe(false);
  });
});

describe('local dates follow the configured time zone', () => {
  // END is 2026-12-01 00:00 in Asia/Shanghai but still 30 November 16:00 in UTC.
  const lastDrill = backupFacts(system(3), [check('same-city', 'pass', 5), check('off-site', 'pass', 5)], [drill('same-city', true, 0)]);

  it('drill times in the verdict texts: Asia/Shanghai by default, UTC when configured', () => {
    expect(emergencyDrillVerdict(lastDrill).summary).toContain('最近 2026-12-01 00:00:00 +08:00 pass');
    expect(emergencyDrillVerdict(lastDrill, 'UTC').summary).toContain('最近 2026-11-30 16:00:00 +00:00 pass');
    expect(backupLocalVerdict(lastDrill, 'UTC').summary).toContain('最近演练 2026-11-30 16:00:00 +00:00 pass');
    expect(backupProceduresVerdict(lastDrill, 'UTC').summary).toContain('最近 2026-11-30 16:00:00 +00:00 pass');
    const offsite = backupFacts(system(3), [check('off-site', 'pass', 5)], [drill('off-site', true, 0)]);
    expect(backupOffsiteVerdict(offsite, 3, { ...DEFAULT_RULE_SETTINGS, timeZone: 'Europe/Berlin' }).summary).toContain('最近演练 2026-11-30 17:00:00 +01:00 pass');
  });

  it('retention: six calendar months and the calendar days of gaps are counted in the zone', () => {
    const zoned = retentionFacts(END, undefined, [], 'UTC');
    expect(zoned).toMatchObject({ requiredFrom: '2026-05-30 16:00:00 +00:00', requiredTo: '2026-11-30 16:00:00 +00:00' });
    expect(new Date(calendarMonthsBefore(END, 6, 'UTC')).toISOString()).toBe('2026-05-30T16:00:00.000Z');
    // Events every hour for a year but none from 1 December 00:00 to 08:00 in Shanghai (30 November 16:00–24:00 UTC).
    const end = END + 8 * HOUR;
    const buckets = hourly(END - 365 * DAY);
    expect(retentionFacts(end, undefined, buckets).gaps).toEqual(['2026-12-01']);
    expect(retentionFacts(end, undefined, buckets, 'UTC').gaps).toEqual([]);
  });

  it('keeps the default texts byte for byte: Asia/Shanghai is the default of the rule settings', () => {
    expect(DEFAULT_RULE_SETTINGS.timeZone).toBe('Asia/Shanghai');
    expect(retentionFacts(END, undefined, [])).toEqual(retentionFacts(END, undefined, [], 'Asia/Shanghai'));
  });
});
