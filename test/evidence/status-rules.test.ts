import { describe, expect, it } from 'vitest';
import { auditVerdict, backupVerdict, intrusionVerdict, type BackupFacts } from '../../console/evidence/index.js';

const audit = { eventsInPeriod: 10, expectedSources: 2, reportingSources: 2, silentSources: [], retainedDays: 200 };
const intrusion = { eventsInPeriod: 10, alerts: 10, handled: 10, open: 0, medianAckSeconds: 3600 };
const backup: BackupFacts = {
  hasPolicy: true, checks: 10, passed: 10, failed: 0, latestBySite: { 'same-city': 'pass', 'off-site': 'pass' },
  drills: 1, drillsPassed: 1, latestDrill: { finishedAt: '2026-06-01T00:00:00Z', status: 'pass', rtoTargetSeconds: 3600, rtoAchievedSeconds: 600, rtoMet: true },
};

describe('status rules at their thresholds', () => {
  it('安全审计: retention just under 180 days or one silent source is 部分符合; no event is 不符合', () => {
    expect(auditVerdict(audit).status).toBe('符合');
    expect(auditVerdict({ ...audit, retainedDays: 179 }).status).toBe('部分符合');
    expect(auditVerdict({ ...audit, reportingSources: 1, silentSources: ['db'] }).status).toBe('部分符合');
    expect(auditVerdict({ ...audit, eventsInPeriod: 0, reportingSources: 0 }).status).toBe('不符合');
  });

  it('入侵防范: the 90 % handled share and the 24 h median acknowledge decide', () => {
    expect(intrusionVerdict(intrusion).status).toBe('符合');
    expect(intrusionVerdict({ ...intrusion, handled: 9, open: 1 }).status).toBe('符合');
    expect(intrusionVerdict({ ...intrusion, handled: 8, open: 2 }).status).toBe('部分符合');
    expect(intrusionVerdict({ ...intrusion, medianAckSeconds: 24 * 3600 + 1 }).status).toBe('部分符合');
    expect(intrusionVerdict({ ...intrusion, handled: 0, open: 10 }).status).toBe('不符合');
    expect(intrusionVerdict({ ...intrusion, alerts: 0, handled: 0 }).status).toBe('符合');
    expect(intrusionVerdict({ ...intrusion, eventsInPeriod: 0 }).status).toBe('不符合');
  });

  it('数据备份恢复: a failing latest check or a drill past its RTO is 部分符合; no check or all failed is 不符合', () => {
    expect(backupVerdict(backup).status).toBe('符合');
    expect(backupVerdict({ ...backup, latestBySite: { 'same-city': 'pass', 'off-site': 'fail' }, passed: 9, failed: 1 }).status).toBe('部分符合');
    expect(backupVerdict({ ...backup, latestDrill: { ...backup.latestDrill!, rtoMet: false } }).status).toBe('部分符合');
    expect(backupVerdict({ ...backup, drills: 0, latestDrill: undefined }).status).toBe('部分符合');
    expect(backupVerdict({ ...backup, checks: 0, passed: 0 }).status).toBe('不符合');
    expect(backupVerdict({ ...backup, passed: 0, failed: 10 }).status).toBe('不符合');
    expect(backupVerdict({ ...backup, hasPolicy: false })).toMatchObject({ status: '不适用', summary: expect.stringContaining('需人工核查') });
  });
});
