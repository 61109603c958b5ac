import { dirname, join } from 'node:path';
import type { ShouwangEvent } from '../core/index.js';
import {
  compileDetection, defaultMlpsCatalogPath, loadDefaultMapping, loadMlpsCatalog, loadRuleDir, resolveLogsource,
  type EventPredicate, type FieldMapping, type MlpsCatalog, type RuleDocument,
} from '../analyzers/index.js';

/** The control an intrusion rule evidences, by its Chinese name in the catalog (x.1.3.3 and x.1.4.4). */
const INTRUSION_CONTROL = '入侵防范';

export interface IntrusionRule {
  id: string;
  title: string;
  enabled: boolean;
  /**
   * Tagged with the boundary 入侵防范 control (x.1.3.3: network attacks at key network nodes). Level 2 has only
   * that one (7.1.3.3 监视网络攻击行为): a host-only detection rule evidences nothing there.
   */
  network: boolean;
}

/** The rules that detect intrusions, and whether an event reaches one that is enabled. */
export interface IntrusionRules {
  readonly rules: readonly IntrusionRule[];
  /**
   * True when an enabled intrusion detection rule is evaluated on this event (its logsource admits it);
   * with `networkOnly`, only a rule of the boundary 入侵防范 control counts (level 2).
   */
  reaches(event: ShouwangEvent, networkOnly?: boolean): boolean;
}

export interface IntrusionRuleOptions {
  /** Default: the shipped rules (rules/shouwang). */
  rulesDir?: string;
  /** Rules switched off in the console; default: every rule enabled. */
  isEnabled?: (ruleId: string) => boolean;
  catalog?: MlpsCatalog;
  mapping?: FieldMapping;
}

export const shippedRulesDir = () => join(dirname(defaultMlpsCatalogPath()), '..', 'shouwang');

/** A rule is an intrusion rule when one of its MLPS tags names an 入侵防范 item. */
export function isIntrusionRule(doc: Pick<RuleDocument, 'tags'>, catalog: MlpsCatalog): boolean {
  return doc.tags.some((tag) => catalog.clausesForTag(tag).some((item) => item.control.zh === INTRUSION_CONTROL));
}

/** An intrusion rule of the boundary (安全区域边界 入侵防范, x.1.3.3): network attacks at key network nodes. */
export function isNetworkIntrusionRule(doc: Pick<RuleDocument, 'tags'>, catalog: MlpsCatalog): boolean {
  return doc.tags.some((tag) => catalog.clausesForTag(tag).some((item) => item.control.zh === INTRUSION_CONTROL && item.area.key === 'boundary'));
}

/** Loads the rule files and compiles each intrusion rule's logsource conditions once. */
export async function loadIntrusionRules(options: IntrusionRuleOptions = {}): Promise<IntrusionRules> {
  const catalog = options.catalog ?? loadMlpsCatalog();
  const mapping = options.mapping ?? loadDefaultMapping();
  const isEnabled = options.isEnabled ?? (() => true);
  const { documents } = await loadRuleDir(options.rulesDir ?? shippedRulesDir());
  const intrusion = documents.filter((doc) => doc.kind !== 'filter' && isIntrusionRule(doc, catalog));
  const context = { resolveField: (name: string) => [name], keywordFields: mapping.keywordFields, placeholders: {}, timeOffsetMinutes: mapping.timeOffsetMinutes };
  // Correlations read their base rules' signals, not events: only detection rules are "reached".
  const gates: { network: boolean; guards: EventPredicate[] }[] = intrusion
    .filter((doc) => doc.kind === 'detection' && isEnabled(doc.id))
    .map((doc) => ({
      network: isNetworkIntrusionRule(doc, catalog),
      guards: resolveLogsource(mapping, doc.logsource).entries
        .filter((entry) => entry.when !== undefined)
        .map((entry) => compileDetection({ when: entry.when, condition: 'when' }, context, `logsources.${entry.name}`)),
    }))
    // A logsource no mapping entry covers is tried on every event by the engine; as evidence that
    // detection runs for a system it proves nothing, so it reaches nothing here.
    .filter((gate) => gate.guards.length > 0);
  return {
    rules: intrusion.map((doc) => ({ id: doc.id, title: doc.title, enabled: isEnabled(doc.id), network: isNetworkIntrusionRule(doc, catalog) })),
    reaches: (event, networkOnly = false) => gates.some((gate) => (!networkOnly || gate.network)
      && gate.guards.every((guard) => guard(event as Record<string, unknown>))),
  };
}
