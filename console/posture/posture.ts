import { expectedSources, sourceStatuses, type SourceStatus } from '../../analyzers/index.js';
import type { BusinessSystem, Department, Inventory } from '../../core/index.js';
import type { Scope, Store, TimeRange } from '../../store/index.js';
import { SILENT_SOURCE_RULE } from '../../analyzers/index.js';
import { isBackupAlertRule } from '../../backup/index.js';
import { latestBackups, type SystemBackups } from './backups.js';
import { departmentScore, OPEN_ALERT_STATUSES, SITES, systemScore, type AlertGroup, type BackupState, type Score } from './score.js';

export interface SystemPosture extends Score {
  id: string;
  name: string;
  nameEn?: string;
  department: string;
  mlpsLevel: number;
  openAlerts: number;
  maxPriority: number;
  backup: BackupState;
  sources: { expected: number; silent: string[] };
}

export interface DepartmentPosture extends Score {
  id: string;
  name: string;
  nameEn?: string;
  systems: number;
  openAlerts: number;
  sources: { expected: number; silent: number };
}

export interface Posture {
  at: string;
  departments: DepartmentPosture[];
  systems: SystemPosture[];
}

/** Where the silent-source state comes from: the analyzers' per-source queries, cached for a while. */
export type CoverageSource = (inventory: Inventory, scope: Scope | undefined, now: Date) => Promise<SourceStatus[]>;

/**
 * Source status changes on the scale of `silentAfter` (an hour by default), so it is computed at most
 * once per `ttlMs` per scope. Past the ttl the last answer is still served while a fresh one is
 * computed in the background; past `maxStaleMs` (after a quiet night, or while refreshes fail) the
 * request waits for a fresh one, so an answer is never older than that. An answer is for one set of
 * expected sources: after an inventory change (a system or log source added or removed, through the
 * console, the file or another process) the next request computes a fresh one.
 */
export function cachedCoverage(events: Store['events'], silentAfterSeconds: number, ttlMs = 60_000, maxStaleMs = 5 * ttlMs): CoverageSource {
  const cache = new Map<string, { at: number; sources: string; statuses: Promise<SourceStatus[]>; refreshing?: boolean }>();
  return (inventory, scope, now) => {
    const key = scope?.departments ? [...scope.departments].sort().join('\u0000') : '*';
    const expected = expectedSources(inventory, silentAfterSeconds);
    // The store reads an equal copy of the inventory on each request: compared by content, not identity.
    const sources = JSON.stringify(expected);
    const compute = () => sourceStatuses(events, expected, now, scope);
    const hit = cache.get(key);
    if (!hit || hit.sources !== sources || now.getTime() - hit.at >= maxStaleMs) {
      const statuses = compute();
      const entry = { at: now.getTime(), sources, statuses };
      cache.set(key, entry);
      statuses.catch(() => { if (cache.get(key) === entry) cache.delete(key); });
      return statuses;
    }
    if (now.getTime() - hit.at >= ttlMs && !hit.refreshing) {
      hit.refreshing = true;
      compute().then(
        // A refresh started before an inventory change must not put the old sources' answer back.
        (statuses) => { if (cache.get(key) === hit) cache.set(key, { at: now.getTime(), sources, statuses: Promise.resolve(statuses) }); },
        () => { hit.refreshing = false; },
      );
    }
    return hit.statuses;
  };
}

export function backupState(system: BusinessSystem, backups: SystemBackups | undefined): BackupState {
  const state: BackupState = { policy: system.backup !== undefined, sites: {} };
  for (const site of SITES) {
    const run = backups?.sites[site];
    if (run) state.sites[site] = run.status;
  }
  const crossSite = backups?.sites['cross-site'];
  if (crossSite) state.crossSite = crossSite.status;
  if (backups?.drill) state.drill = backups.drill.status;
  return state;
}

/** One system's posture from its open alert groups, backup results and source statuses. */
export function systemPosture(
  system: BusinessSystem, groups: readonly AlertGroup[], backups: SystemBackups | undefined, sources: readonly SourceStatus[], now: Date,
): SystemPosture {
  // Silent-source and backup-failure alerts are the silent sources and failed checks themselves: counted once, there.
  const alerts = groups.filter((g) => g.ruleId !== SILENT_SOURCE_RULE.id && !isBackupAlertRule(g.ruleId));
  const silent = sources.filter((s) => s.silent).map((s) => s.name);
  const backup = backupState(system, backups);
  return {
    id: system.id, name: system.name, ...(system.nameEn ? { nameEn: system.nameEn } : {}), department: system.department,
    mlpsLevel: system.mlpsLevel,
    ...systemScore({ system: system.id, mlpsLevel: system.mlpsLevel, alerts, backup, sources: { expected: sources.length, silent } }, now),
    openAlerts: groups.reduce((n, g) => n + g.count, 0), maxPriority: Math.max(0, ...groups.map((g) => g.maxPriority)),
    backup, sources: { expected: sources.length, silent },
  };
}

/**
 * Risk per system and department from grouped queries only: open alerts grouped by (system, rule),
 * the recent backup results, and the (cached) source statuses; events are never loaded one by one.
 */
export async function computePosture(
  store: Store, coverage: CoverageSource, scope: Scope | undefined, range: TimeRange, now = new Date(),
): Promise<Posture> {
  const inventory = await store.assets.getInventory(scope);
  const [problems, backups, statuses] = await Promise.all([
    // As the triage list: an alert a suppression marks is triaged noise until it ends (stored and in the evidence still).
    store.alerts.problems({ status: [...OPEN_ALERT_STATUSES], suppressed: false, ...range, ...(scope ? { scope } : {}) }),
    latestBackups(store.jobResults, scope, now, inventory.systems.map((s) => s.id)),
    coverage(inventory, scope, now),
  ]);
  const groupsOf = new Map<string, AlertGroup[]>();
  for (const problem of problems) groupsOf.set(problem.system, [...(groupsOf.get(problem.system) ?? []), problem]);
  const sourcesOf = new Map<string, SourceStatus[]>();
  for (const status of statuses) sourcesOf.set(status.system, [...(sourcesOf.get(status.system) ?? []), status]);

  const systems = inventory.systems.map((system) =>
    systemPosture(system, groupsOf.get(system.id) ?? [], backups.get(system.id), sourcesOf.get(system.id) ?? [], now));
  const departments = inventory.departments.map((department: Department): DepartmentPosture => {
    const own = systems.filter((s) => s.department === department.id);
    return {
      id: department.id, name: department.name, ...(department.nameEn ? { nameEn: department.nameEn } : {}), systems: own.length,
      ...departmentScore(own),
      openAlerts: own.reduce((n, s) => n + s.openAlerts, 0),
      sources: { expected: own.reduce((n, s) => n + s.sources.expected, 0), silent: own.reduce((n, s) => n + s.sources.silent.length, 0) },
    };
  });
  return { at: now.toISOString(), departments, systems };
}

/** Riskiest first, those with no data last; ties by id so the order is stable. */
export const byRisk = <T extends { score: number; id: string; noData?: boolean }>(a: T, b: T) =>
  Number(a.noData ?? false) - Number(b.noData ?? false) || b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
