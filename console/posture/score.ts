/**
 * The risk score (0–100) of a system or a department. Each distinct problem has a weight w in
 * [0, 1); weights combine like independent chances, so every further problem adds less
 * (diminishing returns) and no sum is ever capped:
 *
 *   risk = 100 × (1 − Π (1 − wᵢ))
 *
 * Problems of a system, each counted once (L = MLPS level / 4: level 4 weighs 1, level 1 weighs 0.25):
 *   open alerts, one problem per rule   w = 0.8 × maxPriority / 20 × 0.5^(age / 7 days)
 *                                         (priority = rule level × MLPS level, age = since its newest last seen)
 *   a backup site (同城, 异地)          w = 0.5 × L when its latest check run failed or none ran in
 *                                         BACKUP_LOOKBACK_DAYS; 0.15 × L when it warned
 *   the sites' copies disagree           w = 0.5 × L when the latest cross-site check failed while neither
 *                                         site is itself counted as failed (one problem, counted once)
 *   the latest restore drill             w = 0.3 × L failed; 0.1 × L warned or none within DRILL_LOOKBACK_DAYS
 *                                         (a restore never tried is no proof it works)
 *   silent log sources, one problem      w = 0.6 × L × silent / expected
 * Silent-source and backup-failure alerts are not counted again as alerts: the silent sources and
 * the failed checks are those problems.
 *
 * The components (alerts, backup, coverage) are the same union over each kind's problems alone.
 * A department is its worst system plus half of the mean of its other systems' risk over the
 * headroom left: worst + (100 − worst) × ½ × mean(others) / 100, so one bad system is never
 * averaged away and more bad systems still raise it.
 */
export const ALERT_WEIGHT = 0.8;
export const ALERT_HALF_LIFE_DAYS = 7;
export const SITE_FAIL_WEIGHT = 0.5;
export const SITE_WARN_WEIGHT = 0.15;
export const DRILL_FAIL_WEIGHT = 0.3;
export const DRILL_WARN_WEIGHT = 0.1;
export const SILENT_WEIGHT = 0.6;
/** A site with no check run in this many days counts as failed. */
export const BACKUP_LOOKBACK_DAYS = 8;
/** Drills are rarer (monthly, quarterly): the latest within this many days counts. */
export const DRILL_LOOKBACK_DAYS = 120;

export const OPEN_ALERT_STATUSES = ['new', 'acknowledged', 'in_progress'] as const;

export type CheckStatus = 'pass' | 'warn' | 'fail';
export type Site = 'same-city' | 'off-site';
export const SITES: readonly Site[] = ['same-city', 'off-site'];

export interface BackupState {
  /** Whether the system has a backup policy at all; without one, backup adds nothing. */
  policy: boolean;
  /** Worst status of the latest check run per site; absent: no run within the look-back. */
  sites: { 'same-city'?: CheckStatus; 'off-site'?: CheckStatus };
  /** Status of the latest cross-site agreement check (same-city and off-site copies hold the same sets). */
  crossSite?: CheckStatus;
  drill?: CheckStatus;
}

/** Open alerts of one rule on one system (store: AlertStore.problems). */
export interface AlertGroup {
  ruleId: string;
  ruleTitle: string;
  count: number;
  maxPriority: number;
  lastSeen: string;
}

export type ReasonKind = 'alert' | 'backup' | 'drill' | 'coverage';

/** One problem behind a score: what it is and how much it weighs on its own (0–100). */
export interface Reason {
  kind: ReasonKind;
  /** 0–100: this problem alone would give this score. */
  points: number;
  system: string;
  /** Rule id (alert), site (backup) or absent. */
  ref?: string;
  /** zh-CN, and the same in English. */
  text: string;
  textEn: string;
}

export interface ScoreComponents {
  alerts: number;
  backup: number;
  coverage: number;
}

export interface Score {
  score: number;
  /**
   * Nothing is measured: no expected log source, no backup policy and no open alert (a system), or no
   * measured system (a department). Its score 0 means "no data / 无数据", never "no risk".
   */
  noData?: boolean;
  components: ScoreComponents;
  /** Heaviest first. */
  reasons: Reason[];
}

export interface SystemProblems {
  system: string;
  mlpsLevel: number;
  alerts: readonly AlertGroup[];
  backup: BackupState;
  sources: { expected: number; silent: readonly string[] };
}

const DAY_MS = 86_400_000;
const SITE_NAMES: Record<Site, [string, string]> = { 'same-city': ['同城备份', 'Same-city backup'], 'off-site': ['异地备份', 'Off-site backup'] };

/** A weight as whole points; the epsilon keeps 0.3 × 0.75 at 23, not 22 (binary fractions). */
const points = (weight: number) => Math.round(100 * weight + 1e-9);

/** 100 × (1 − Π (1 − w)), rounded to a whole point. */
export function union(weights: readonly number[]): number {
  let keep = 1;
  for (const w of weights) keep *= 1 - Math.min(Math.max(w, 0), 0.999);
  return points(1 - keep);
}

const levelWeight = (mlpsLevel: number) => Math.min(Math.max(mlpsLevel, 1), 4) / 4;

export function alertWeight(group: AlertGroup, now: Date): number {
  const ageDays = Math.max(0, now.getTime() - Date.parse(group.lastSeen)) / DAY_MS;
  return ALERT_WEIGHT * (Math.min(group.maxPriority, 20) / 20) * 0.5 ** (ageDays / ALERT_HALF_LIFE_DAYS);
}

interface Weighted extends Omit<Reason, 'points'> {
  weight: number;
}

function problemsOf(input: SystemProblems, now: Date): Weighted[] {
  const level = levelWeight(input.mlpsLevel);
  const out: Weighted[] = input.alerts.map((group) => ({
    kind: 'alert', system: input.system, ref: group.ruleId, weight: alertWeight(group, now),
    text: `${group.ruleTitle}（${group.count} 条，优先级 ${group.maxPriority}）`,
    textEn: `${group.ruleTitle} (${group.count} alert${group.count === 1 ? '' : 's'}, priority ${group.maxPriority})`,
  }));
  if (input.backup.policy) {
    for (const site of SITES) {
      const status = input.backup.sites[site];
      if (status === 'pass') continue;
      const weight = (status === 'warn' ? SITE_WARN_WEIGHT : SITE_FAIL_WEIGHT) * level;
      const [zh, en] = SITE_NAMES[site];
      const [stateZh, stateEn] = status === undefined ? [`${BACKUP_LOOKBACK_DAYS} 天内未核验`, `not checked in ${BACKUP_LOOKBACK_DAYS} days`]
        : status === 'warn' ? ['核验告警', 'check warned'] : ['核验失败', 'check failed'];
      out.push({ kind: 'backup', system: input.system, ref: site, weight, text: `${zh}：${stateZh}`, textEn: `${en}: ${stateEn}` });
    }
    // Copies that disagree (checksums differ, off-site behind past the RPO) while each site passes on its own;
    // a site already failed (no set there, say) is that problem, not a second one. A warning is a copy on its way.
    const siteFailed = SITES.some((site) => input.backup.sites[site] === undefined || input.backup.sites[site] === 'fail');
    if (input.backup.crossSite === 'fail' && !siteFailed) {
      out.push({
        kind: 'backup', system: input.system, ref: 'cross-site', weight: SITE_FAIL_WEIGHT * level,
        text: '同城与异地备份不一致', textEn: 'Same-city and off-site copies disagree',
      });
    }
    const drill = input.backup.drill;
    if (drill === undefined) {
      out.push({
        kind: 'drill', system: input.system, weight: DRILL_WARN_WEIGHT * level,
        text: `${DRILL_LOOKBACK_DAYS} 天内未做恢复演练`, textEn: `No restore drill in ${DRILL_LOOKBACK_DAYS} days`,
      });
    } else if (drill === 'fail' || drill === 'warn') {
      out.push({
        kind: 'drill', system: input.system, weight: (drill === 'fail' ? DRILL_FAIL_WEIGHT : DRILL_WARN_WEIGHT) * level,
        text: drill === 'fail' ? '最近一次恢复演练失败' : '最近一次恢复演练告警',
        textEn: drill === 'fail' ? 'Latest restore drill failed' : 'Latest restore drill warned',
      });
    }
  }
  const { expected, silent } = input.sources;
  if (expected && silent.length) {
    out.push({
      kind: 'coverage', system: input.system, weight: SILENT_WEIGHT * level * (silent.length / expected),
      text: `${silent.length}/${expected} 个日志源静默：${silent.join('，')}`,
      textEn: `${silent.length} of ${expected} log sources silent: ${silent.join(', ')}`,
    });
  }
  return out;
}

const toReason = ({ weight, ...rest }: Weighted): Reason => ({ ...rest, points: points(weight) });
const byPoints = (a: Reason, b: Reason) => b.points - a.points || a.text.localeCompare(b.text);

export function systemScore(input: SystemProblems, now: Date): Score {
  const problems = problemsOf(input, now);
  const of = (...kinds: ReasonKind[]) => union(problems.filter((p) => kinds.includes(p.kind)).map((p) => p.weight));
  return {
    score: union(problems.map((p) => p.weight)),
    noData: !input.backup.policy && input.sources.expected === 0 && input.alerts.length === 0,
    components: { alerts: of('alert'), backup: of('backup', 'drill'), coverage: of('coverage') },
    reasons: problems.map(toReason).sort(byPoints),
  };
}

/**
 * A department's score from its systems' scores (see the formula above); reasons: the heaviest of all its systems.
 * Systems with no data are left out (they would pull the mean down as if they were safe); with none left the
 * department has no data either.
 */
export function departmentScore(all: readonly Score[], reasonLimit = 10): Score {
  const systems = all.filter((s) => !s.noData);
  const combine = (values: number[]) => {
    if (!values.length) return 0;
    const sorted = [...values].sort((a, b) => b - a);
    const worst = sorted[0]!;
    const rest = sorted.slice(1);
    const mean = rest.length ? rest.reduce((n, v) => n + v, 0) / rest.length : 0;
    return Math.round(worst + ((100 - worst) * 0.5 * mean) / 100);
  };
  return {
    score: combine(systems.map((s) => s.score)),
    noData: systems.length === 0,
    components: {
      alerts: combine(systems.map((s) => s.components.alerts)),
      backup: combine(systems.map((s) => s.components.backup)),
      coverage: combine(systems.map((s) => s.components.coverage)),
    },
    reasons: systems.flatMap((s) => s.reasons).sort(byPoints).slice(0, reasonLimit),
  };
}
