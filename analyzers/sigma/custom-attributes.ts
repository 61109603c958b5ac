/**
 * The keys of a rule document Sigma does not define (Sigma allows custom attributes). Ours,
 * `shouwang: { suppress: 30m, group_by: [user.name] }`, is checked and typed here; the others are
 * kept as YAML values.
 */
import { isFieldName, isPlainObject } from '../../core/index.js';
import type { CustomAttributes, ShouwangAttributes, YamlValue } from './rule-tree.js';
import { describeValue } from './describe-value.js';
import { parseTimespan } from './timespan.js';

/** Keys of the Sigma rule, correlation and filter specifications (2.1). */
const SIGMA_KEYS = new Set([
  'title', 'id', 'name', 'related', 'taxonomy', 'status', 'description', 'license', 'author', 'references', 'date', 'modified',
  'logsource', 'detection', 'fields', 'falsepositives', 'level', 'tags', 'scope', 'correlation', 'filter', 'generate',
]);

/** Problems of `shouwang:` are reported with their path; a bad key is left out (the alert defaults apply). */
export function buildCustomAttributes(body: Record<string, unknown>, fail: (path: string, message: string) => void): CustomAttributes {
  const other: Record<string, YamlValue> = {};
  for (const [key, value] of Object.entries(body)) {
    if (!SIGMA_KEYS.has(key) && key !== 'shouwang') other[key] = value as YamlValue;
  }
  const custom: CustomAttributes = { other };
  if (body.shouwang !== undefined) custom.shouwang = shouwangAttributes(body.shouwang, fail);
  return custom;
}

function shouwangAttributes(value: unknown, fail: (path: string, message: string) => void): ShouwangAttributes {
  const attributes: ShouwangAttributes = {};
  if (!isPlainObject(value)) {
    fail('shouwang', 'shouwang: expected a map such as {suppress: 30m, group_by: [user.name]}');
    return attributes;
  }
  for (const [key, inner] of Object.entries(value)) {
    if (key === 'suppress') {
      const ms = parseTimespan(inner);
      if (ms === undefined) fail('shouwang.suppress', `shouwang.suppress: expected a duration such as 30m or 1h, at most a year, got ${describeValue(inner)}`);
      else attributes.suppressMs = ms;
    } else if (key === 'group_by') {
      const fields = Array.isArray(inner) && inner.every((field) => typeof field === 'string' && isFieldName(field)) ? (inner as string[]) : undefined;
      if (!fields || fields.length === 0) fail('shouwang.group_by', 'shouwang.group_by: expected a non-empty list of field names');
      else attributes.groupBy = fields;
    } else {
      fail(`shouwang.${key}`, `shouwang.${key}: unknown key; expected suppress or group_by`);
    }
  }
  return attributes;
}
