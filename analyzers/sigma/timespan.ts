const TIMESPAN_UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** No window or suppression is longer than a year: `99999999999999999999w` would be Infinity and NaN windows. */
const MAX_TIMESPAN_MS = 366 * 86_400_000;

/** `5m`, `1h`, `1d` (lowercase, as the Sigma spec writes them) into milliseconds, at most a year. */
export function parseTimespan(value: unknown): number | undefined {
  const match = typeof value === 'string' ? /^(\d+)([smhdw])$/.exec(value) : null;
  if (!match) return undefined;
  const ms = Number(match[1]) * TIMESPAN_UNITS[match[2]!]!;
  return ms > 0 && ms <= MAX_TIMESPAN_MS ? ms : undefined;
}
