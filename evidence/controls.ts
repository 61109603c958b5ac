import type { MlpsCatalog, MlpsLevel } from '../analyzers/index.js';
import type { SystemFacts } from './facts.js';
import {
  EVIDENCED_CONTROLS, MANUAL_REVIEW, auditCoverageVerdict, auditProtectionVerdict, auditRecordsVerdict, backupIdentificationVerdict, backupLocalVerdict,
  backupOffsiteVerdict, backupProceduresVerdict, backupStipulationVerdict, capToWindow, emergencyDrillVerdict, incidentHandlingVerdict,
  intrusionVerdict, retentionVerdict,
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
  /** The English of control and requirement (ours; the Chinese is the standard's). */
  controlEn: string;
  requirementEn: string;
  status: ComplianceStatus;
  summary: string;
  rule: string;
}

const RULES: Record<EvidencedControl, (facts: SystemFacts) => ControlVerdict> = {
  auditCoverage: (f) => auditCoverageVerdict(f.audit),
  auditRecords: (f) => auditRecordsVerdict(f.audit, f.system.mlpsLevel),
  auditProtection: (f) => auditProtectionVerdict(f.audit),
  auditRetention: (f) => retentionVerdict(f.audit),
  intrusion: (f) => intrusionVerdict(f.intrusion),
  incidentHandling: (f) => incidentHandlingVerdict(f.handling),
  backupLocal: (f) => backupLocalVerdict(f.backup, f.settings.timeZone),
  backupOffsite: (f) => backupOffsiteVerdict(f.backup, f.system.mlpsLevel, f.settings),
  backupIdentification: (f) => backupIdentificationVerdict(f.backup),
  backupStipulation: (f) => backupStipulationVerdict(f.backup),
  backupProcedures: (f) => backupProceduresVerdict(f.backup, f.settings.timeZone),
  emergencyDrill: (f) => emergencyDrillVerdict(f.backup, f.settings.timeZone),
};

/** One verdict per evidenced item of one system; any 符合 over a period shorter than the minimum window is capped. */
export function systemVerdicts(facts: SystemFacts): Record<EvidencedControl, ControlVerdict> {
  return Object.fromEntries(EVIDENCED_CONTROLS.map((control) => [control, capToWindow(RULES[control](facts), facts.periodDays, facts.settings)])) as
    Record<EvidencedControl, ControlVerdict>;
}

/**
 * The item each rule decides, per level. Level 2 has no x.1.4.4 f): intrusion detection is 7.1.3.3
 * (监视网络攻击行为); level 2 has no 集中管控 (x.1.5.4), so retention is not decided there. 安全审计 d)
 * (protecting the audit process) and 数据备份恢复 c)/d) (hot redundancy, disaster-recovery centre)
 * have no automated evidence; nor have 安全事件处置 a)/b)/d)/e) and 应急预案管理 other than the rehearsal item
 * (plans, reporting and frameworks are documents).
 */
export const EVIDENCED_ITEMS: Record<EvidencedControl, Partial<Record<MlpsLevel, string>>> = {
  auditCoverage: { 2: '7.1.4.3 a)', 3: '8.1.4.3 a)', 4: '9.1.4.3 a)' },
  auditRecords: { 2: '7.1.4.3 b)', 3: '8.1.4.3 b)', 4: '9.1.4.3 b)' },
  auditProtection: { 2: '7.1.4.3 c)', 3: '8.1.4.3 c)', 4: '9.1.4.3 c)' },
  auditRetention: { 3: '8.1.5.4 d)', 4: '9.1.5.4 d)' },
  intrusion: { 2: '7.1.3.3', 3: '8.1.4.4 f)', 4: '9.1.4.4 f)' },
  incidentHandling: { 2: '7.1.10.12 c)', 3: '8.1.10.12 c)', 4: '9.1.10.12 c)' },
  backupLocal: { 2: '7.1.4.8 a)', 3: '8.1.4.9 a)', 4: '9.1.4.9 a)' },
  backupOffsite: { 2: '7.1.4.8 b)', 3: '8.1.4.9 b)', 4: '9.1.4.9 b)' },
  backupIdentification: { 2: '7.1.10.11 a)', 3: '8.1.10.11 a)', 4: '9.1.10.11 a)' },
  backupStipulation: { 2: '7.1.10.11 b)', 3: '8.1.10.11 b)', 4: '9.1.10.11 b)' },
  backupProcedures: { 2: '7.1.10.11 c)', 3: '8.1.10.11 c)', 4: '9.1.10.11 c)' },
  // 定期培训并演练 is b) at level 2 (level 2 has no 统一框架 a)).
  emergencyDrill: { 2: '7.1.10.13 b)', 3: '8.1.10.13 c)', 4: '9.1.10.13 c)' },
};

/** Clause at any level → the rule that decides it. */
export function evidencedItems(): Map<string, EvidencedControl> {
  const map = new Map<string, EvidencedControl>();
  for (const control of EVIDENCED_CONTROLS) for (const clause of Object.values(EVIDENCED_ITEMS[control])) map.set(clause, control);
  return map;
}

/**
 * Every catalog item of the system's level (only those: a control the level lacks is not listed): an
 * evidenced item gets its rule's verdict, all others 未测评（需人工核查）.
 */
export function controlRows(catalog: MlpsCatalog, facts: SystemFacts): ControlRow[] {
  const verdicts = systemVerdicts(facts);
  const evidenced = evidencedItems();
  const { system } = facts;
  return catalog.items
    .filter((item) => item.level === system.mlpsLevel)
    .map((item) => {
      const control = evidenced.get(item.clause);
      const verdict = control ? verdicts[control] : MANUAL_REVIEW;
      return {
        system: system.id, systemName: system.name, department: facts.departmentName, mlpsLevel: system.mlpsLevel,
        clause: item.clause, testUnit: item.testUnit, control: item.control.zh, requirement: item.requirement.zh,
        controlEn: item.control.en, requirementEn: item.requirement.en,
        status: verdict.status, summary: verdict.summary, rule: verdict.rule,
      };
    });
}

/** The catalog item a rule decides at a level, e.g. auditCoverage at 3 → `8.1.4.3 a)`. */
export function evidencedClause(control: EvidencedControl, level: number): string | undefined {
  return EVIDENCED_ITEMS[control][level as MlpsLevel];
}
