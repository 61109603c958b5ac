import { DEFAULT_TIME_ZONE, formatOffset, zoneDate, zoneDayBounds, zoneOffsetMs, zonedToEpoch } from '../core/index.js';

// Evidence is read in the configured `timeZone` (default Asia/Shanghai): every time and calendar day in the
// report is local to it, with the offset written after each time so a reader elsewhere can convert.

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `2026-06-01 08:00:00 +08:00` (Asia/Shanghai); the offset is the zone's at that instant. */
export function formatLocal(ms: number, zone = DEFAULT_TIME_ZONE): string {
  const offsetMs = zoneOffsetMs(zone, ms);
  const d = new Date(ms + offsetMs);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${formatOffset(offsetMs)}`;
}

export const formatLocalIso = (iso: string, zone = DEFAULT_TIME_ZONE): string =>
  (Number.isNaN(Date.parse(iso)) ? iso : formatLocal(Date.parse(iso), zone));

/** The zone's calendar day of an instant, `2026-06-01`. */
export function localDay(ms: number, zone = DEFAULT_TIME_ZONE): string {
  return zoneDate(zone, ms);
}

export function nextDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

/**
 * The same wall-clock time `months` calendar months earlier in the zone; a day the earlier month lacks
 * is its last day (31 August − 6 months → 28/29 February).
 */
export function calendarMonthsBefore(ms: number, months: number, zone = DEFAULT_TIME_ZONE): number {
  const local = new Date(ms + zoneOffsetMs(zone, ms));
  const first = new Date(Date.UTC(local.getUTCFullYear(), local.getUTCMonth() - months, 1));
  const lastDay = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 1, 0)).getUTCDate();
  return zonedToEpoch(zone, first.getUTCFullYear(), first.getUTCMonth(), Math.min(local.getUTCDate(), lastDay),
    local.getUTCHours(), local.getUTCMinutes(), local.getUTCSeconds(), local.getUTCMilliseconds());
}

/**
 * The longest histogram step (1 h, 30 min, 15 min) whose buckets, aligned on UTC, never straddle a local midnight of
 * the zone over [fromMs, toMs]: Asia/Kolkata's days start on the half hour, Asia/Kathmandu's on the quarter, so an
 * hour bucket would give a day's first minutes to the day before.
 */
export function dayAlignedStep(fromMs: number, toMs: number, zone = DEFAULT_TIME_ZONE): number {
  const bounds = zoneDayBounds(zone, fromMs, toMs);
  return [3_600_000, 1_800_000, 900_000].find((step) => bounds.every((b) => b % step === 0)) ?? 60_000;
}
