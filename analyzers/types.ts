import type { RuleLevel } from '../core/index.js';
import type { Correlation, CustomAttributes, Detection, Logsource } from './sigma/rule-tree.js';

/** Where something sits in a rule file, for error messages an author can act on. */
export interface SourcePosition {
  file: string;
  line: number;
  column?: number;
}

export interface RuleProblem extends SourcePosition {
  severity: 'error' | 'warning';
  message: string;
  ruleId?: string;
}

/** The identity of a rule as alerts and signals carry it. */
export interface RuleRef {
  id: string;
  name?: string;
  title: string;
  level: RuleLevel;
  tags: string[];
}

/** What every document of a rule file has, checked at parse time (the typed rule tree, sigma/rule-tree.ts). */
interface RuleDocumentBase extends RuleRef {
  status?: string;
  description?: string;
  author?: string;
  date?: string;
  modified?: string;
  references: string[];
  falsepositives: string[];
  logsource?: Logsource;
  /** Attributes Sigma does not define: `shouwang:` typed, the others as YAML values. */
  custom: CustomAttributes;
  /**
   * The whole document as plain data (YAML → JS values), for tools that export rules as written
   * (bench, rsigma). The analyzers read the typed fields only.
   */
  body: Readonly<Record<string, unknown>>;
  position: SourcePosition;
  /** Line of a key path inside the document, e.g. `detection.selection`; the document's line when unknown. */
  lineOf(path: string): number;
}

/** A single-event rule. */
export interface DetectionRule extends RuleDocumentBase {
  kind: 'detection';
  detection: Detection;
  /** Sigma `fields`: the fields worth showing with a match. */
  fields: string[];
}

/** A Sigma correlation rule over the signals of other rules. */
export interface CorrelationRule extends RuleDocumentBase {
  kind: 'correlation';
  correlation: Correlation;
}

/** A Sigma filter: selections that take matches away from the rules it names. */
export interface FilterRule extends RuleDocumentBase {
  kind: 'filter';
  /** Ids or names of the rules it applies to. */
  rules: string[];
  filter: Detection;
}

/** One YAML document of a rule file, validated but not compiled. */
export type RuleDocument = DetectionRule | CorrelationRule | FilterRule;

/** A single-event rule matched an event: the input of correlation and alerting. */
export interface Signal {
  rule: RuleRef;
  eventId: string;
  /** Event time (`@timestamp`), epoch milliseconds. */
  time: number;
  event: Record<string, unknown>;
  /** Set when the signal is a correlation hit fed to a chained correlation. */
  from?: CorrelationHit;
}

/** A correlation rule's condition held for one group in one window. */
export interface CorrelationHit {
  rule: RuleRef;
  /** Group-by field → value (after aliases). */
  group: Record<string, string>;
  windowStart: number;
  windowEnd: number;
  /** The measured value the condition was tested on (count, distinct count, sum, avg, percentile). */
  value: number;
  /** The signals that made the hit, oldest first (bounded sample). */
  signals: Signal[];
}
