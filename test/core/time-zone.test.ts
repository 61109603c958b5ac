import { describe, expect, it } from 'vitest';
import {
  formatOffset, isTimeZone, nextZoneDay, zoneHasDaylightSaving, zoneDate, zoneDayStart, zonedToEpoch, zoneOffset, zoneOffsetMs,
} from '../../core/index.js';

const at = (iso: string) => Date.parse(iso);
const HOUR = 3_600_000;

describe('time zone', () => {
  it('knows IANA zones Intl knows and refuses others', () => {
    expect(isTimeZone('Asia/Shanghai')).toBe(true);
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('Europe/Berlin')).toBe(true);
    for (const bad of ['Asia/Shanghia', 'Mars/Olympus', '', 'x'.repeat(10_000), 'Asia/Shanghai\u0000']) expect(isTimeZone(bad)).toBe(false);
  });

  it('Asia/Shanghai is +08:00 all year, with days starting at 16:00 UTC', () => {
    for (const iso of ['2026-01-15T12:00:00Z', '2026-07-15T12:00:00Z']) {
      expect(zoneOffsetMs('Asia/Shanghai', at(iso))).toBe(8 * HOUR);
      expect(zoneOffset('Asia/Shanghai', at(iso))).toBe('+08:00');
    }
    expect(zoneDate('Asia/Shanghai', at('2026-06-01T15:59:59Z'))).toBe('2026-06-01');
    expect(zoneDate('Asia/Shanghai', at('2026-06-01T16:00:00Z'))).toBe('2026-06-02');
    expect(new Date(zoneDayStart('Asia/Shanghai', at('2026-06-01T20:00:00Z'))).toISOString()).toBe('2026-06-01T16:00:00.000Z');
    expect(new Date(zonedToEpoch('Asia/Shanghai', 2026, 10, 20, 10, 0, 1)).toISOString()).toBe('2026-11-20T02:00:01.000Z');
  });

  it('UTC is +00:00', () => {
    expect(zoneOffset('UTC', at('2026-03-29T01:30:00Z'))).toBe('+00:00');
    expect(new Date(zoneDayStart('UTC', at('2026-03-29T23:59:59.999Z'))).toISOString()).toBe('2026-03-29T00:00:00.000Z');
  });

  it('Europe/Berlin follows its daylight-saving switches, both ways', () => {
    // Spring forward 2026-03-29 01:00 UTC (02:00 CET → 03:00 CEST); fall back 2026-10-25 01:00 UTC.
    expect(zoneOffset('Europe/Berlin', at('2026-03-29T00:59:59Z'))).toBe('+01:00');
    expect(zoneOffset('Europe/Berlin', at('2026-03-29T01:00:00Z'))).toBe('+02:00');
    expect(zoneOffset('Europe/Berlin', at('2026-10-25T00:59:59Z'))).toBe('+02:00');
    expect(zoneOffset('Europe/Berlin', at('2026-10-25T01:00:00Z'))).toBe('+01:00');
    // The same quarter hour asked twice, then the next one: the cache does not hold an old offset.
    expect(zoneOffsetMs('Europe/Berlin', at('2026-03-29T00:50:00Z'))).toBe(HOUR);
    expect(zoneOffsetMs('Europe/Berlin', at('2026-03-29T01:10:00Z'))).toBe(2 * HOUR);
    // A 23-hour day and a 25-hour day.
    const spring = zoneDayStart('Europe/Berlin', at('2026-03-29T12:00:00Z'));
    expect(new Date(spring).toISOString()).toBe('2026-03-28T23:00:00.000Z');
    expect(nextZoneDay('Europe/Berlin', spring) - spring).toBe(23 * HOUR);
    const autumn = zoneDayStart('Europe/Berlin', at('2026-10-25T12:00:00Z'));
    expect(new Date(autumn).toISOString()).toBe('2026-10-24T22:00:00.000Z');
    expect(nextZoneDay('Europe/Berlin', autumn) - autumn).toBe(25 * HOUR);
    // Wall clock to instant on each side; 02:30 on the spring day does not exist and reads as after the switch.
    expect(new Date(zonedToEpoch('Europe/Berlin', 2026, 2, 29, 1, 30)).toISOString()).toBe('2026-03-29T00:30:00.000Z');
    expect(new Date(zonedToEpoch('Europe/Berlin', 2026, 2, 29, 3, 30)).toISOString()).toBe('2026-03-29T01:30:00.000Z');
    expect(zonedToEpoch('Europe/Berlin', 2026, 2, 29, 2, 30)).toBeGreaterThanOrEqual(at('2026-03-29T01:00:00Z'));
  });

  it('tells zones with daylight saving from those without', () => {
    const now = at('2026-12-06T00:00:00Z');
    expect(zoneHasDaylightSaving('Europe/Berlin', now)).toBe(true);
    expect(zoneHasDaylightSaving('Asia/Shanghai', now)).toBe(false);
    expect(zoneHasDaylightSaving('UTC', now)).toBe(false);
  });

  it('writes offsets west of UTC and in half hours', () => {
    expect(formatOffset(-5 * HOUR)).toBe('-05:00');
    expect(formatOffset(5.5 * HOUR)).toBe('+05:30');
    expect(zoneOffset('Asia/Kolkata', at('2026-06-01T00:00:00Z'))).toBe('+05:30');
    expect(zoneOffset('America/New_York', at('2026-01-15T00:00:00Z'))).toBe('-05:00');
  });
});
