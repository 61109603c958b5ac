import type { Alert } from './alert.js';

/** The longest a suppression may last: a noisy source is fixed or looked at again within a quarter. */
export const SUPPRESSION_MAX_DAYS = 90;

/**
 * A triage suppression: alerts of one rule (and, when set, one group key) in one department are still
 * stored and counted, but marked suppressed and not notified, until `expiresAt`.
 */
export interface AlertSuppression {
  id: string;
  ruleId: string;
  /** The rule's title when the suppression was made: what the list shows beside the id (absent on older ones). */
  ruleTitle?: string;
  /** The alert's group key (e.g. `source.ip=10.1.2.3`): only that group; absent: every alert of the rule. */
  groupKey?: string;
  /** The department it applies to; absent only for alerts with no department (an unknown asset). */
  department?: string;
  reason: string;
  createdBy: string;
  createdAt: string;
  expiresAt: string;
}

/** What a suppressed alert carries: which suppression, until when. */
export interface AlertSuppressedMark {
  id: string;
  until: string;
}

/** Whether the suppression covers the alert at `now` (epoch ms). */
export function suppresses(suppression: AlertSuppression, alert: Alert, now: number): boolean {
  return Date.parse(suppression.expiresAt) > now
    && suppression.ruleId === alert.rule.id
    && suppression.department === alert.department
    && (suppression.groupKey === undefined || suppression.groupKey === alert.groupKey);
}

/**
 * The alert as the store writes it: marked by the active suppression that covers it longest (ties: the smallest id),
 * the mark dropped when none does (a suppression ended or was deleted: the noise is visible again). The longest: the
 * mark's until is when the list shows the alert again, and a short suppression made later must not end a longer one's.
 */
export function markSuppressed(alert: Alert, suppressions: readonly AlertSuppression[], now: number): Alert {
  let by: AlertSuppression | undefined;
  for (const s of suppressions) {
    if (!suppresses(s, alert, now)) continue;
    const longer = by === undefined || Date.parse(s.expiresAt) > Date.parse(by.expiresAt) || (s.expiresAt === by.expiresAt && s.id < by.id);
    if (longer) by = s;
  }
  const { suppressed: _old, ...rest } = alert;
  return by ? { ...rest, suppressed: { id: by.id, until: by.expiresAt } } : rest;
}

/** Whether two versions of an alert carry the same suppression mark (a remark writes only the alerts whose mark moves). */
export function sameMark(a: Alert, b: Alert): boolean {
  return a.suppressed?.id === b.suppressed?.id && a.suppressed?.until === b.suppressed?.until;
}
