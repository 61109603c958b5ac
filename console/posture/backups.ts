import { BACKUP_CHECK_KIND, DRILL_KIND } from '../../backup/index.js';
import type { JobResult } from '../../core/index.js';
import type { JobResultStore, Scope } from '../../store/index.js';
import { BACKUP_LOOKBACK_DAYS, DRILL_LOOKBACK_DAYS, type CheckStatus, type Site } from './score.js';

/** The latest check run of one system at one site (or across sites): every check of that run. */
export interface LatestRun {
  runId: string;
  finishedAt: string;
  status: CheckStatus;
  results: JobResult[];
}

export interface SystemBackups {
  sites: Partial<Record<Site | 'cross-site', LatestRun>>;
  drill?: JobResult;
}

const RANK: Record<CheckStatus, number> = { pass: 0, warn: 1, fail: 2 };
export const worse = (a: CheckStatus, b: CheckStatus): CheckStatus => (RANK[a] >= RANK[b] ? a : b);

const PAGE = 1000;
const DAY_MS = 86_400_000;
/**
 * Newest check results read per system and site: a run has up to seven per site (presence, freshness,
 * completeness, integrity, retention, ransomware, immutability) and one cross-site; runs rarely overlap.
 */
const CHECKS_PER_SITE = 8;

async function* recent(store: JobResultStore, kind: string, from: string, scope: Scope | undefined, system?: string) {
  let after: string | undefined;
  do {
    const page = await store.search(
      { kind, from, ...(scope ? { scope } : {}), ...(system ? { system } : {}) },
      { size: PAGE, ...(after ? { after } : {}) },
    );
    yield* page.items;
    after = page.next;
  } while (after);
}

/** The newest check results of each system and site, in one grouped store query. */
function newestChecks(store: JobResultStore, systems: readonly string[], from: string, scope: Scope | undefined) {
  return store.latestPerSystem({
    kind: BACKUP_CHECK_KIND, from, ...(scope ? { scope } : {}), ...(systems.length === 1 ? { system: systems[0]! } : {}),
  }, CHECKS_PER_SITE);
}

/**
 * The latest backup check run per system and site and the latest drill per system, read newest
 * first from the results of the look-back windows (the scope goes into every store query).
 */
export async function latestBackups(
  store: JobResultStore, scope: Scope | undefined, now: Date, systems: readonly string[],
): Promise<Map<string, SystemBackups>> {
  const bySystem = new Map<string, SystemBackups>();
  const entry = (id: string) => {
    let found = bySystem.get(id);
    if (!found) bySystem.set(id, (found = { sites: {} }));
    return found;
  };
  const checksFrom = new Date(now.getTime() - BACKUP_LOOKBACK_DAYS * DAY_MS).toISOString();
  const wanted = new Set(systems);
  for (const result of await newestChecks(store, systems, checksFrom, scope)) {
    if (!result.system || !wanted.has(result.system)) continue;
    const site = result.site ?? 'cross-site';
    const runId = typeof result.detail.runId === 'string' ? result.detail.runId : result.id;
    const sites = entry(result.system).sites;
    const run = sites[site];
    if (!run) sites[site] = { runId, finishedAt: result.finishedAt, status: result.status, results: [result] };
    else if (run.runId === runId) {
      run.status = worse(run.status, result.status);
      run.results.push(result);
    }
  }
  const drillsFrom = new Date(now.getTime() - DRILL_LOOKBACK_DAYS * DAY_MS).toISOString();
  // Drills are few (monthly or so): one paged read for all systems, or one system's.
  for await (const result of recent(store, DRILL_KIND, drillsFrom, scope, systems.length === 1 ? systems[0] : undefined)) {
    if (!result.system || !wanted.has(result.system)) continue;
    const found = entry(result.system);
    found.drill ??= result;
  }
  return bySystem;
}
