import {
  DEFAULT_TIME_ZONE, drillSite, type Alert, type BackupPolicy, type BusinessSystem, type ChainedAuditEntry, type Inventory, type JobResult, type JobSite, type ShouwangEvent,
} from '../core/index.js';
import { expectedSources } from '../analyzers/index.js';
import { BACKUP_DATASET } from '../backup/index.js';
import type { PageRequest, Page, Scope, Store } from '../store/index.js';
import { EvidenceErrors } from './errors.js';
import { loadIntrusionRules, type IntrusionRules } from './intrusion-rules.js';
import { calendarMonthsBefore, dayAlignedStep, formatLocal, localDay, nextDay } from './local-time.js';
import {
  DEFAULT_RULE_SETTINGS, RECORD_FIELDS, RETENTION_MONTHS_REQUIRED,
  type AuditFacts, type BackupFacts, type EvidenceRuleSettings, type HandlingFacts, type IntrusionFacts, type RecordField,
  type RetentionFacts, type SiteBackupFacts,
} from './status-rules.js';

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
  /** Intrusion-rule alerts only (x.1.10.12). */
  handling: HandlingFacts;
  backup: BackupFacts;
  /** The period's length, for the minimum evidence window. */
  periodDays: number;
  settings: EvidenceRuleSettings;
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
  settings: EvidenceRuleSettings;
  /** Days of the period up to now: what the minimum evidence window is compared with. */
  periodDays: number;
  /** Department and system names, for the cover. */
  names: { departments: Record<string, string>; systems: Record<string, string> };
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

/** Handling of intrusion-rule alerts (x.1.10.12): other alerts (silent sources, backups) do not count. */
export function handlingFacts(alerts: readonly Alert[]): HandlingFacts {
  const closed = alerts.filter((a) => HANDLED.has(a.status));
  const documented = closed.filter((a) => a.timeline.some((entry) => entry.comment?.trim())).length;
  const acks = alerts.map(acknowledgeSeconds).filter((s): s is number => s !== undefined);
  const median = medianOf(acks);
  return {
    alerts: alerts.length, handled: closed.length, documented, open: alerts.length - closed.length,
    ...(median !== undefined ? { medianAckSeconds: median } : {}),
  };
}

/** A backup target as the report names its storage: no user names or ports. */
const mediumOf = (target: BackupPolicy['sameCity']): string =>
  target.type === 'path' ? `path ${target.path}` : target.type === 's3' ? `s3 ${target.bucket}/${target.prefix ?? ''}` : `sftp ${target.host}:${target.path}`;

const emptySite = (): SiteBackupFacts => ({ checks: 0, passed: 0, failed: 0, latest: {}, drills: 0 });

/** Per site: counts, the latest result of each check, the latest freshness, and the latest drill from that copy (failed or not). */
export function backupFacts(system: BusinessSystem, checks: readonly JobResult[], drills: readonly JobResult[]): BackupFacts {
  const byTime = (a: JobResult, b: JobResult) => a.finishedAt.localeCompare(b.finishedAt);
  const sites: Record<JobSite, SiteBackupFacts> = { 'same-city': emptySite(), 'off-site': emptySite() };
  const crossSite: BackupFacts['crossSite'] = { checks: 0, passed: 0, failed: 0 };
  for (const check of [...checks].sort(byTime)) {
    if (check.kind !== 'backup-check') continue;
    const where = check.detail.site ?? check.site ?? 'cross-site';
    const tally = where === 'cross-site' ? crossSite : sites[where];
    tally.checks += 1;
    if (check.status === 'pass') tally.passed += 1;
    if (check.status === 'fail') tally.failed += 1;
    if (where === 'cross-site') {
      crossSite.latest = check.status;
      continue;
    }
    sites[where].latest[check.detail.check] = check.status;
    const { ageSeconds, rpoSeconds } = check.detail;
    if (check.detail.check === 'freshness' && typeof ageSeconds === 'number' && typeof rpoSeconds === 'number') {
      sites[where].freshness = { ageSeconds, targetSeconds: rpoSeconds };
    }
  }
  for (const drill of [...drills].sort(byTime)) {
    if (drill.kind !== 'restore-drill') continue;
    const site = sites[drillSite(drill)];
    site.drills += 1;
    // A failed drill recovered nothing usable, so it met no RTO, however fast (results stored before drills said so).
    const rto = drill.detail.rto && { ...drill.detail.rto, met: drill.detail.rto.met === true && drill.status !== 'fail' };
    site.latestDrill = { finishedAt: drill.finishedAt, status: drill.status, ...(rto ? { rto } : {}) };
  }
  const policy = system.backup;
  if (policy) {
    sites['same-city'].medium = mediumOf(policy.sameCity);
    sites['off-site'].medium = mediumOf(policy.offSite);
  }
  return {
    hasPolicy: policy !== undefined,
    ...(policy ? { rpoTargetSeconds: policy.rpo, rtoTargetSeconds: policy.rto } : {}),
    ...(policy?.retention !== undefined ? { retentionSeconds: policy.retention } : {}),
    sameCity: sites['same-city'], offSite: sites['off-site'], crossSite,
  };
}

/** Which of the fields x.1.4.3 b) asks for a stored record lacks. */
export function missingRecordFields(event: ShouwangEvent): RecordField[] {
  const missing: RecordField[] = [];
  if (!event['@timestamp'] || Number.isNaN(Date.parse(event['@timestamp']))) missing.push('date/time');
  if (!event.user?.name) missing.push('user');
  if (!event.event?.action && !event.event?.type?.length && !event.event?.category?.length) missing.push('event type');
  if (!event.event?.outcome) missing.push('outcome');
  return missing;
}

export function recordFacts(samples: readonly ShouwangEvent[]): AuditFacts['records'] {
  const missing = Object.fromEntries(RECORD_FIELDS.map((f) => [f, 0])) as Record<RecordField, number>;
  let complete = 0;
  for (const event of samples) {
    const lacks = missingRecordFields(event);
    if (!lacks.length) complete += 1;
    for (const field of lacks) missing[field] += 1;
  }
  return { sampled: samples.length, complete, missing };
}

/**
 * Retention at the period end: the span from six calendar months before (in `zone`) to the period
 * end, and the calendar days of it with no stored event of the system. `buckets` are the system's
 * non-empty histogram buckets over that span, none straddling a local midnight (dayAlignedStep).
 */
export function retentionFacts(
  periodEnd: number, oldestEvent: string | undefined, buckets: readonly { start: string; count: number }[], zone = DEFAULT_TIME_ZONE,
): RetentionFacts {
  const from = calendarMonthsBefore(periodEnd, RETENTION_MONTHS_REQUIRED, zone);
  const seen = new Set(buckets.filter((b) => b.count > 0).map((b) => localDay(Date.parse(b.start), zone)));
  const gaps: string[] = [];
  let days = 0;
  for (let day = localDay(from, zone); day <= localDay(periodEnd - 1, zone); day = nextDay(day)) {
    days += 1;
    if (!seen.has(day)) gaps.push(day);
  }
  return {
    requiredFrom: formatLocal(from, zone), requiredTo: formatLocal(periodEnd, zone),
    ...(oldestEvent ? { oldestEvent: formatLocal(Date.parse(oldestEvent), zone) } : {}),
    days, gapDays: gaps.length, gaps: gaps.slice(0, 10),
  };
}

export interface GatherOptions {
  /** Default silence threshold for expected sources (`analyze.silentAfter`); only the names matter here. */
  silentAfterSeconds?: number;
  samplesPerDataset?: number;
  /** `evidence.minimumWindow` and `evidence.realtimeRpo`; defaults 30 days and 15 min. */
  settings?: Partial<EvidenceRuleSettings>;
  /** The intrusion rules and their switches (default: the shipped rules, all enabled). */
  intrusionRules?: IntrusionRules;
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
  const settings: EvidenceRuleSettings = { ...DEFAULT_RULE_SETTINGS, ...options.settings };
  // Only the part of the period that has passed is evidence: exporting the current month on its 5th is 5 days.
  const periodDays = Math.max(0, (periodEnd - Date.parse(period.from)) / DAY_MS);
  const intrusionRules = options.intrusionRules ?? await loadIntrusionRules();
  const intrusionIds = new Set(intrusionRules.rules.map((r) => r.id));
  // Level 2 decides 7.1.3.3 (监视网络攻击行为 at key network nodes): only the boundary intrusion rules evidence it.
  const networkRules = intrusionRules.rules.filter((r) => r.network);
  const networkIds = new Set(networkRules.map((r) => r.id));
  const retentionFrom = new Date(calendarMonthsBefore(periodEnd, RETENTION_MONTHS_REQUIRED, settings.timeZone)).toISOString();

  const counts = new Map((await store.events.countBy({ ...period, ...scoped }, 'shouwang.system', 100_000)).map((b) => [b.key, b.count]));
  // Backup check and drill results are events too (shouwang.backup); they are Shouwang's own records, not the system's audit log.
  const backupFilter = { 'event.dataset': BACKUP_DATASET };
  const backupCounts = new Map((await store.events.countBy({ ...period, filters: backupFilter, ...scoped }, 'shouwang.system', 100_000)).map((b) => [b.key, b.count]));
  const facts: SystemFacts[] = [];
  for (const [index, system] of systems.entries()) {
    options.onProgress?.(index, systems.length, `系统 ${system.id} / system ${system.id}`);
    // The embedded store answers synchronously: without this, timers (a BullMQ job's lock renewal) would wait for the whole export.
    await new Promise((resolve) => setImmediate(resolve));
    const bySystem = { 'shouwang.system': system.id };
    const eventsInPeriod = (counts.get(system.id) ?? 0) - (backupCounts.get(system.id) ?? 0);

    // One grouped count per field answers the usual sources (a host, or a dataset); only sources
    // naming both need a query of their own.
    const sources = expected.filter((s) => s.system === system.id);
    const grouped = async (field: string) => new Set(eventsInPeriod
      ? (await store.events.countBy({ ...period, filters: bySystem, ...scoped }, field, 10_000)).map((b) => b.key)
      : []);
    const datasetCounts = eventsInPeriod
      ? (await store.events.countBy({ ...period, filters: bySystem, ...scoped }, 'event.dataset', 1000)).filter((b) => b.key !== BACKUP_DATASET)
      : [];
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
    const span = { from: retentionFrom, to: new Date(periodEnd).toISOString() };
    // Hours where days start on the hour; half or quarter hours in Asia/Kolkata or Asia/Kathmandu.
    const step = dayAlignedStep(Date.parse(span.from), periodEnd, settings.timeZone);
    const backupBuckets = new Map((await store.events.histogram({ ...span, filters: { ...bySystem, ...backupFilter }, ...scoped }, step))
      .map((b) => [b.start, b.count]));
    const buckets = (await store.events.histogram({ ...span, filters: bySystem, ...scoped }, step))
      .map((b) => ({ start: b.start, count: b.count - (backupBuckets.get(b.start) ?? 0) })).filter((b) => b.count > 0);
    const oldestPage = (await store.events.search({ filters: bySystem, ...scoped }, { size: 1000, order: 'asc' })).items;
    const oldest = oldestPage.find((e) => e.event?.dataset !== BACKUP_DATASET)?.['@timestamp'] ?? buckets[0]?.start;

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

    // Every alert active in the period (first seen before its end, last seen after its start): the store's range is on
    // lastSeen alone, so one raised in the period that kept firing after it would vanish from the period's evidence.
    const periodTo = Date.parse(period.to);
    const alerts = (await allPages((page) => store.alerts.search({ from: period.from, system: [system.id], ...scoped }, page)))
      .filter((a) => Date.parse(a.firstSeen) < periodTo);
    const intrusionAlerts = alerts.filter((a) => intrusionIds.has(a.rule.id));
    const networkOnly = system.mlpsLevel === 2;
    const levelRules = networkOnly ? networkRules : intrusionRules.rules;
    const levelAlerts = networkOnly ? intrusionAlerts.filter((a) => networkIds.has(a.rule.id)) : intrusionAlerts;
    const reaching = [...new Set(samples.filter((e) => intrusionRules.reaches(e, networkOnly)).map((e) => e.event?.dataset ?? '—'))].sort();
    const jobs = (kind: string) => allPages((page) => store.jobResults.search({ ...period, kind, system: system.id, ...scoped }, page));
    const backupChecks = await jobs('backup-check');
    const drills = await jobs('restore-drill');

    facts.push({
      system,
      departmentName: departmentNames.get(system.department) ?? system.department,
      audit: {
        eventsInPeriod, expectedSources: sources.length, reportingSources: sources.length - silent.length, silentSources: silent,
        records: recordFacts(samples), retention: retentionFacts(periodEnd, oldest, buckets, settings.timeZone),
      },
      intrusion: {
        eventsInPeriod, rules: levelRules.length, rulesEnabled: levelRules.filter((r) => r.enabled).length,
        reachingDatasets: reaching, matches: levelAlerts.length,
      },
      handling: handlingFacts(intrusionAlerts),
      backup: backupFacts(system, backupChecks, drills),
      periodDays, settings,
      samples, alerts, backupChecks, drills,
    });
  }

  // Scoped in the store (entries whose departments all lie in the scope); a scoped or single-target export keeps only entries about its own alerts.
  const trail = await allPages((page) => store.audit.list({ ...period, ...(scope ? { scope } : {}) }, page));
  const alertIds = new Set(facts.flatMap((f) => f.alerts.map((a) => a.id)));
  const unrestricted = !scope?.departments && !selection.system && !selection.department;
  const auditTrail = unrestricted ? trail : trail.filter((entry) => entry.target !== undefined && alertIds.has(entry.target));
  options.onProgress?.(systems.length, systems.length, '数据已读取 / data read');
  return {
    selection: { ...selection, ...period }, ...(scope ? { scope } : {}), systems: facts, auditTrail, settings, periodDays,
    names: { departments: Object.fromEntries(departmentNames), systems: Object.fromEntries(inventory.systems.map((s) => [s.id, s.name])) },
  };
}
