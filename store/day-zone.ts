import { canonicalTimeZone, isTimeZone, zoneDayBounds } from '../core/index.js';
import { StoreErrors } from './errors.js';

/**
 * The zone days are grouped in: an IANA name Intl knows (`Asia/Shanghai`, `Europe/Berlin`, `Asia/Kathmandu`), spelled
 * as Intl spells it so Elasticsearch, which reads names case-sensitively, knows it too. Anything else is an invalid query.
 */
export function dayZone(timeZone: string): string {
  if (typeof timeZone !== 'string' || !isTimeZone(timeZone)) {
    const shown = typeof timeZone === 'string' ? JSON.stringify(timeZone.slice(0, 64)) : typeof timeZone;
    throw StoreErrors.invalidQuery(`timeZone must be an IANA time zone such as Asia/Shanghai, got ${shown}`);
  }
  return canonicalTimeZone(timeZone);
}

/**
 * Day groups one query may span: ten years (the trend asks at most 90 days). The embedded store lists every local
 * midnight of the range first; an open range over a stray alert dated year 9999 must not list three million.
 */
export const MAX_DAY_GROUPS = 3_660;

/** The local midnights bounding the days of [fromMs, toMs) in the zone (see zoneDayBounds), at most MAX_DAY_GROUPS days. */
export function dayBounds(zone: string, fromMs: number, toMs: number): number[] {
  if ((toMs - fromMs) / 86_400_000 > MAX_DAY_GROUPS) {
    throw StoreErrors.invalidQuery(`days are grouped over at most ${MAX_DAY_GROUPS} days; give a shorter from/to`);
  }
  return zoneDayBounds(zone, fromMs, toMs);
}
