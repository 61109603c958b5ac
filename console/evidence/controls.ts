import type { MlpsCatalog } from '../../analyzers/index.js';
import type { SystemFacts } from './facts.js';
import {
  EVIDENCED_CONTROLS, MANUAL_REVIEW, auditVerdict, backupVerdict, intrusionVerdict,
  type ComplianceStatus, type ControlVerdict, type EvidencedControl,
} from './status-rules.js';

/** One row of the controls table: one catalog item of one system. */
export interface ControlRow {
  system: string;
  systemName: string;
  department: string;
  mlpsLevel: number;
  /** `8.1.4.3 a)` */
  clause: string;
  /** GB/T 28448-2019 测评单元, e.g. `L3-CES1-12`: the unit an assessor tests the item under. */
  testUnit: string;
  control: string;
  requirement: string;
  status: ComplianceStatus;
  summary: string;
  rule: string;
}

const RULES: Record<EvidencedControl, (facts: SystemFacts) => ControlVerdict> = {
  audit: (f) => auditVerdict(f.audit),
  intrusion: (f) => intrusionVerdict(f.intrusion),
  backup: (f) => backupVerdict(f.backup),
};

/** The verdict per evidenced control of one system (keyed by the control's Chinese name). */
export function systemVerdicts(facts: SystemFacts): Record<EvidencedControl, ControlVerdict> {
  return { audit: RULES.audit(facts), intrusion: RULES.intrusion(facts), backup: RULES.backup(facts) };
}

/**
 * The items each rule evidences, as level-3 clauses (their level-2 and level-4 equivalents follow):
 * 安全审计 a) audit enabled for every user, b) record content, c) records kept and protected — not d)
 * (protecting the audit process); 入侵防范 f) intrusions detected and alarmed — not a)–e) (installation,
 * services, terminals, input validation, patching); 数据备份恢复 a) local and b) off-site backup — not
 * c)/d) (hot redundancy, disaster-recovery centre).
 */
export const EVIDENCED_ITEMS: Record<EvidencedControl, readonly string[]> = {
  audit: ['8.1.4.3 a)', '8.1.4.3 b)', '8.1.4.3 c)'],
  intrusion: ['8.1.4.4 f)'],
  backup: ['8.1.4.9 a)', '8.1.4.9 b)'],
};

const evidencedByClause = new WeakMap<MlpsCatalog, Map<string, EvidencedControl>>();

/** Clause at any level → the rule that evidences it. */
export function evidencedItems(catalog: MlpsCatalog): Map<string, EvidencedControl> {
  let map = evidencedByClause.get(catalog);
  if (!map) {
    map = new Map();
    for (const [control, clauses] of Object.entries(EVIDENCED_ITEMS) as [EvidencedControl, string[]][]) {
      for (const clause of clauses) for (const equivalent of catalog.equivalentClauses(clause)) map.set(equivalent, control);
    }
    evidencedByClause.set(catalog, map);
  }
  return map;
}

/** Every catalog item of the system's level: an evidenced item gets its rule's verdict, all others 不适用 (manual review). */
export function controlRows(catalog: MlpsCatalog, facts: SystemFacts): ControlRow[] {
  const verdicts = systemVerdicts(facts);
  const evidenced = evidencedItems(catalog);
  const { system } = facts;
  return catalog.items
    .filter((item) => item.level === system.mlpsLevel)
    .map((item) => {
      const control = evidenced.get(item.clause);
      const verdict = control ? verdicts[control] : MANUAL_REVIEW;
      return {
        system: system.id, systemName: system.name, department: facts.departmentName, mlpsLevel: system.mlpsLevel,
        clause: item.clause, testUnit: item.testUnit, control: item.control.zh, requirement: item.requirement.zh,
        status: verdict.status, summary: verdict.summary, rule: verdict.rule,
      };
    });
}

/** The catalog clause of an evidenced control at a level, e.g. audit at 3 → `8.1.4.3`. */
export function evidencedClause(catalog: MlpsCatalog, control: EvidencedControl, level: number): string | undefined {
  return catalog.controls.find((c) => c.level === level && c.area.key === 'computing' && c.control.zh === EVIDENCED_CONTROLS[control])?.clause;
}
