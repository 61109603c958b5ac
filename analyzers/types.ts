import type { RuleLevel } from '../core/index.js';

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

/** One YAML document of a rule file, validated but not compiled. */
export interface RuleDocument extends RuleRef {
  kind: 'detection' | 'correlation' | 'filter';
  status?: string;
  description?: string;
  falsepositives: string[];
  logsource?: { product?: string; category?: string; service?: string };
  /** The whole document as plain data (YAML → JS values). */
  body: Record<string, unknown>;
  position: SourcePosition;
  /** Line of a key path inside the document, e.g. `detection.selection`; the document's line when unknown. */
  lineOf(path: string): number;
}

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
