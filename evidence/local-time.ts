import { SHANGHAI_OFFSET, SHANGHAI_OFFSET_MS as OFFSET_MS } from '../core/index.js';

// Evidence is read in China Standard Time: every time and calendar day in the report is +08:00.

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `2026-06-01 08:00:00 +08:00` */
export function formatLocal(ms: number): string {
  const d = new Date(ms + OFFSET_MS);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${SHANGHAI_OFFSET}`;
}

export const formatLocalIso = (iso: string): string => (Number.isNaN(Date.parse(iso)) ? iso : formatLocal(Date.parse(iso)));

/** The +08:00 calendar day of an instant, `2026-06-01`. */
export function localDay(ms: number): string {
  return new Date(ms + OFFSET_MS).toISOString().slice(0, 10);
}

export function nextDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

/**
 * The same wall-clock time `months` calendar months earlier in +08:00; a day the earlier month lacks
 * is its last day (31 August − 6 months → 28/29 February).
 */
export function calendarMonthsBefore(ms: number, months: number): number {
  const local = new Date(ms + OFFSET_MS);
  const first = new Date(Date.UTC(local.getUTCFullYear(), local.getUTCMonth() - months, 1));
  const lastDay = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 1, 0)).getUTCDate();
  return Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), Math.min(local.getUTCDate(), lastDay),
    local.getUTCHours(), local.getUTCMinutes(), local.getUTCSeconds(), local.getUTCMilliseconds()) - OFFSET_MS;
}
