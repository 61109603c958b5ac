// The HTTP source counts a JSON array's elements by scanning its text before JSON.parse (http-tiny-records.test.ts).
// The count must be the array's length for any valid array: strings with escaped quotes, backslashes, brackets and
// commas, nesting, white space anywhere JSON allows it.
import { describe, expect, it } from 'vitest';
import { countArrayElements } from '../../collectors/sources/http-source.js';

/** A small seeded generator, so a failure names a reproducible case. */
function random(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

const TRICKY = ['"', '\\', ',', '[', ']', '{', '}', ' ', '\n', 'é', '中', '\u2028', '\uD83D\uDE00', 'a', '0'];

function value(next: () => number, depth: number): unknown {
  const pick = Math.floor(next() * (depth > 4 ? 4 : 7));
  if (pick === 0) return Math.floor(next() * 1e6) - 5e5;
  if (pick === 1) return Array.from({ length: Math.floor(next() * 12) }, () => TRICKY[Math.floor(next() * TRICKY.length)]).join('');
  if (pick === 2) return next() < 0.5 ? null : next() < 0.5;
  if (pick === 3) return next() * 1e-3;
  if (pick < 6) return Array.from({ length: Math.floor(next() * 4) }, () => value(next, depth + 1));
  return Object.fromEntries(Array.from({ length: Math.floor(next() * 4) }, (_, i) => [`${TRICKY[Math.floor(next() * TRICKY.length)]}${i}`, value(next, depth + 1)]));
}

/** JSON text with white space spread where JSON allows it. */
function spaced(text: string, next: () => number): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i]!;
    out += c;
    if (inString) {
      if (c === '\\') out += text[++i];
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    if (!inString && ',:[{'.includes(c) && next() < 0.3) out += [' ', '\n', '\t', '\r\n'][Math.floor(next() * 4)];
  }
  return out;
}

describe('countArrayElements', () => {
  it('gives the length of 3,000 random valid arrays, counted up to one past the limit', () => {
    const next = random(20261207);
    for (let round = 0; round < 3_000; round += 1) {
      const array = Array.from({ length: Math.floor(next() * 20) }, () => value(next, 0));
      const text = `${next() < 0.5 ? ' \n' : ''}${spaced(JSON.stringify(array), next)}${next() < 0.5 ? '\n' : ''}`;
      expect((JSON.parse(text) as unknown[]).length).toBe(array.length);
      expect({ round, count: countArrayElements(text, Number.POSITIVE_INFINITY) }).toEqual({ round, count: array.length });
      const limit = Math.floor(next() * 20);
      expect({ round, count: countArrayElements(text, limit) }).toEqual({ round, count: Math.min(array.length, limit + 1) });
    }
  });

  it('counts nothing in what is not an array, leaving JSON.parse to refuse it', () => {
    for (const text of ['', '   ', '{"a":[1,2,3]}', '"[1,2]"', '1', 'x[1,2]']) expect(countArrayElements(text, 10)).toBe(0);
    expect(countArrayElements('[]', 10)).toBe(0);
    expect(countArrayElements('[ \n ]', 10)).toBe(0);
  });
});
