import { describe, expect, it } from 'vitest';
import { ALERT_WRITER_LIMIT, alertId, alertPriority, applyAlertChange, markSuppressed, mergeAlert, SAMPLE_EVENT_LIMIT, type Alert, type AlertSuppression } from '../../core/index.js';

const base: Alert = {
  id: 'a1', rule: { id: 'r1', title: 'SSH brute force', level: 'high' }, mlps: ['8.1.3.5 b)'], status: 'new', priority: 12,
  timeline: [], firstSeen: '2026-01-01T00:00:00.000Z', lastSeen: '2026-01-01T00:00:00.000Z', count: 1, sampleEventIds: ['e1'],
};

describe('alerts', () => {
  it('derives the same id from rule, group and window, and a different one when any changes', () => {
    const id = alertId('r1', 'host=a', '2026-01-01T00:00:00Z');
    expect(alertId('r1', 'host=a', '2026-01-01T00:00:00Z')).toBe(id);
    expect(new Set([id, alertId('r2', 'host=a', '2026-01-01T00:00:00Z'), alertId('r1', 'host=b', '2026-01-01T00:00:00Z'), alertId('r1', 'host=a', '2026-01-01T00:05:00Z')]).size).toBe(4);
  });

  it('grades priority by rule level and system MLPS level', () => {
    expect(alertPriority('critical', 4)).toBe(20);
    expect(alertPriority('high', 3)).toBe(12);
    expect(alertPriority('informational', undefined)).toBe(1);
  });

  it('marks an alert with the covering suppression that lasts longest, so a short one made later cannot end a longer one early', () => {
    const now = Date.parse('2026-01-01T00:00:00.000Z');
    const alert = { ...base, department: 'dsj', groupKey: 'source.ip=10.9.9.9' };
    const suppression = (id: string, expiresInMs: number, extra: Partial<AlertSuppression> = {}): AlertSuppression => ({
      id, ruleId: 'r1', department: 'dsj', reason: 'known noise', createdBy: 'officer-li', createdAt: new Date(now).toISOString(),
      expiresAt: new Date(now + expiresInMs).toISOString(), ...extra,
    });
    const wholeRule = suppression('s1', 3_600_000, { createdAt: new Date(now - 60_000).toISOString() });
    const groupOnly = suppression('s2', 1500, { groupKey: 'source.ip=10.9.9.9' });
    // Newest first, as the stores list them.
    expect(markSuppressed(alert, [groupOnly, wholeRule], now).suppressed).toEqual({ id: 's1', until: wholeRule.expiresAt });
    expect(markSuppressed(alert, [suppression('s4', 1500), suppression('s3', 1500)], now).suppressed?.id).toBe('s3');
    expect(markSuppressed(alert, [suppression('other-department', 3_600_000, { department: 'gaj' })], now).suppressed).toBeUndefined();
    expect(markSuppressed({ ...alert, suppressed: { id: 'gone', until: wholeRule.expiresAt } }, [], now).suppressed).toBeUndefined();
  });

  it('caps the samples a repeat adds and never repeats one', () => {
    const repeat = { ...base, count: 30, sampleEventIds: Array.from({ length: 30 }, (_, i) => `e${i}`) };
    const merged = mergeAlert(base, repeat);
    expect(merged.count).toBe(31);
    expect(merged.sampleEventIds).toHaveLength(SAMPLE_EVENT_LIMIT);
    expect(new Set(merged.sampleEventIds).size).toBe(SAMPLE_EVENT_LIMIT);
  });

  it('keeps each writer\'s newest contribution, and only the newest writers when too many wrote', () => {
    const at = (minute: number) => new Date(Date.parse(base.lastSeen) + minute * 60_000).toISOString();
    const stored = { ...base, writers: { a: at(5), b: at(1) } };
    const merged = mergeAlert(stored, { ...base, writers: { a: at(2), b: at(3), c: at(0) } });
    expect(merged.writers).toEqual({ a: at(5), b: at(3), c: at(0) });
    expect(mergeAlert(base, base).writers).toBeUndefined();
    const many = Object.fromEntries(Array.from({ length: ALERT_WRITER_LIMIT + 10 }, (_, i) => [`w${i}`, at(i)]));
    const capped = mergeAlert(stored, { ...base, writers: many }).writers!;
    expect(Object.keys(capped)).toHaveLength(ALERT_WRITER_LIMIT);
    expect(capped[`w${ALERT_WRITER_LIMIT + 9}`]).toBe(at(ALERT_WRITER_LIMIT + 9));
    expect(capped.w0).toBeUndefined();
  });

  it('allows reopening a resolved alert but not skipping back to new', () => {
    const resolved = applyAlertChange(base, { status: 'resolved', actor: 'li' })!;
    expect(applyAlertChange(resolved, { status: 'new', actor: 'li' })).toBeUndefined();
    expect(applyAlertChange(resolved, { status: 'in_progress', actor: 'li' })?.status).toBe('in_progress');
  });

  it('records a plain comment and an unassignment on the timeline', () => {
    const assigned = applyAlertChange(base, { assignee: 'wang', actor: 'li', at: 't1' })!;
    const commented = applyAlertChange(assigned, { comment: '已联系系统负责人', actor: 'wang', at: 't2' })!;
    const unassigned = applyAlertChange(commented, { assignee: null, actor: 'li', at: 't3' })!;
    expect(unassigned.assignee).toBeUndefined();
    expect(unassigned.timeline).toEqual([
      { at: 't1', actor: 'li', action: 'assign', assignee: 'wang' },
      { at: 't2', actor: 'wang', action: 'comment', comment: '已联系系统负责人' },
      { at: 't3', actor: 'li', action: 'assign' },
    ]);
  });
});
