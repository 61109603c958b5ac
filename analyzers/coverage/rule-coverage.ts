/**
 * Which rules can fire on the data actually stored (issue #17): a rule can when some stored event
 * meets its logsource condition and every field its detection reads appears in such events. Per
 * logsource and per MLPS control, with the fields no rule reads and the rule fields never seen, so
 * an officer sees blind spots. Works on a sample of stored events (the command takes the newest of
 * each dataset), so "never seen" means "not in the sample".
 */
import { randomUUID } from 'node:crypto';
import { stringify } from 'yaml';
import { isPlainObject } from '../../core/index.js';
import { mlpsRefs } from '../alerts/mlps-refs.js';
import type { MlpsCatalog } from '../mlps/index.js';
import { parseRuleText } from '../sigma/parse.js';
import { compileRuleSet } from '../sigma/rule-set.js';
import { resolveLogsource, type FieldMapping, type Logsource } from '../sigma/mapping.js';
import type { EventRecord } from '../sigma/detection.js';
import type { FieldMatcher } from '../sigma/rule-tree.js';
import type { DetectionRule, RuleDocument } from '../types.js';

export interface RuleCoverage {
  id: string;
  title: string;
  kind: 'detection' | 'correlation';
  /** `product/category/service`, `-` for a part the rule leaves open. */
  logsource: string;
  /** ECS fields the detection reads (after the mapping). */
  fields: string[];
  /** Of those, the ones no sampled event of the logsource carries. */
  missingFields: string[];
  /** Sampled events that meet the logsource condition. */
  events: number;
  canFire: boolean;
  mlps: string[];
}

export interface LogsourceCoverage {
  logsource: string;
  events: number;
  rules: number;
  canFire: number;
  /** Fields the logsource's sampled events carry that none of its rules reads. */
  unusedFields: string[];
}

export interface ControlCoverage {
  clause: string;
  control: string;
  rules: number;
  canFire: number;
  /** Titles of the rules that can fire. */
  firing: string[];
}

export interface CoverageReport {
  sampled: number;
  rules: RuleCoverage[];
  logsources: LogsourceCoverage[];
  controls: ControlCoverage[];
}

export interface CoverageInput {
  documents: readonly RuleDocument[];
  mapping: FieldMapping;
  catalog?: MlpsCatalog;
  events: readonly EventRecord[];
  placeholders?: Record<string, string[]>;
}

// Our own fields, set on every stored event: not a blind spot when no rule reads them.
const BOOKKEEPING = /^(id|@timestamp|shouwang\..*|event\.(original|ingested|kind|module|dataset)|log\.source\..*)$/;
const NOT_FIELDS = new Set(['condition', 'timeframe']);

export function ruleCoverage(input: CoverageInput): CoverageReport {
  const { mapping, events } = input;
  const detections = input.documents.filter((d) => d.kind === 'detection');
  const probes = logsourceProbes(detections, mapping, events);
  const perRule = new Map<string, RuleCoverage>();
  for (const doc of detections) {
    const key = logsourceKey(doc.logsource);
    const probe = probes.get(key)!;
    const fields = detectionFields(doc, mapping);
    const missingFields = fields.filter((f) => !probe.fields.has(f));
    perRule.set(doc.id, {
      id: doc.id, title: doc.title, kind: 'detection', logsource: key, fields, missingFields, events: probe.events,
      canFire: probe.events > 0 && missingFields.length === 0, mlps: mlpsRefs(doc.tags),
    });
  }
  // A correlation can fire when any rule it counts can (temporal ones need all of theirs).
  const byRef = new Map<string, RuleCoverage>();
  for (const doc of detections) {
    byRef.set(doc.id, perRule.get(doc.id)!);
    if (doc.name) byRef.set(doc.name, perRule.get(doc.id)!);
  }
  const correlations = input.documents.filter((d) => d.kind === 'correlation');
  for (let pass = 0; pass < 3; pass += 1) {
    for (const doc of correlations) {
      const refs = doc.correlation.rules;
      const bases = refs.map((r) => byRef.get(r)).filter((r): r is RuleCoverage => r !== undefined);
      const temporal = doc.correlation.type.startsWith('temporal');
      const canFire = bases.length > 0 && (temporal ? bases.length === refs.length && bases.every((b) => b.canFire) : bases.some((b) => b.canFire));
      const entry: RuleCoverage = {
        id: doc.id, title: doc.title, kind: 'correlation', logsource: [...new Set(bases.map((b) => b.logsource))].join(', ') || '-',
        fields: [], missingFields: [], events: Math.max(0, ...bases.map((b) => b.events)), canFire, mlps: mlpsRefs(doc.tags),
      };
      perRule.set(doc.id, entry);
      byRef.set(doc.id, entry);
      if (doc.name) byRef.set(doc.name, entry);
    }
  }
  const rules = [...perRule.values()];
  const logsources = [...probes.entries()].map(([logsource, probe]): LogsourceCoverage => {
    const own = rules.filter((r) => r.kind === 'detection' && r.logsource === logsource);
    const read = new Set(own.flatMap((r) => r.fields));
    return {
      logsource, events: probe.events, rules: own.length, canFire: own.filter((r) => r.canFire).length,
      unusedFields: [...probe.fields].filter((f) => !read.has(f) && !BOOKKEEPING.test(f)).sort(),
    };
  }).sort((a, b) => a.logsource.localeCompare(b.logsource));
  return { sampled: events.length, rules, logsources, controls: controlCoverage(rules, input.catalog) };
}

function controlCoverage(rules: RuleCoverage[], catalog: MlpsCatalog | undefined): ControlCoverage[] {
  const byClause = new Map<string, RuleCoverage[]>();
  for (const rule of rules) {
    for (const clause of rule.mlps) {
      const control = clause.split(' ')[0]!;
      byClause.set(control, [...(byClause.get(control) ?? []), rule]);
    }
  }
  return [...byClause.entries()].map(([clause, list]) => {
    const control = catalog?.controlByClause(clause)?.control;
    return {
      clause, control: control ? `${control.zh} ${control.en}` : '', rules: list.length,
      canFire: list.filter((r) => r.canFire).length, firing: list.filter((r) => r.canFire).map((r) => r.title),
    };
  }).sort((a, b) => a.clause.localeCompare(b.clause, undefined, { numeric: true }));
}

/** The fields a rule's detection reads, resolved through the mapping as the compiler resolves them. */
export function detectionFields(doc: DetectionRule, mapping: FieldMapping): string[] {
  const resolved = resolveLogsource(mapping, doc.logsource);
  const fields = new Set<string>();
  const keywords = () => mapping.keywordFields.forEach((f) => fields.add(f));
  const visit = (matchers: readonly FieldMatcher[]): void => {
    for (const { field, modifiers, values } of matchers) {
      if (!field) keywords();
      else resolved.resolveField(field).forEach((f) => fields.add(f));
      if (modifiers.includes('fieldref')) for (const other of values) if (typeof other === 'string') resolved.resolveField(other).forEach((f) => fields.add(f));
    }
  };
  for (const [name, search] of doc.detection.searches) {
    if (NOT_FIELDS.has(name)) continue;
    if (search.type === 'fields') visit(search.matchers);
    else {
      if (search.keywords.length) keywords();
      for (const map of search.maps) visit(map.matchers);
    }
  }
  return [...fields].sort();
}

interface Probe {
  events: number;
  /** Every field path (leaves, dotted) of the events that meet the logsource. */
  fields: Set<string>;
}

/** One probe rule per distinct logsource ("any event of it"), compiled with the same mapping as the rules. */
function logsourceProbes(detections: readonly RuleDocument[], mapping: FieldMapping, events: readonly EventRecord[]): Map<string, Probe> {
  const keys = new Map<string, Logsource | undefined>();
  for (const doc of detections) keys.set(logsourceKey(doc.logsource), doc.logsource);
  const ids = new Map<string, string>();
  const text = [...keys.entries()].map(([key, logsource]) => {
    const id = randomUUID();
    ids.set(id, key);
    return stringify({ title: `probe ${key}`, id, level: 'low', ...(logsource ? { logsource } : {}), detection: { any: { '@timestamp|exists': true }, condition: 'any' } });
  }).join('---\n');
  const set = compileRuleSet(text ? parseRuleText(text, 'coverage-probes.yml').documents : [], { mapping });
  const probes = new Map<string, Probe>([...keys.keys()].map((k) => [k, { events: 0, fields: new Set<string>() }]));
  for (const event of events) {
    const hits = set.match(event);
    if (hits.length === 0) continue;
    const paths = leafPaths(event);
    for (const ref of hits) {
      const probe = probes.get(ids.get(ref.id)!)!;
      probe.events += 1;
      for (const p of paths) probe.fields.add(p);
    }
  }
  return probes;
}

function logsourceKey(logsource: Logsource | undefined): string {
  return [logsource?.product, logsource?.category, logsource?.service].map((v) => v?.toLowerCase() ?? '-').join('/');
}

/** Dotted paths of an event's leaves (arrays are leaves). */
function leafPaths(event: EventRecord, prefix = '', out: string[] = [], depth = 0): string[] {
  for (const [key, value] of Object.entries(event)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (isPlainObject(value) && depth < 16) leafPaths(value, path, out, depth + 1);
    else if (value !== undefined && value !== null) out.push(path);
  }
  return out;
}
