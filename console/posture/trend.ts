import { dayZone, type AlertDayGroup, type Scope, type Store } from '../../store/index.js';
import { DEFAULT_TIME_ZONE, nextZoneDay, zoneDate, zoneDayStart } from '../../core/index.js';
import { departmentScore, OPEN_ALERT_STATUSES, systemScore, type AlertGroup, type Score } from './score.js';

export interface TrendDay {
  /** YYYY-MM-DD in the configured `timeZone`. */
  day: string;
  /** Departments with alerts that day, most alerts first, then by id. */
  departments: { id: string; alerts: number; open: number; alertRisk: number }[];
}

/** The alert problems of one day: (system, rule) over every department row, as AlertStore.problems groups them. */
function problemsOf(groups: readonly AlertDayGroup[]): Map<string, { department?: string; groups: AlertGroup[] }> {
  const merged = new Map<string, AlertDayGroup>();
  for (const g of groups) {
    if (g.system === undefined) continue;
    const key = `${g.system}\u0000${g.ruleId}`;
    const seen = merged.get(key);
    if (!seen) {
      merged.set(key, g);
      continue;
    }
    // A (system, rule) split over departments (a system that moved) counts as one problem, the larger department name kept, as max() does.
    const department = [seen.department, g.department].filter((d) => d !== undefined).sort().pop();
    merged.set(key, {
      ...seen, ...(department !== undefined ? { department } : {}), count: seen.count + g.count, maxPriority: Math.max(seen.maxPriority, g.maxPriority),
      lastSeen: seen.lastSeen > g.lastSeen ? seen.lastSeen : g.lastSeen,
    });
  }
  const bySystem = new Map<string, { department?: string; groups: AlertGroup[] }>();
  const sorted = [...merged.values()].sort((a, b) => (a.system! < b.system! ? -1 : a.system! > b.system! ? 1 : a.ruleId < b.ruleId ? -1 : a.ruleId > b.ruleId ? 1 : 0));
  for (const p of sorted) {
    const entry = bySystem.get(p.system!) ?? { ...(p.department !== undefined ? { department: p.department } : {}), groups: [] };
    entry.groups.push({ ruleId: p.ruleId, ruleTitle: p.ruleTitle, count: p.count, maxPriority: p.maxPriority, lastSeen: p.lastSeen });
    bySystem.set(p.system!, entry);
  }
  return bySystem;
}

function groupByDay(groups: readonly AlertDayGroup[]): Map<number, AlertDayGroup[]> {
  const byDay = new Map<number, AlertDayGroup[]>();
  for (const g of groups) {
    const day = Date.parse(g.day);
    byDay.set(day, [...(byDay.get(day) ?? []), g]);
  }
  return byDay;
}

/**
 * Alerts per day (by last seen) and department for the last `days` days, with that day's alert risk
 * (its open alert groups scored as at the end of the day): two grouped store queries for the whole range.
 */
export async function postureTrend(
  store: Store, scope: Scope | undefined, days: number, now = new Date(), zoneName = DEFAULT_TIME_ZONE,
): Promise<TrendDay[]> {
  // The zone the store groups by, checked once (an unknown one is SW_ERR_STORE_INVALID_QUERY, 400), for both sides' days.
  const timeZone = dayZone(zoneName);
  const withScope = scope ? { scope } : {};
  const inventory = await store.assets.getInventory(scope);
  const levelOf = new Map(inventory.systems.map((s) => [s.id, s.mlpsLevel]));
  // Days start at local midnight in the zone: 23 or 25 hours long across a daylight-saving switch.
  const starts = [zoneDayStart(timeZone, now.getTime())];
  while (starts.length < days) starts.unshift(zoneDayStart(timeZone, starts[0]! - 1));
  const end = nextZoneDay(timeZone, starts[starts.length - 1]!);
  const range = { from: new Date(starts[0]!).toISOString(), to: new Date(end).toISOString(), ...withScope };
  const options = { timeZone, openStatuses: OPEN_ALERT_STATUSES };
  // Counts take every alert; risk only the open ones, as the posture score does (a false positive is no risk).
  const [groups, openGroups] = await Promise.all([
    // Open as the posture counts them: not marked by an active suppression (triaged noise).
    store.alerts.daily(range, options), store.alerts.daily({ ...range, status: [...OPEN_ALERT_STATUSES], suppressed: false }, options),
  ]);
  const byDay = groupByDay(groups);
  const openByDay = groupByDay(openGroups);
  return starts.map((start, i) => {
    const ofDay = byDay.get(start) ?? [];
    const dayEnd = new Date(Math.min(now.getTime(), starts[i + 1] ?? end));
    const risks = new Map<string, Score[]>();
    for (const [system, { department, groups: alerts }] of problemsOf(openByDay.get(start) ?? [])) {
      if (!department) continue;
      const score = systemScore({ system, mlpsLevel: levelOf.get(system) ?? 1, alerts, backup: { policy: false, sites: {} }, sources: { expected: 0, silent: [] } }, dayEnd);
      risks.set(department, [...(risks.get(department) ?? []), score]);
    }
    const counts = new Map<string, { alerts: number; open: number }>();
    for (const g of ofDay) {
      if (g.department === undefined) continue;
      const c = counts.get(g.department) ?? { alerts: 0, open: 0 };
      c.alerts += g.count;
      c.open += g.open;
      counts.set(g.department, c);
    }
    const departments = [...counts].map(([id, c]) => ({ id, alerts: c.alerts, open: c.open, alertRisk: departmentScore(risks.get(id) ?? []).score }))
      .sort((a, b) => b.alerts - a.alerts || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { day: zoneDate(timeZone, start), departments };
  });
}
