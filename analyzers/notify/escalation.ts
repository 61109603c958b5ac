import type { Alert, AlertStatus } from '../../core/index.js';
import { dispatchKey } from './planner.js';
import type { Dispatch, NotifyConfig, Recipients, RouteConfig } from './types.js';

export interface EscalationStep {
  step: number;
  /** After the first notice. */
  delayMs: number;
  channels: readonly string[];
}

/** Tier k of the route fires k × the level's delay after the first notice; none when the level has no delay. */
export function escalationSteps(route: RouteConfig, alert: Alert, afterMinutes: NotifyConfig['escalateAfterMinutes']): EscalationStep[] {
  const minutes = afterMinutes[alert.rule.level];
  if (minutes === undefined) return [];
  return route.escalation.map((tier, i) => ({ step: i + 1, delayMs: Math.round((i + 1) * minutes * 60_000), channels: tier.channels }));
}

/** Only an alert nobody has touched escalates: acknowledging it (or any triage) stops the tiers. */
export const shouldEscalate = (status: AlertStatus): boolean => status === 'new';

/** The messages of one tier: one per channel, keyed alert × route × step × channel. */
export function escalationDispatches(route: RouteConfig, alert: Alert, step: EscalationStep, recipients?: Recipients): Dispatch[] {
  const extra = (route.toDepartment || route.toUsers) && recipients && (recipients.emails.length || recipients.phones.length) ? { recipients } : {};
  return step.channels.map((channelId) => ({
    key: dispatchKey('alert', route.id, channelId, step.step, alert.id),
    kind: 'escalation', routeId: route.id, channelId, step: step.step, alerts: [alert], count: alert.count, ...extra,
  }));
}

/**
 * The tiers due at `now` for an alert first notified at `notifiedAt` and still in `status`, skipping
 * tiers already sent. Pure, so a hand-moved clock tests it; the queue uses delayed jobs with the same steps.
 */
export function dueEscalations(
  steps: readonly EscalationStep[], notifiedAt: number, now: number, status: AlertStatus, sent: ReadonlySet<number>,
): EscalationStep[] {
  if (!shouldEscalate(status)) return [];
  return steps.filter((s) => !sent.has(s.step) && now >= notifiedAt + s.delayMs);
}
