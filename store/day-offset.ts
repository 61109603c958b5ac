import { StoreErrors } from './errors.js';

export const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** A UTC offset days may be grouped by: whole hours between -12 h and +14 h, as time zones have. */
export function dayOffset(utcOffsetMs: number): number {
  if (!Number.isInteger(utcOffsetMs / HOUR_MS) || utcOffsetMs < -12 * HOUR_MS || utcOffsetMs > 14 * HOUR_MS) {
    throw StoreErrors.invalidQuery(`utcOffsetMs must be whole hours between -12 h and +14 h, got ${utcOffsetMs}`);
  }
  return utcOffsetMs;
}

/** The offset as Elasticsearch's time_zone: `+08:00`. */
export function timeZoneOf(utcOffsetMs: number): string {
  const hours = Math.abs(dayOffset(utcOffsetMs) / HOUR_MS);
  return `${utcOffsetMs < 0 ? '-' : '+'}${String(hours).padStart(2, '0')}:00`;
}
