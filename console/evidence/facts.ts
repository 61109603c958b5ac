import type { Alert, BusinessSystem, ChainedAuditEntry, Inventory, JobResult, ShouwangEvent } from '../../core/index.js';
import { expectedSources } from '../../analyzers/index.js';
import type { PageRequest, Page, Scope, Store } from '../../store/index.js';
import { EvidenceErrors } from './errors.js';
import type { AuditFacts, BackupFacts, IntrusionFacts } from './status-rules.js';

/** What to export: one system, one department or everything in the caller's scope, over a period. */
export interface EvidenceSelection {
  system?: string;
  department?: string;
  /** ISO 8601, inclusive. */
  from: string;
  /** ISO 8601, exclusive. */
  to: string;
}

export interface SystemFacts {
  system: BusinessSystem;
  departmentName: string;
  audit: AuditFacts;
  intrusion: IntrusionFacts;
  backup: BackupFacts;
  /** Sample audit records, up to SAMPLE_PER_DATASET per dataset. */
  samples: ShouwangEvent[];
  alerts: Alert[];
  backupChecks: JobResult[];
  drills: JobResult[];
}

export interface EvidenceFacts {
  selection: EvidenceSelection;
  scope?: Scope;
  systems: SystemFacts[];
  auditTrail: ChainedAuditEntry[];
}

export const SAMPLE_PER_DATASET = 100;
const HANDLED = new Set(['resolved', 'false_positive']);
const DAY_MS = 86_400_000;

/** Checks the period and resolves the selection to the systems inside the caller's scope. */
export function selectSystems(inventory: Inventory, selection: EvidenceSelection): BusinessSystem[] {
  const from = Date.parse(selection.from);
  const to = Date.parse(selection.to);
  if (Number.isNaN(from)) throw EvidenceErrors.selection(`from is not a date (ISO 8601): ${selection.from}`);
  if (Number.isNaN(to)) throw EvidenceErrors.selection(`to is not a date (ISO 8601): ${selection.to}`);
  if (from >= to) throw EvidenceErrors.selection(`from ${selection.from} is not before to ${selection.to}`);
  if (selection.system && selection.department) throw EvidenceErrors.selection('give a system or a department, not both');
  if (selection.system) {
    const system = inventory.systems.find((s) => s.id === selection.system);
    if (!system) throw EvidenceErrors.notFound(`system ${selection.system}`);
    return [system];
  }
  if (selection.department) {
    if (!inventory.departments.some((d) => d.id === selection.department)) throw EvidenceErrors.notFound(`department ${selection.department}`);
    return nonEmpty(inventory.systems.filter((s) => s.department === selection.department), `department ${selection.department} has no system`);
  }
  return nonEmpty([...inventory.systems], 'the inventory in the store has no system in your scope (has shouwang start loaded it?)');
}

function nonEmpty(systems: BusinessSystem[], reason: string): BusinessSystem[] {
  if (!systems.length) throw EvidenceErrors.selection(reason);
  return systems;
}

/** Every page of a paged store query, in order. */
async function allPages<T>(fetch: (page: PageRequest) => Promise<Page<T>>): Promise<T[]> {
  const items: T[] = [];
  let after: string | undefined;
  do {
    const page = await fetch({ size: 1000, order: 'asc', ...(after ? { after } : {}) });
    items.push(...page.items);
    after = page.next;
  } while (after);
  return items;
}

export function medianOf(values: readonly number[]): number | undefined {
  if (!values.length) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Seconds from raising to the first triage status change; undefined while nobody acted. */
export function acknowledgeSeconds(alert: Alert): number | undefined {
  const raised = alert.timeline.find((entry) => entry.action === 'raised')?.at ?? alert.firstSeen;
  const first = alert.timeline.find((entry) => entry.action === 'status');
  if (!first) return undefined;
  return Math.max(0, (Date.parse(first.at) - Date.parse(raised)) / 1000);
}

export function intrusionFacts(eventsInPeriod: number, alerts: readonly Alert[]): IntrusionFacts {
  const handled = alerts.filter((a) => HANDLED.has(a.status)).length;
  const acks = alerts.map(acknowledgeSeconds).filter((s): s is number => s !== undefined);
  const median = medianOf(acks);
  return { eventsInPeriod, alerts: alerts.length, handled, open: alerts.length - handled, ...(median !== undefined ? { medianAckSeconds: median } : {}) };
}

export function backupFacts(system: BusinessSystem, checks: readonly JobResult[], drills: readonly JobResult[]): BackupFacts {
  const byTime = (a: JobResult, b: JobResult) => a.finishedAt.localeCompare(b.finishedAt);
  const latestBySite: BackupFacts['latestBySite'] = {};
  const freshness = new Map<string, { ageSeconds: number; targetSeconds: number }>();
  for (const check of [...checks].sort(byTime)) {
    const site = String(check.detail.site ?? check.site ?? 'cross-site');
    latestBySite[site] = check.status;
    if (check.detail.check === 'freshness' && typeof check.detail.ageSeconds === 'number' && typeof check.detail.rpoSeconds === 'number') {
      freshness.set(site, { ageSeconds: check.detail.ageSeconds, targetSeconds: check.detail.rpoSeconds });
    }
  }
  // The latest freshness check per site; across sites the one furthest past its RPO is shown.
  const rpo = [...freshness.values()].sort((a, b) => b.ageSeconds / b.targetSeconds - a.ageSeconds / a.targetSeconds)[0];
  const lastDrill = [...drills].sort(byTime).at(-1);
  const rto = lastDrill?.detail.rto as { targetSeconds?: number; achievedSeconds?: number; met?: boolean } | undefined;
  // A drill in the period that met its RTO counts, even when a later one did not finish.
  const metDrill = [...drills].sort(byTime).reverse().find((d) => (d.detail.rto as { met?: boolean } | undefined)?.met === true);
  const shown = metDrill ?? lastDrill;
  const shownRto = (shown?.detail.rto as typeof rto) ?? rto;
  return {
    hasPolicy: system.backup !== undefined,
    checks: checks.length,
    passed: checks.filter((c) => c.status === 'pass').length,
    failed: checks.filter((c) => c.status === 'fail').length,
    latestBySite,
    ...(rpo ? { rpo } : {}),
    drills: drills.length,
    drillsPassed: drills.filter((d) => d.status === 'pass').length,
    ...(shown ? {
      latestDrill: {
        finishedAt: shown.finishedAt, status: shown.status,
        ...(shownRto?.targetSeconds !== undefined ? { rtoTargetSeconds: shownRto.targetSeconds } : {}),
        ...(shownRto?.achievedSeconds !== undefined ? { rtoAchievedSeconds: shownRto.achievedSeconds } : {}),
        ...(shownRto?.met !== undefined ? { rtoMet: shownRto.met } : {}),
      },
    } : {}),
  };
}

export interface GatherOptions {
  /** Default silence threshold for expected sources (`analyze.silentAfter`); only the names matter here. */
  silentAfterSeconds?: number;
  samplesPerDataset?: number;
  onProgress?: (done: number, total: number, step: string) => void;
}

/**
 * Reads everything the bundle needs from the store. The caller's scope goes into every store query,
 * so a department-scoped reviewer can only ever read its own departments.
 */
export async function gatherFacts(store: Store, selection: EvidenceSelection, scope?: Scope, options: GatherOptions = {}): Promise<EvidenceFacts> {
  const inventory = await store.assets.getInventory(scope);
  const systems = selectSystems(inventory, selection);
  const scoped = scope ? { scope } : {};
  const period = { from: new Date(selection.from).toISOString(), to: new Date(selection.to).toISOString() };
  const periodEnd = Math.min(Date.parse(period.to), Date.now());
  const perDataset = options.samplesPerDataset ?? SAMPLE_PER_DATASET;
  const expected = expectedSources({ ...inventory, systems }, options.silentAfterSeconds ?? 3600);
  const departmentNames = new Map(inventory.departments.map((d) => [d.id, d.name]));

  const counts = new Map((await store.events.countBy({ ...period, ...scoped }, 'shouwang.system', 100_000)).map((b) => [b.key, b.count]));
  const facts: SystemFacts[] = [];
  for (const [index, system] of systems.entries()) {
    options.onProgress?.(index, systems.length, `系统 ${system.id} / system ${system.id}`);
    // The embedded store answers synchronously: without this, timers (a BullMQ job's lock renewal) would wait for the whole export.
    await new Promise((resolve) => setImmediate(resolve));
    const bySystem = { 'shouwang.system': system.id };
    const eventsInPeriod = counts.get(system.id) ?? 0;

    // One grouped count per field answers the usual sources (a host, or a dataset); only sources
    // naming both need a query of their own.
    const sources = expected.filter((s) => s.system === system.id);
    const grouped = async (field: string) => new Set(eventsInPeriod
      ? (await store.events.countBy({ ...period, filters: bySystem, ...scoped }, field, 10_000)).map((b) => b.key)
      : []);
    const datasetCounts = eventsInPeriod ? await store.events.countBy({ ...period, filters: bySystem, ...scoped }, 'event.dataset', 1000) : [];
    const datasets = new Set(datasetCounts.map((b) => b.key));
    const hosts = sources.some((s) => s.host && !s.dataset) ? await grouped('host.name') : new Set<string>();
    const silent: string[] = [];
    for (const source of sources) {
      let reporting = eventsInPeriod > 0;
      if (source.host && source.dataset) {
        const filters = { ...bySystem, 'host.name': source.host, 'event.dataset': source.dataset };
        reporting = (await store.events.search({ ...period, filters, ...scoped }, { size: 1 })).items.length > 0;
      } else if (source.host) reporting = hosts.has(source.host);
      else if (source.dataset) reporting = datasets.has(source.dataset);
      if (!reporting) silent.push(source.name);
    }
    const oldest = (await store.events.search({ filters: bySystem, ...scoped }, { size: 1, order: 'asc' })).items[0]?.['@timestamp'];
    const retainedDays = oldest ? Math.max(0, Math.floor((periodEnd - Date.parse(oldest)) / DAY_MS)) : 0;

    const samples: ShouwangEvent[] = [];
    if (eventsInPeriod) {
      for (const dataset of datasetCounts) {
        const page = await store.events.search({ ...period, filters: { ...bySystem, 'event.dataset': dataset.key }, ...scoped }, { size: Math.min(perDataset, 1000), order: 'desc' });
        samples.push(...page.items);
      }
      const withoutDataset = eventsInPeriod - datasetCounts.reduce((sum, d) => sum + d.count, 0);
      if (withoutDataset > 0 && samples.length < perDataset) {
        const page = await store.events.search({ ...period, filters: bySystem, ...scoped }, { size: Math.min(perDataset, 1000), order: 'desc' });
        const seen = new Set(samples.map((e) => e.id));
        samples.push(...page.items.filter((e) => !seen.has(e.id) && e.event?.dataset === undefined));
      }
    }

    const alerts = await allPages((page) => store.alerts.search({ ...period, system: [system.id], ...scoped }, page));
    const jobs = (kind: string) => allPages((page) => store.jobResults.search({ ...period, kind, system: system.id, ...scoped }, page));
    const backupChecks = await jobs('backup-check');
    const drills = await jobs('restore-drill');

    facts.push({
      system,
      departmentName: departmentNames.get(system.department) ?? system.department,
      audit: {
        eventsInPeriod, expectedSources: sources.length, reportingSources: sources.length - silent.length, silentSources: silent,
        ...(oldest ? { oldestEvent: oldest } : {}), retainedDays,
      },
      intrusion: intrusionFacts(eventsInPeriod, alerts),
      backup: backupFacts(system, backupChecks, drills),
      samples, alerts, backupChecks, drills,
    });
  }

  // Scoped in the store (entries whose departments all lie in the scope); a scoped or single-target export keeps only entries about its own alerts.
  const trail = await allPages((page) => store.audit.list({ ...period, ...(scope ? { scope } : {}) }, page));
  const alertIds = new Set(facts.flatMap((f) => f.alerts.map((a) => a.id)));
  const unrestricted = !scope?.departments && !selection.system && !selection.department;
  const auditTrail = unrestricted ? trail : trail.filter((entry) => entry.target !== undefined && alertIds.has(entry.target));
  options.onProgress?.(systems.length, systems.length, '数据已读取 / data read');
  return { selection: { ...selection, ...period }, ...(scope ? { scope } : {}), systems: facts, auditTrail };
}
