import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { seededRandom, zoneDayBounds } from '../../core/index.js';
import { dayCase } from '../../store/embedded/day-case.js';

/** The day start of `ms` by a plain scan: the last bound at or before it. */
const dayOf = (bounds: readonly number[], ms: number) => bounds.filter((b) => b <= ms).pop();

describe('day of a row by binary search over local midnights (embedded store)', () => {
  const db = new Database(':memory:');

  it('gives the same day as a scan, for every size of range and at each bound and 1 ms either side', () => {
    const next = seededRandom(7);
    for (const days of [1, 2, 3, 30, 90, 1000]) {
      const bounds = zoneDayBounds('Europe/Berlin', Date.parse('2026-01-01T00:00:00Z'), Date.parse('2026-01-01T00:00:00Z') + days * 86_400_000 - 1);
      const [first, last] = [bounds[0]!, bounds[bounds.length - 1]!];
      const values = [...bounds.slice(0, -1).flatMap((b) => [b, b + 1, b - 1].filter((v) => v >= first && v < last)),
        ...Array.from({ length: 200 }, () => first + Math.floor(next() * (last - first)))];
      const sql = db.prepare(`SELECT ${dayCase('value', bounds)} FROM json_each(?)`).pluck();
      expect(sql.all(JSON.stringify(values)), `${days} days`).toEqual(values.map((v) => dayOf(bounds, v)));
    }
  });

  it('refuses bounds that are not integers or too few to make a day', () => {
    for (const bad of [[], [1], [0, 1.5], [0, Number.NaN], [0, 2 ** 60]]) expect(() => dayCase('v', bad)).toThrow(/day bounds/);
  });
});
