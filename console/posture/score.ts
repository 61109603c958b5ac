/**
 * The risk score (0–100) of a system or a department, kept simple enough to explain on one line:
 *
 *   score = min(100, alerts + backup + coverage)
 *   alerts   = min(60, Σ priority of open alerts)            priority = rule level (1–5) × MLPS level (1–4), 1…20;
 *                                                             open = new, acknowledged, in_progress
 *   backup   = min(30, Σ per site (同城, 异地): 15 when the latest check run failed or there is none
 *                       within BACKUP_LOOKBACK_DAYS, 5 when it warned; + latest drill: 10 failed, 5 warned)
 *                       — only for systems with a backup policy
 *   coverage = round(20 × silent sources / expected sources)
 *
 * A department is scored the same way over its aggregates: all its open alerts, the worst backup
 * points among its systems, and its silent share of all its expected sources.
 */
export const ALERT_POINTS_MAX = 60;
export const BACKUP_POINTS_MAX = 30;
export const COVERAGE_POINTS_MAX = 20;
export const SITE_FAIL_POINTS = 15;
export const SITE_WARN_POINTS = 5;
export const DRILL_FAIL_POINTS = 10;
export const DRILL_WARN_POINTS = 5;
/** A site with no check run in this many days counts as failed. */
export const BACKUP_LOOKBACK_DAYS = 8;
/** Drills are rarer (monthly, quarterly): the latest within this many days counts. */
export const DRILL_LOOKBACK_DAYS = 120;

export const OPEN_ALERT_STATUSES = ['new', 'acknowledged', 'in_progress'] as const;

export type CheckStatus = 'pass' | 'warn' | 'fail';

export interface BackupState {
  /** Whether the system has a backup policy at all; without one, backup adds nothing. */
  policy: boolean;
  /** Worst status of the latest check run per site; absent: no run within the look-back. */
  sites: { 'same-city'?: CheckStatus; 'off-site'?: CheckStatus };
  drill?: CheckStatus;
}

export interface ScoreInput {
  openAlerts: number;
  prioritySum: number;
  backupPoints: number;
  expectedSources: number;
  silentSources: number;
}

export interface ScoreComponents {
  alerts: number;
  backup: number;
  coverage: number;
}

export interface Score {
  score: number;
  components: ScoreComponents;
}

const sitePoints = (status: CheckStatus | undefined) =>
  status === undefined || status === 'fail' ? SITE_FAIL_POINTS : status === 'warn' ? SITE_WARN_POINTS : 0;

export function backupPoints(state: BackupState): number {
  if (!state.policy) return 0;
  const drill = state.drill === 'fail' ? DRILL_FAIL_POINTS : state.drill === 'warn' ? DRILL_WARN_POINTS : 0;
  return Math.min(BACKUP_POINTS_MAX, sitePoints(state.sites['same-city']) + sitePoints(state.sites['off-site']) + drill);
}

export function riskScore(input: ScoreInput): Score {
  const components: ScoreComponents = {
    alerts: Math.min(ALERT_POINTS_MAX, input.prioritySum),
    backup: Math.min(BACKUP_POINTS_MAX, input.backupPoints),
    coverage: input.expectedSources ? Math.round((COVERAGE_POINTS_MAX * input.silentSources) / input.expectedSources) : 0,
  };
  return { score: Math.min(100, components.alerts + components.backup + components.coverage), components };
}
