import { expectedSources, sourceStatuses, type SourceStatus } from '../../analyzers/index.js';
import type { BusinessSystem, Department, Inventory } from '../../core/index.js';
import type { Scope, Store, TimeRange } from '../../store/index.js';
import { latestBackups, SITES, type SystemBackups } from './backups.js';
import { backupPoints, OPEN_ALERT_STATUSES, riskScore, type BackupState, type Score } from './score.js';

export interface SystemPosture extends Score {
  id: string;
  name: string;
  department: string;
  mlpsLevel: number;
  openAlerts: number;
  prioritySum: number;
  maxPriority: number;
  backup: BackupState;
  sources: { expected: number; silent: string[] };
}

export interface DepartmentPosture extends Score {
  id: string;
  name: string;
  systems: number;
  openAlerts: number;
  prioritySum: number;
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
 * request waits for a fresh one, so an answer is never older than that.
 */
export function cachedCoverage(events: Store['events'], silentAfterSeconds: number, ttlMs = 60_000, maxStaleMs = 5 * ttlMs): CoverageSource {
  const cache = new Map<string, { at: number; statuses: Promise<SourceStatus[]>; refreshing?: boolean }>();
  return (inventory, scope, now) => {
    const key = scope?.departments ? [...scope.departments].sort().join('\u0000') : '*';
    const compute = () => sourceStatuses(events, expectedSources(inventory, silentAfterSeconds), now, scope);
    const hit = cache.get(key);
    if (!hit || now.getTime() - hit.at >= maxStaleMs) {
      const statuses = compute();
      cache.set(key, { at: now.getTime(), statuses });
      statuses.catch(() => cache.delete(key));
      return statuses;
    }
    if (now.getTime() - hit.at >= ttlMs && !hit.refreshing) {
      hit.refreshing = true;
      compute().then(
        (statuses) => cache.set(key, { at: now.getTime(), statuses: Promise.resolve(statuses) }),
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
  if (backups?.drill) state.drill = backups.drill.status;
  return state;
}

/**
 * Risk per system and department from grouped queries only: two grouped alert aggregations, the
 * recent backup results, and the (cached) source statuses; events are never loaded one by one.
 */
export async function computePosture(
  store: Store, coverage: CoverageSource, scope: Scope | undefined, range: TimeRange, now = new Date(),
): Promise<Posture> {
  const inventory = await store.assets.getInventory(scope);
  const alertQuery = { status: [...OPEN_ALERT_STATUSES], ...range, ...(scope ? { scope } : {}) };
  const [bySystem, byDepartment, backups, statuses] = await Promise.all([
    store.alerts.priorityBy(alertQuery, 'system'),
    store.alerts.priorityBy(alertQuery, 'department'),
    latestBackups(store.jobResults, scope, now, inventory.systems.map((s) => s.id)),
    coverage(inventory, scope, now),
  ]);
  const alertsOf = new Map(bySystem.map((bucket) => [bucket.key, bucket]));
  const departmentAlerts = new Map(byDepartment.map((bucket) => [bucket.key, bucket]));
  const sourcesOf = new Map<string, SourceStatus[]>();
  for (const status of statuses) sourcesOf.set(status.system, [...(sourcesOf.get(status.system) ?? []), status]);

  const systems = inventory.systems.map((system): SystemPosture => {
    const alerts = alertsOf.get(system.id);
    const sources = sourcesOf.get(system.id) ?? [];
    const silent = sources.filter((s) => s.silent).map((s) => s.name);
    const backup = backupState(system, backups.get(system.id));
    return {
      id: system.id, name: system.name, department: system.department, mlpsLevel: system.mlpsLevel,
      ...riskScore({
        openAlerts: alerts?.count ?? 0, prioritySum: alerts?.prioritySum ?? 0, backupPoints: backupPoints(backup),
        expectedSources: sources.length, silentSources: silent.length,
      }),
      openAlerts: alerts?.count ?? 0, prioritySum: alerts?.prioritySum ?? 0, maxPriority: alerts?.maxPriority ?? 0,
      backup, sources: { expected: sources.length, silent },
    };
  });
  const departments = inventory.departments.map((department: Department): DepartmentPosture => {
    const own = systems.filter((s) => s.department === department.id);
    const alerts = departmentAlerts.get(department.id);
    const expected = own.reduce((n, s) => n + s.sources.expected, 0);
    const silent = own.reduce((n, s) => n + s.sources.silent.length, 0);
    return {
      id: department.id, name: department.name, systems: own.length,
      ...riskScore({
        openAlerts: alerts?.count ?? 0, prioritySum: alerts?.prioritySum ?? 0,
        backupPoints: Math.max(0, ...own.map((s) => s.components.backup)), expectedSources: expected, silentSources: silent,
      }),
      openAlerts: alerts?.count ?? 0, prioritySum: alerts?.prioritySum ?? 0, sources: { expected, silent },
    };
  });
  return { at: now.toISOString(), departments, systems };
}

/** Riskiest first; ties by id so the order is stable. */
export const byRisk = <T extends { score: number; id: string }>(a: T, b: T) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
