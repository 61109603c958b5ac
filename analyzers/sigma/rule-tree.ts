/**
 * The typed rule tree (sigma-go's layering): parse.ts checks a rule file's shape once and hands out
 * these documents; the compilers (detection, rule set, correlation) and the alert policy read only
 * them, never the YAML body again.
 */
import type { ConditionNode } from './condition.js';

/** A value as YAML (core schema) gives it: what a custom attribute may hold. */
export type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue };

/** A value a field matcher or keyword compares with. */
export type MatchValue = string | number | boolean | null;

/** `Image|endswith: [a, b]`: one field, its modifiers in the order written, the values (any of them; all with `all`). */
export interface FieldMatcher {
  /** The Sigma field name; '' for a keyword matcher written `'|contains': …`. */
  field: string;
  modifiers: string[];
  values: MatchValue[];
  /** Key path of the matcher (`detection.selection.Image|endswith`), for messages and lines. */
  path: string;
}

/**
 * One search identifier. `fields`: every matcher holds (a YAML map). `any`: a list, which holds when
 * one of its keywords is found in the keyword fields or one of its maps holds. A single string or
 * number is a keyword list of one.
 */
export type Search =
  | { type: 'fields'; matchers: FieldMatcher[]; path: string }
  | { type: 'any'; keywords: MatchValue[]; maps: { matchers: FieldMatcher[]; path: string }[]; path: string };

/** A detection (or a filter's selections): named searches and the condition, parsed. */
export interface Detection {
  /** Search identifiers in the order written. */
  searches: Map<string, Search>;
  /** The condition as written: one string, or a list of them (any holds). */
  condition: string[];
  /** One tree per condition string; every identifier it names exists. */
  conditionTrees: ConditionNode[];
  /** Key path of the detection (`detection`, `filter`), prefix of every path inside. */
  path: string;
}

export const CORRELATION_TYPES = [
  'event_count', 'value_count', 'temporal', 'temporal_ordered', 'value_sum', 'value_avg', 'value_percentile',
] as const;
export type CorrelationType = (typeof CORRELATION_TYPES)[number];

export const COMPARISONS = ['gt', 'gte', 'lt', 'lte', 'eq', 'neq'] as const;
export type Comparison = (typeof COMPARISONS)[number];

/** A Sigma correlation section (specification 2.1), checked. */
export interface Correlation {
  type: CorrelationType;
  /** Referenced rules, by id or name, in the listed order (temporal_ordered needs it). */
  rules: string[];
  groupBy: string[];
  timespanMs: number;
  /** Every comparison must hold (a range is two); none written: the compiler uses `gte: <number of rules>`. */
  comparisons: [Comparison, number][];
  /** value_* types: the field(s) measured. */
  fields: string[];
  /** value_percentile: which percentile (0–100). */
  percentile: number;
  /** alias → {rule id or name → field}. */
  aliases: Record<string, Record<string, string>>;
  /** Sigma `generate` (in the section or at the top): the referenced rules also alert on their own. */
  generate: boolean;
}

/** The custom `shouwang:` attribute: how matches fold into alerts. */
export interface ShouwangAttributes {
  suppressMs?: number;
  groupBy?: string[];
}

/** Attributes Sigma does not define (Sigma allows them): ours typed, the others kept as YAML values. */
export interface CustomAttributes {
  shouwang?: ShouwangAttributes;
  /** Every other key of the document Sigma does not define (author, date, references, extrametadata …). */
  other: Record<string, YamlValue>;
}

export interface Logsource {
  product?: string;
  category?: string;
  service?: string;
}
