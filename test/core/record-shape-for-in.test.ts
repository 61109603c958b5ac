// The for-in walk of core/record-limits.ts answers exactly as the Object.keys walk it replaced (b39a3b3),
// on hostile JSON (__proto__, constructor, numeric keys, huge key counts, deep nesting), null-prototype and boxed values.
import { describe, expect, it } from 'vitest';
import { RECORD_LIMITS, recordShape } from '../../core/index.js';
import { seededRandom, type RecordShape } from '../../core/index.js';

const problem = (text: string) => ({ problem: text, expands: false });
const pendingValues: unknown[] = [];
const pendingDepths: number[] = [];
function oldShape(doc: unknown) {
  try {
    return walkShape(doc);
  } finally {
    pendingValues.length = 0;
    pendingDepths.length = 0;
  }
}
function walkShape(doc: unknown): RecordShape {
  const { maxDepth, maxFields, maxStringChars } = RECORD_LIMITS;
  let fields = 0;
  let expands = false;
  pendingValues.push(doc);
  pendingDepths.push(1);
  while (pendingValues.length) {
    const value = pendingValues.pop();
    const depth = pendingDepths.pop()!;
    if (typeof value === 'string') {
      if (value.length > maxStringChars) return problem(`record too large: a string value is longer than ${maxStringChars} characters`);
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth > maxDepth) return problem(`record too deep: nested more than ${maxDepth} levels`);
    if (Array.isArray(value)) {
      for (const item of value) {
        pendingValues.push(item);
        pendingDepths.push(depth + 1);
      }
      continue;
    }
    if (!expands) {
      const prototype: unknown = Object.getPrototypeOf(value);
      expands = prototype !== Object.prototype && prototype !== null;
    }
    for (const key of Object.keys(value)) {
      let parts = 1;
      for (let dot = key.indexOf('.'); dot >= 0; dot = key.indexOf('.', dot + 1)) parts += 1;
      if (parts > 1) expands = true;
      fields += parts;
      if (fields > maxFields) return problem(`record too large: more than ${maxFields} fields`);
      if (depth + parts - 1 > maxDepth) return problem(`record too deep: nested more than ${maxDepth} levels`);
      pendingValues.push((value as Record<string, unknown>)[key]);
      pendingDepths.push(depth + parts);
    }
  }
  return { problem: undefined, expands };
}

function hostile(random: () => number, depth = 0): unknown {
  const r = random();
  if (depth > 40 || r < 0.5 + depth * 0.05) return [1, 'x', null, true, 'y'.repeat(Math.floor(random() * 5))][Math.floor(random() * 5)];
  if (r < 0.45) return Array.from({ length: Math.floor(random() * 4) }, () => hostile(random, depth + 1));
  const keys = ['__proto__', 'constructor', 'prototype', '0', '1', '4294967295', '-1', 'a.b', 'a..b', '.', 'toString', 'hasOwnProperty', 'x'];
  const n = random() < 0.05 ? 1200 : Math.floor(random() * 5);
  const parts: string[] = [];
  for (let i = 0; i < n; i += 1) {
    const key = n > 100 ? `k${i}` : keys[Math.floor(random() * keys.length)]!;
    parts.push(`${JSON.stringify(key)}:${JSON.stringify(n > 100 ? i : hostile(random, depth + 1))}`);
  }
  return JSON.parse(`{${parts.join(',')}}`);
}

describe('recordShape for-in walk', () => {
  it('equals the Object.keys walk on hostile JSON, null-prototype and boxed values', () => {
    const random = seededRandom(9);
    for (let i = 0; i < 3000; i += 1) {
      const doc = hostile(random);
      expect(recordShape(doc)).toEqual(oldShape(doc));
    }
    const special: unknown[] = [
      JSON.parse('{"__proto__": {"a.b": 1, "__proto__": {"x": 2}}}'),
      Object.assign(Object.create(null), { 'a.b': 1, constructor: { prototype: 1 } }),
      { s: new String('abc'), n: new Number(1), b: new Boolean(false), d: new Date(0), m: new Map([[1, 2]]) },
      Object.assign(Object.create({ inherited: 1 }), { own: 1 }),
      Object.create(Object.assign(Object.create(null), { 'x.y': 1 })),
      JSON.parse(`${'{"a":'.repeat(RECORD_LIMITS.maxDepth + 5)}1${'}'.repeat(RECORD_LIMITS.maxDepth + 5)}`),
      JSON.parse(`{${Array.from({ length: 200_000 }, (_, k) => `"${k}":1`).join(',')}}`),
    ];
    for (const doc of special) expect(recordShape(doc)).toEqual(oldShape(doc));
  });
});
