import {
  alertId, alertPriority, type Alert, type BusinessSystem, type Inventory, type LogSource, type RuleLevel,
} from '../../core/index.js';
import type { AlertStore, EventStore, Scope, SourceSeen } from '../../store/index.js';

/** A log source the inventory expects to hear from, resolved to one system. */
export interface ExpectedSource {
  system: string;
  department: string;
  mlpsLevel: number;
  name: string;
  host?: string;
  dataset?: string;
  silentAfterSeconds: number;
}

export interface SourceStatus extends ExpectedSource {
  /** Newest event seen from the source within the look-back, if any. */
  lastSeen?: string;
  silent: boolean;
}

export interface SystemCoverage {
  system: string;
  department: string;
  expected: number;
  reporting: number;
  /** reporting / expected, 0…1; 1 for a system that expects nothing. */
  ratio: number;
  silent: string[];
}

export const SILENT_SOURCE_RULE = {
  id: 'shouwang-silent-source',
  title: '日志源静默 / Log source silent',
  level: 'medium' as RuleLevel,
};

/**
 * 安全审计 (audit records kept) and 集中管控 (audit data collected centrally) per MLPS level; level 2 has no
 * 集中管控, so its 审计管理 clause stands in. Level 1 asks neither.
 */
const SILENT_SOURCE_CLAUSES: Record<number, string[]> = {
  2: ['7.1.4.3', '7.1.5.2'],
  3: ['8.1.4.3', '8.1.5.4'],
  4: ['9.1.4.3', '9.1.5.4'],
};

/** How far back to look for the last event of a silent source. */
const LOOK_BACK_MS = 30 * 86_400_000;

export function expectedSources(inventory: Inventory, defaultSilentAfterSeconds: number): ExpectedSource[] {
  return inventory.systems.flatMap((system) => sourcesOf(system, defaultSilentAfterSeconds));
}

function sourcesOf(system: BusinessSystem, defaultSilentAfterSeconds: number): ExpectedSource[] {
  const base = { system: system.id, department: system.department, mlpsLevel: system.mlpsLevel };
  const declared: LogSource[] = system.logSources ?? system.hosts.map((host) => ({ host }));
  return declared.map((source) => ({
    ...base,
    name: source.name ?? ([source.host, source.dataset].filter(Boolean).join(' ') || system.id),
    ...(source.host ? { host: source.host } : {}),
    ...(source.dataset ? { dataset: source.dataset } : {}),
    silentAfterSeconds: source.silentAfter ?? defaultSilentAfterSeconds,
  }));
}

/**
 * When each expected source last spoke, from grouped store queries (the newest event per system, host
 * and dataset): first over the longest silence window, which finds every source that reports; then,
 * for the systems of the silent ones only, over the 30-day look-back for when they last spoke. A
 * source declared by host alone takes its host's newest dataset, one declared by dataset any host's.
 */
export async function sourceStatuses(
  events: EventStore, expected: readonly ExpectedSource[], now: Date, scope?: Scope,
): Promise<SourceStatus[]> {
  const allowed = scope?.departments ? new Set(scope.departments) : undefined;
  const wanted = expected.filter((source) => !allowed || allowed.has(source.department));
  if (wanted.length === 0) return [];
  const ask = async (sinceMs: number, sources: readonly ExpectedSource[]) => {
    const seen = await events.sourcesSeen({
      since: new Date(sinceMs).toISOString(), systems: [...new Set(sources.map((s) => s.system))], ...(scope ? { scope } : {}),
    });
    const bySystem = new Map<string, SourceSeen[]>();
    for (const source of seen) {
      const list = bySystem.get(source.system);
      if (list) list.push(source);
      else bySystem.set(source.system, [source]);
    }
    return bySystem;
  };
  const longest = Math.max(...wanted.map((source) => source.silentAfterSeconds));
  const recent = await ask(now.getTime() - longest * 1000, wanted);
  const statuses = wanted.map((source): SourceStatus => {
    const lastSeen = newestOf(source, recent);
    const silent = lastSeen === undefined || Date.parse(lastSeen) < now.getTime() - source.silentAfterSeconds * 1000;
    return { ...source, ...(lastSeen ? { lastSeen } : {}), silent };
  });
  const quiet = statuses.filter((status) => status.lastSeen === undefined);
  if (quiet.length) {
    const older = await ask(now.getTime() - LOOK_BACK_MS, quiet);
    for (const status of quiet) {
      const lastSeen = newestOf(status, older);
      if (lastSeen) status.lastSeen = lastSeen;
    }
  }
  return statuses;
}

function newestOf(source: ExpectedSource, bySystem: ReadonlyMap<string, readonly SourceSeen[]>): string | undefined {
  let newest: string | undefined;
  for (const candidate of bySystem.get(source.system) ?? []) {
    if (source.host !== undefined && candidate.host !== source.host) continue;
    if (source.dataset !== undefined && candidate.dataset !== source.dataset) continue;
    if (newest === undefined || Date.parse(candidate.lastSeen) > Date.parse(newest)) newest = candidate.lastSeen;
  }
  return newest;
}

export function coverageBySystem(statuses: readonly SourceStatus[]): SystemCoverage[] {
  const bySystem = new Map<string, SystemCoverage>();
  for (const status of statuses) {
    let coverage = bySystem.get(status.system);
    if (!coverage) {
      coverage = { system: status.system, department: status.department, expected: 0, reporting: 0, ratio: 1, silent: [] };
      bySystem.set(status.system, coverage);
    }
    coverage.expected += 1;
    if (status.silent) coverage.silent.push(status.name);
    else coverage.reporting += 1;
    coverage.ratio = coverage.reporting / coverage.expected;
  }
  return [...bySystem.values()];
}

/** One alert per silence episode: the id is keyed on the last event seen, so it stays the same until the source speaks again. */
export function silentSourceAlert(status: SourceStatus, now: Date): Alert {
  const groupKey = `${status.system}|${status.host ?? '*'}|${status.dataset ?? '*'}`;
  const since = status.lastSeen ?? 'never';
  const at = now.toISOString();
  return {
    id: alertId(SILENT_SOURCE_RULE.id, groupKey, since),
    rule: { ...SILENT_SOURCE_RULE },
    mlps: SILENT_SOURCE_CLAUSES[status.mlpsLevel] ?? [],
    department: status.department,
    system: status.system,
    mlpsLevel: status.mlpsLevel,
    priority: alertPriority(SILENT_SOURCE_RULE.level, status.mlpsLevel),
    status: 'new',
    timeline: [{
      at, actor: 'shouwang', action: 'raised',
      comment: `${status.name}: ${status.lastSeen ? `最后事件 last event ${status.lastSeen}` : '30 天内无事件 no event in 30 days'}`,
    }],
    firstSeen: at,
    lastSeen: at,
    count: 1,
    sampleEventIds: [],
    groupKey,
  };
}

/**
 * Raises an alert for each newly silent source; an episode already alerted is left as the officers left it.
 * Answers the alerts to notify: one a triage suppression covers is stored (marked), not answered.
 */
export async function raiseSilentSourceAlerts(alerts: AlertStore, statuses: readonly SourceStatus[], now: Date): Promise<Alert[]> {
  const raised: Alert[] = [];
  for (const status of statuses) {
    if (!status.silent) continue;
    const alert = silentSourceAlert(status, now);
    if (await alerts.get(alert.id)) continue;
    raised.push(alert);
  }
  if (!raised.length) return raised;
  const quiet = new Set((await alerts.upsert(raised)).suppressed ?? []);
  return raised.filter((alert) => !quiet.has(alert.id));
}
