import { describe, expect, it } from 'vitest';
import { canonicalTimeZone, nextZoneDay, zoneDate, zoneDayBounds, zoneDayStart, zoneOffsetMs } from '../../core/index.js';

const at = (iso: string) => Date.parse(iso);
const HOUR = 3_600_000;

describe('zone days: local midnights in any IANA zone', () => {
  it('starts a day with no midnight where its clock starts: America/Havana springs forward at 00:00', () => {
    // 2026-03-08 00:00 CST → 01:00 CDT: the day starts at 01:00 local (05:00 UTC) and lasts 23 hours.
    const day = zoneDayStart('America/Havana', at('2026-03-08T12:00:00Z'));
    expect(new Date(day).toISOString()).toBe('2026-03-08T05:00:00.000Z');
    expect(zoneDate('America/Havana', day)).toBe('2026-03-08');
    expect(zoneDate('America/Havana', day - 1)).toBe('2026-03-07');
    expect(nextZoneDay('America/Havana', day) - day).toBe(23 * HOUR);
    // Falling back at 01:00 CDT repeats 00:00–01:00 on 2026-11-01: the day starts at the first midnight and lasts 25 hours.
    const autumn = zoneDayStart('America/Havana', at('2026-11-01T12:00:00Z'));
    expect(new Date(autumn).toISOString()).toBe('2026-11-01T04:00:00.000Z');
    expect(nextZoneDay('America/Havana', autumn) - autumn).toBe(25 * HOUR);
  });

  it('lists the local midnights of a range: quarter-hour zones, both Berlin switches, and the ends', () => {
    const iso = (ms: number[]) => ms.map((m) => new Date(m).toISOString());
    expect(iso(zoneDayBounds('Asia/Kathmandu', at('2026-06-01T00:00:00Z'), at('2026-06-02T18:15:00Z')))).toEqual([
      '2026-05-31T18:15:00.000Z', '2026-06-01T18:15:00.000Z', '2026-06-02T18:15:00.000Z',
    ]);
    expect(iso(zoneDayBounds('Europe/Berlin', at('2026-03-28T12:00:00Z'), at('2026-03-29T22:00:00.001Z')))).toEqual([
      '2026-03-27T23:00:00.000Z', '2026-03-28T23:00:00.000Z', '2026-03-29T22:00:00.000Z', '2026-03-30T22:00:00.000Z',
    ]);
    expect(iso(zoneDayBounds('Australia/Adelaide', at('2026-04-04T12:00:00Z'), at('2026-04-05T12:00:00Z')))).toEqual([
      '2026-04-03T13:30:00.000Z', '2026-04-04T13:30:00.000Z', '2026-04-05T14:30:00.000Z',
    ]);
    // An empty range still has the day that holds its start, and that day's end.
    expect(zoneDayBounds('UTC', at('2026-06-01T05:00:00Z'), at('2026-06-01T05:00:00Z'))).toEqual([at('2026-06-01T00:00:00Z'), at('2026-06-02T00:00:00Z')]);
    // Eleven months of a DST zone: each 23 to 25 hours, on local midnight.
    const bounds = zoneDayBounds('America/New_York', at('2026-01-15T00:00:00Z'), at('2026-12-15T00:00:00Z'));
    for (const [i, b] of bounds.slice(1).entries()) {
      expect([23, 24, 25].map((h) => h * HOUR)).toContain(b - bounds[i]!);
      expect(new Date(b + zoneOffsetMs('America/New_York', b)).toISOString()).toMatch(/T00:00:00\.000Z$/);
    }
  });

  it('spells a zone as Intl does, whatever its case', () => {
    expect(canonicalTimeZone('asia/shanghai')).toBe('Asia/Shanghai');
    expect(canonicalTimeZone('EUROPE/BERLIN')).toBe('Europe/Berlin');
    expect(canonicalTimeZone('utc')).toBe('UTC');
  });

  it('always moves forward, also over a calendar day a zone lived twice or skipped, in every zone Intl knows', () => {
    // Alaska repeated 18 October 1867, Apia 4 July 1892, Kwajalein 30 September 1969; Samoa skipped 30 December 2011.
    const windows = [['1867-10-10', '1867-10-25'], ['1892-06-28', '1892-07-08'], ['1969-09-20', '1969-10-10'], ['2011-12-25', '2012-01-05']];
    for (const zone of Intl.supportedValuesOf('timeZone')) {
      for (const [from, to] of windows) {
        const bounds = zoneDayBounds(zone, at(`${from}T12:00:00Z`), at(`${to}T12:00:00Z`));
        expect(bounds.length, `${zone} ${from}`).toBeLessThan(40);
        for (let i = 1; i < bounds.length; i += 1) expect(bounds[i]! > bounds[i - 1]!, `${zone} ${new Date(bounds[i]!).toISOString()}`).toBe(true);
      }
    }
    const kwajalein = zoneDayStart('Pacific/Kwajalein', at('1969-09-30T12:00:00Z'));
    expect(nextZoneDay('Pacific/Kwajalein', kwajalein)).toBeGreaterThan(kwajalein);
  });
});
