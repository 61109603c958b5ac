import { ALERT_STATUSES, RULE_LEVELS } from '../core/index.js';
import { StoreErrors } from './errors.js';
import { ALERT_SORT_FIELDS, type AlertSortField } from './ports.js';

/**
 * An alert page's sort key: the sorted column's value (absent for a last-seen sort), then last seen
 * (epoch ms), then id. Both adapters page with it, so a cursor means the same thing on either.
 */
export type AlertSortKey = (number | string)[];

/** Level and status sort by severity and workflow, not by name: their rank is the position in these lists. */
export const LEVEL_RANKS = RULE_LEVELS;
export const STATUS_RANKS = ALERT_STATUSES;

const TEXT_SORTS: ReadonlySet<AlertSortField> = new Set(['system', 'department']);

export function alertSortField(sort: string | undefined): AlertSortField {
  if (sort === undefined) return 'lastSeen';
  if (!(ALERT_SORT_FIELDS as readonly string[]).includes(sort)) throw StoreErrors.invalidQuery(`cannot sort alerts by ${JSON.stringify(sort)}`);
  return sort as AlertSortField;
}

export function encodeAlertCursor(key: AlertSortKey): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** A cursor made under another sort (or forged) is a 400, never a wrong page. */
export function decodeAlertCursor(text: string, sort: AlertSortField): AlertSortKey {
  const bad = () => StoreErrors.invalidQuery(`bad page cursor for sort ${sort} ${JSON.stringify(text.slice(0, 40))}`);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  const primary = sort === 'lastSeen' ? [] : [TEXT_SORTS.has(sort) ? 'string' : 'number'];
  const kinds = [...primary, 'number', 'string'];
  if (!Array.isArray(value) || value.length !== kinds.length) throw bad();
  value.forEach((item, i) => {
    if (typeof item !== kinds[i] || (typeof item === 'number' && !Number.isFinite(item))) throw bad();
  });
  return value as AlertSortKey;
}
