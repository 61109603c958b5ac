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
  /** Set while a triage suppression covers the alert (core/alert-suppression.ts): stored and counted, not notified. */
  suppressed?: { id: string; until: string };
}

export const SAMPLE_EVENT_LIMIT = 20;
/** Writers remembered per alert; the oldest goes first (a writer long gone). */
export const ALERT_WRITER_LIMIT = 32;

const YEAR_1000_MS = Date.UTC(1000, 0, 1);
const YEAR_10000_MS = Date.UTC(10000, 0, 1);
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d{1,9})?)?(?:Z|[+-]\d\d:\d\d)$/;

/**
 * A writer's time as epoch milliseconds, or undefined when it is not one: only an ISO 8601 time with a zone and a
 * four-digit year (1000–9999) counts. Text order is not time order (`+08:00` against `Z`, `+010000-…` against `9999-…`),
 * so the replay guard compares these numbers; a year outside 1000–9999 is no log time and is never recorded.
 */
export function writerTime(at: unknown): number | undefined {
  if (typeof at !== 'string' || !ISO_TIME.test(at)) return undefined;
  const ms = Date.parse(at);
  return ms >= YEAR_1000_MS && ms < YEAR_10000_MS ? ms : undefined;
}

function mergeWriters(stored: Alert['writers'], repeat: Alert['writers']): Alert['writers'] {
  if (!repeat) return stored;
  // A stored entry that is no time (an older build's text, a hand edit) gives way to a real one; a repeat's that is none is refused.
  const merged = new Map<string, { at: string; ms: number }>();
  for (const [writer, at] of Object.entries(stored ?? {})) merged.set(writer, { at, ms: writerTime(at) ?? -Infinity });
  for (const [writer, at] of Object.entries(repeat)) {
    const ms = writerTime(at);
    const prior = merged.get(writer);
    if (ms !== undefined && (!prior || ms > prior.ms)) merged.set(writer, { at, ms });
  }
  const entries = [...merged].sort((a, b) => b[1].ms - a[1].ms || (a[0] < b[0] ? -1 : 1));
  const kept = merged.size <= ALERT_WRITER_LIMIT ? [...merged] : entries.slice(0, ALERT_WRITER_LIMIT);
  return Object.fromEntries(kept.map(([writer, { at }]) => [writer, at]));
}

/** The later (or earlier) of two alert times, compared as times; a side that is no time loses. */
function pickTime(a: string, b: string, later: boolean): string {
  const [x, y] = [Date.parse(a), Date.parse(b)];
  if (Number.isNaN(y)) return a;
  if (Number.isNaN(x)) return b;
  return (later ? y > x : y < x) ? b : a;
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
    firstSeen: pickTime(stored.firstSeen, repeat.firstSeen, false),
    lastSeen: pickTime(stored.lastSeen, repeat.lastSeen, true),
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

/**
 * Applies a triage action; returns undefined when the status change is not allowed. Asking for the status
 * the alert already has is refused too: another officer made that change first, and saying it succeeded
 * would put it on the audit trail twice.
 */
export function applyAlertChange(alert: Alert, change: AlertStatusChange): Alert | undefined {
  const at = change.at ?? new Date().toISOString();
  const timeline = [...alert.timeline];
  let { status, assignee } = alert;
  if (change.status) {
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
