import { describe, expect, it } from 'vitest';
import { RECORD_LIMITS, recordShape } from '../../core/index.js';

describe('recordShape: the record limits walk', () => {
  it('stops at the depth limit on hostile nesting (100,000 levels of objects, arrays, dotted keys) without a stack overflow', () => {
    let object: unknown = 1;
    let array: unknown = 1;
    for (let i = 0; i < 100_000; i += 1) {
      object = { a: object };
      array = [array];
    }
    const deep = `record too deep: nested more than ${RECORD_LIMITS.maxDepth} levels`;
    expect(recordShape(object)).toEqual({ problem: deep, expands: false });
    expect(recordShape(array)).toEqual({ problem: deep, expands: false });
    expect(recordShape({ [Array(RECORD_LIMITS.maxDepth + 1).fill('a').join('.')]: 1 })).toEqual({ problem: deep, expands: false });
  });

  it('counts an object’s keys before it looks at their values: too many fields wins over a long string inside', () => {
    const doc: Record<string, unknown> = { long: 'x'.repeat(RECORD_LIMITS.maxStringChars + 1) };
    for (let i = 0; i < RECORD_LIMITS.maxFields; i += 1) doc[`f${i}`] = i;
    expect(recordShape(doc).problem).toBe(`record too large: more than ${RECORD_LIMITS.maxFields} fields`);
    delete doc.f0;
    expect(recordShape(doc).problem).toBe(`record too large: a string value is longer than ${RECORD_LIMITS.maxStringChars} characters`);
  });

  it('learns whether expandDotted would change the record: a dotted key or an object that is not plain, at any depth', () => {
    expect(recordShape({ a: { b: [1, { c: 'd' }] } })).toEqual({ problem: undefined, expands: false });
    expect(recordShape({ a: [{ 'b.c': 1 }] })).toEqual({ problem: undefined, expands: true });
    expect(recordShape({ a: { b: new Date(0) } })).toEqual({ problem: undefined, expands: true });
  });
});
