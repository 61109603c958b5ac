/**
 * The one configured time zone (`timeZone`, an IANA name such as Asia/Shanghai): calendar days, cron schedules and
 * timestamps that carry no zone all read it. Offsets come from Intl at the instant asked, so a zone with daylight
 * saving (Europe/Berlin) is right on both sides of its switch.
 */
export const DEFAULT_TIME_ZONE = 'Asia/Shanghai';

const DAY_MS = 86_400_000;
/** Offsets change on quarter hours at most: one Intl call per zone and quarter hour on the hot path. */
const SLOT_MS = 15 * 60_000;

const formatters = new Map<string, Intl.DateTimeFormat>();
/** Per zone, offsets by quarter hour: a replay of older logs alternates between "now" and the records' times. */
const offsets = new Map<string, Map<number, number>>();
const MAX_CACHED_SLOTS = 4096;

/**
 * The zone's name as Intl spells it (`asia/shanghai` → `Asia/Shanghai`): Elasticsearch reads zone names case-sensitively.
 * ICU may give an older alias (`Asia/Kolkata` → `Asia/Calcutta`), which names the same rules and Elasticsearch knows too.
 */
export function canonicalTimeZone(zone: string): string {
  return formatter(zone).resolvedOptions().timeZone;
}

/** Whether Node's Intl knows the zone (`Asia/Shanghai`, `UTC`, `Europe/Berlin`). */
export function isTimeZone(name: string): boolean {
  try {
    formatter(name);
    return true;
  } catch {
    return false;
  }
}

function formatter(zone: string): Intl.DateTimeFormat {
  let format = formatters.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
      hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(zone, format);
  }
  return format;
}

function computeOffsetMs(zone: string, epochMs: number): number {
  const parts: Record<string, number> = {};
  for (const part of formatter(zone).formatToParts(new Date(epochMs))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return wall - (epochMs - (((epochMs % 1000) + 1000) % 1000));
}

/** Milliseconds the zone's wall clock is ahead of UTC at `epochMs` (Asia/Shanghai: 8 h; Europe/Berlin: 1 h or 2 h). */
export function zoneOffsetMs(zone: string, epochMs: number): number {
  const slot = Math.floor(epochMs / SLOT_MS);
  let bySlot = offsets.get(zone);
  if (!bySlot) offsets.set(zone, (bySlot = new Map()));
  let offsetMs = bySlot.get(slot);
  if (offsetMs === undefined) {
    if (bySlot.size >= MAX_CACHED_SLOTS) bySlot.clear();
    offsetMs = computeOffsetMs(zone, epochMs);
    bySlot.set(slot, offsetMs);
  }
  return offsetMs;
}

/** Whether the zone's offset differs between January and July of the year of `epochMs` (daylight saving). */
export function zoneHasDaylightSaving(zone: string, epochMs: number): boolean {
  const year = new Date(epochMs).getUTCFullYear();
  return computeOffsetMs(zone, Date.UTC(year, 0, 1)) !== computeOffsetMs(zone, Date.UTC(year, 6, 1));
}

/** The offset as written after a local time: `+08:00`, `-05:00`, `+00:00`. */
export function formatOffset(offsetMs: number): string {
  const minutes = Math.round(Math.abs(offsetMs) / 60_000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${offsetMs < 0 ? '-' : '+'}${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;
}

/** The zone's offset at `epochMs` as text, `+08:00`. */
export function zoneOffset(zone: string, epochMs: number): string {
  // Asked for every line a source reads without a stated zone: each offset is written once (there are a few dozen).
  const offsetMs = zoneOffsetMs(zone, epochMs);
  let text = OFFSET_TEXTS.get(offsetMs);
  if (text === undefined) {
    if (OFFSET_TEXTS.size >= 1024) OFFSET_TEXTS.clear();
    OFFSET_TEXTS.set(offsetMs, (text = formatOffset(offsetMs)));
  }
  return text;
}

const OFFSET_TEXTS = new Map<number, string>();

/**
 * The instant of a wall-clock time in the zone (`Date.UTC` arguments): in a repeated hour the first; in a skipped
 * one the time after the switch (a midnight skipped in America/Havana reads as 01:00, where that day starts).
 */
export function zonedToEpoch(zone: string, year: number, monthIndex: number, day: number, hour = 0, minute = 0, second = 0, ms = 0): number {
  const wall = Date.UTC(year, monthIndex, day, hour, minute, second, ms);
  // The offsets a day either side: a switch lies between them, if any. A candidate counts when its own offset is the one used.
  const before = zoneOffsetMs(zone, wall - DAY_MS);
  const after = zoneOffsetMs(zone, wall + DAY_MS);
  const fits = [wall - before, wall - after].filter((t) => wall - zoneOffsetMs(zone, t) === t).sort((a, b) => a - b);
  // None fits: the time was skipped; the offset before the switch moves it forward by the gap.
  return fits[0] ?? wall - before;
}

/** Midnight in the zone of the calendar day that holds `epochMs`. */
export function zoneDayStart(zone: string, epochMs: number): number {
  const local = new Date(epochMs + zoneOffsetMs(zone, epochMs));
  return zonedToEpoch(zone, local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate());
}

/** The zone's calendar day of an instant, `2026-06-01`. */
export function zoneDate(zone: string, epochMs: number): string {
  return new Date(epochMs + zoneOffsetMs(zone, epochMs)).toISOString().slice(0, 10);
}

/**
 * The local midnights from the day holding `fromMs` through the first at or after `toMs`: day i is
 * [bounds[i], bounds[i + 1]), 23 or 25 hours on a daylight-saving switch day, and days start on the quarter hour
 * where the zone's offset does (Asia/Kathmandu: 18:15 UTC).
 */
export function zoneDayBounds(zone: string, fromMs: number, toMs: number): number[] {
  const bounds = [zoneDayStart(zone, fromMs)];
  while (bounds[bounds.length - 1]! < toMs) bounds.push(nextZoneDay(zone, bounds[bounds.length - 1]!));
  return bounds;
}

/** Midnight of the calendar day after the one that starts at `dayStart` (23 or 25 hours on a switch day). */
export function nextZoneDay(zone: string, dayStart: number): number {
  // Most days: a midnight 24 hours on at the same offset is the next one (one Intl look-up, not five, for a list of days).
  const offsetMs = zoneOffsetMs(zone, dayStart);
  if ((dayStart + offsetMs) % DAY_MS === 0 && zoneOffsetMs(zone, dayStart + DAY_MS) === offsetMs) return dayStart + DAY_MS;
  const next = zoneDayStart(zone, dayStart + DAY_MS + 3 * 3_600_000);
  if (next > dayStart) return next;
  // A calendar day lived twice (Alaska in 1867, Kwajalein in 1969): the day after the repeat, else 24 hours on,
  // so a walk over days always moves forward.
  const later = zoneDayStart(zone, dayStart + 2 * DAY_MS + 3 * 3_600_000);
  return later > dayStart ? later : dayStart + DAY_MS;
}

const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?([Zz]|[+-]\d{2}:?\d{2})?$/;

/**
 * An ISO 8601 date or date-time as an instant. With `Z` or an offset it is that instant; a bare date
 * (`2026-11-01`) or a time without an offset is wall-clock time in `zone`, as a reviewer in that zone
 * means it (JavaScript's own reading, UTC for a date and the process's zone for a time, is neither).
 * Undefined for anything else, including days that do not exist (`2026-02-30`).
 */
export function parseZonedTime(text: string, zone: string): number | undefined {
  const match = ISO_TIME.exec(text.trim());
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map((part) => Number(part ?? 0)) as [number, number, number, number, number, number];
  const ms = match[7] ? Number(match[7].slice(0, 3).padEnd(3, '0')) : 0;
  const offset = match[8];
  const wall = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  const back = new Date(wall);
  if (back.getUTCFullYear() !== year || back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) return undefined;
  if (offset === undefined) return zonedToEpoch(zone, year, month - 1, day, hour, minute, second, ms);
  if (offset === 'Z' || offset === 'z') return wall;
  const digits = offset.replace(':', '');
  const offsetHours = Number(digits.slice(1, 3));
  const offsetMinutes = Number(digits.slice(3, 5));
  if (offsetHours > 23 || offsetMinutes > 59) return undefined;
  return wall - (offset.startsWith('-') ? -1 : 1) * (offsetHours * 3_600_000 + offsetMinutes * 60_000);
}

/** Whether the text is an ISO 8601 date-time that names its instant on its own: with `Z` or an offset. */
export function isIsoInstant(text: string): boolean {
  const match = ISO_TIME.exec(text.trim());
  return match !== null && match[4] !== undefined && match[8] !== undefined && parseZonedTime(text, 'UTC') !== undefined;
}
