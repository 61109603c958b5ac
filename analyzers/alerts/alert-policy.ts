import { isFieldName, isPlainObject } from '../../core/index.js';
import { parseTimespan } from '../correlation/index.js';
import type { RuleDocument, RuleProblem } from '../types.js';

/** How a rule's matches fold into alerts. */
export interface AlertPolicy {
  /** Repeats within one window of this length (aligned to the epoch) raise one alert's count. */
  suppressMs: number;
  /** Event fields that make separate alerts; absent: the affected system (or host). */
  groupBy?: string[];
}

export const DEFAULT_SUPPRESS_MS = 3_600_000;

/**
 * Reads the custom rule attribute `shouwang: { suppress: 30m, group_by: [user.name] }` (Sigma allows
 * custom attributes). Problems are reported with the line; the defaults apply then.
 */
export function readAlertPolicy(doc: RuleDocument, problems: RuleProblem[], defaultSuppressMs = DEFAULT_SUPPRESS_MS): AlertPolicy {
  const policy: AlertPolicy = { suppressMs: defaultSuppressMs };
  const custom = doc.body.shouwang;
  if (custom === undefined) return policy;
  const fail = (path: string, message: string) =>
    problems.push({ file: doc.position.file, line: doc.lineOf(path), severity: 'error', message, ruleId: doc.id });
  if (!isPlainObject(custom)) {
    fail('shouwang', 'shouwang: expected a map such as {suppress: 30m, group_by: [user.name]}');
    return policy;
  }
  for (const [key, value] of Object.entries(custom)) {
    if (key === 'suppress') {
      const ms = parseTimespan(value);
      if (ms === undefined) fail('shouwang.suppress', `shouwang.suppress: expected a duration such as 30m or 1h, got ${JSON.stringify(value)}`);
      else policy.suppressMs = ms;
    } else if (key === 'group_by') {
      const fields = Array.isArray(value) && value.every((field) => typeof field === 'string' && isFieldName(field)) ? (value as string[]) : undefined;
      if (!fields || fields.length === 0) fail('shouwang.group_by', 'shouwang.group_by: expected a non-empty list of field names');
      else policy.groupBy = fields;
    } else {
      fail(`shouwang.${key}`, `shouwang.${key}: unknown key; expected suppress or group_by`);
    }
  }
  return policy;
}
