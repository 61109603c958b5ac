/** `+08:00` → minutes east of UTC. */
export function offsetMinutes(utcOffset: string): number {
  const sign = utcOffset.startsWith('-') ? -1 : 1;
  const [h = 0, m = 0] = utcOffset.slice(1).split(':').map(Number);
  return sign * (h * 60 + m);
}

const minuteOfDay = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Local minute of the day (0–1439) of an instant in a fixed-offset zone. */
export function localMinute(epochMs: number, utcOffset: string): number {
  const local = Math.floor(epochMs / 60_000) + offsetMinutes(utcOffset);
  return ((local % 1440) + 1440) % 1440;
}

/** Whether `epochMs` falls in [from, to) local time; a range past midnight (22:00–07:00) wraps. */
export function inDailyRange(epochMs: number, from: string, to: string, utcOffset: string): boolean {
  const now = localMinute(epochMs, utcOffset);
  const start = minuteOfDay(from);
  const end = minuteOfDay(to);
  if (start === end) return false;
  return start < end ? now >= start && now < end : now >= start || now < end;
}

/** The latest instant at or before `epochMs` whose local time is `hhmm`. */
export function lastDailyAt(epochMs: number, hhmm: string, utcOffset: string): number {
  const dayStart = epochMs - (localMinute(epochMs, utcOffset) * 60_000 + (((epochMs % 60_000) + 60_000) % 60_000));
  const at = dayStart + minuteOfDay(hhmm) * 60_000;
  return at <= epochMs ? at : at - 86_400_000;
}
