import { createHash } from 'node:crypto';

export const RULE_LEVELS = ['informational', 'low', 'medium', 'high', 'critical'] as const;
export type RuleLevel = (typeof RULE_LEVELS)[number];

export const ALERT_STATUSES = ['new', 'acknowledged', 'in_progress', 'resolved', 'false_positive'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

/** One delivery attempt of a notification about the alert (analyzers/notify), shown on its timeline. */
export interface AlertNotification {
  channel: string;
  route: string;
  /** 0: first notice; k: escalation tier k. */
  step: number;
  kind: string;
  outcome: 'delivered' | 'failed' | 'skipped';
  attempt: number;
  latencyMs: number;
  error?: string;
}

export interface AlertTimelineEntry {
  at: string;
  actor: string;
  action: 'raised' | 'status' | 'assign' | 'comment' | 'notify';
  notification?: AlertNotification;
  from?: AlertStatus;
  to?: AlertStatus;
  assignee?: string;
  comment?: string;
}

export interface Alert {
  /** Deterministic: rule + group key + window, so repeats raise `count` instead of a new alert. */
  id: string;
  rule: { id: string; title: string; level: RuleLevel };
  /** MLPS 2.0 control references, e.g. `8.1.4.3 a)`. */
  mlps: string[];
  department?: string;
  system?: string;
  mlpsLevel?: number;
  /** Rule level weight × system MLPS level: 1 (lowest) … 20 (critical on a level-4 system). */
  priority: number;
  status: AlertStatus;
  assignee?: string;
  timeline: AlertTimelineEntry[];
  firstSeen: string;
  lastSeen: string;
  count: number;
  sampleEventIds: string[];
  groupKey?: string;
  /**
   * Per writer (a collector process, a correlation partition), the newest contribution it has counted in: a writer
   * that restarts and replays skips what it counted before, without skipping what other writers counted since.
   */
  writers?: Record<string, string>;
}

export const SAMPLE_EVENT_LIMIT = 20;
/** Writers remembered per alert; the oldest goes first (a writer long gone). */
export const ALERT_WRITER_LIMIT = 32;

function mergeWriters(stored: Alert['writers'], repeat: Alert['writers']): Alert['writers'] {
  if (!repeat) return stored;
  const merged = { ...stored };
  for (const [writer, at] of Object.entries(repeat)) if (!merged[writer] || at > merged[writer]) merged[writer] = at;
  const entries = Object.entries(merged);
  if (entries.length <= ALERT_WRITER_LIMIT) return merged;
  return Object.fromEntries(entries.sort((a, b) => (a[1] < b[1] ? 1 : a[1] > b[1] ? -1 : 0)).slice(0, ALERT_WRITER_LIMIT));
}

export function alertId(ruleId: string, groupKey: string, windowStart: string): string {
  return createHash('sha256').update(`${ruleId}\u0000${groupKey}\u0000${windowStart}`).digest('base64url').slice(0, 27);
}

export function alertPriority(level: RuleLevel, mlpsLevel: number | undefined): number {
  return (RULE_LEVELS.indexOf(level) + 1) * (mlpsLevel ?? 1);
}

/** Folds a repeat into the stored alert: counts add up, triage state stays as the officer left it. */
export function mergeAlert(stored: Alert, repeat: Alert): Alert {
  const samples = [...stored.sampleEventIds];
  for (const id of repeat.sampleEventIds) {
    if (samples.length >= SAMPLE_EVENT_LIMIT) break;
    if (!samples.includes(id)) samples.push(id);
  }
  return {
    ...stored,
    count: stored.count + repeat.count,
    firstSeen: repeat.firstSeen < stored.firstSeen ? repeat.firstSeen : stored.firstSeen,
    lastSeen: repeat.lastSeen > stored.lastSeen ? repeat.lastSeen : stored.lastSeen,
    sampleEventIds: samples,
    ...(stored.writers || repeat.writers ? { writers: mergeWriters(stored.writers, repeat.writers) } : {}),
  };
}

const TRANSITIONS: Record<AlertStatus, readonly AlertStatus[]> = {
  new: ['acknowledged', 'in_progress', 'resolved', 'false_positive'],
  acknowledged: ['in_progress', 'resolved', 'false_positive'],
  in_progress: ['acknowledged', 'resolved', 'false_positive'],
  resolved: ['in_progress'],
  false_positive: ['in_progress'],
};

export function canTransition(from: AlertStatus, to: AlertStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export interface AlertStatusChange {
  status?: AlertStatus;
  assignee?: string | null;
  comment?: string;
  /** A notification attempt to put on the timeline (no status change). */
  notification?: AlertNotification;
  actor: string;
  at?: string;
}

/** Applies a triage action; returns undefined when the status change is not allowed. */
export function applyAlertChange(alert: Alert, change: AlertStatusChange): Alert | undefined {
  const at = change.at ?? new Date().toISOString();
  const timeline = [...alert.timeline];
  let { status, assignee } = alert;
  if (change.status && change.status !== alert.status) {
    if (!canTransition(alert.status, change.status)) return undefined;
    timeline.push({ at, actor: change.actor, action: 'status', from: alert.status, to: change.status, ...comment(change) });
    status = change.status;
  }
  if (change.assignee !== undefined && (change.assignee ?? undefined) !== alert.assignee) {
    assignee = change.assignee ?? undefined;
    timeline.push({ at, actor: change.actor, action: 'assign', ...(assignee ? { assignee } : {}) });
  }
  if (change.notification) timeline.push({ at, actor: change.actor, action: 'notify', notification: change.notification });
  if (change.comment && timeline.length === alert.timeline.length) {
    timeline.push({ at, actor: change.actor, action: 'comment', comment: change.comment });
  }
  const next: Alert = { ...alert, status, timeline };
  if (assignee === undefined) delete next.assignee;
  else next.assignee = assignee;
  return next;
}

const comment = (change: AlertStatusChange) => (change.comment ? { comment: change.comment } : {});
