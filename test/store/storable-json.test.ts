import { describe, expect, it } from 'vitest';
import { expandDotted, RECORD_LIMITS, recordShapeProblem, seededRandom, typedFieldProblem, type ShouwangEvent } from '../../core/index.js';
import { storableEvent } from '../../store/index.js';
import { eventRejectReason, storableJson } from '../../store/paging.js';

/** What both stores wrote before the copy was skipped: the checks, then the expanded copy, serialised. */
const before = (raw: ShouwangEvent) => {
  const basic = eventRejectReason(raw) ?? recordShapeProblem(raw);
  if (basic) return { reason: basic };
  const event = expandDotted(raw);
  const typed = typedFieldProblem(event);
  return typed ? { reason: typed } : { json: JSON.stringify(event) };
};
/** storableJson (the embedded store) and storableEvent (Elasticsearch) must both agree with it. */
const now = (raw: ShouwangEvent) => {
  const prepared = storableJson(raw);
  const event = storableEvent(raw);
  expect('reason' in event ? event : { json: JSON.stringify(event.event) }).toEqual('reason' in prepared ? prepared : { json: prepared.json });
  return 'reason' in prepared ? prepared : { json: prepared.json };
};
const base = { id: 'e1', '@timestamp': '2026-04-01T00:00:00.000Z' };

describe('storableJson: the JSON the embedded store writes, without the copy when nothing needs expanding', () => {
  it('writes the same text as the expanded copy for dotted keys, non-plain objects, "__proto__" keys and arrays', () => {
    const cases: Record<string, unknown>[] = [
      { ...base, message: 'plain', host: { name: 'h', ip: ['10.0.0.1'] } },
      { ...base, 'host.name': 'dotted', host: { ip: ['10.0.0.2'] } },
      { ...base, host: { 'os.name': 'nested dotted' } },
      { ...base, list: [{ 'a.b': 1 }, { c: [{ 'd.e': 2 }] }] },
      { ...base, when: new Date('2026-04-01T00:00:00Z'), boxed: Object(new String('ab')) as unknown },
      { ...base, inArray: [new Date('2026-04-01T00:00:00Z')] },
      { ...base, bare: Object.assign(Object.create(null) as Record<string, unknown>, { x: 1 }) },
      { ...base, map: new Map([['k', 1]]), bytes: Buffer.from('hi') },
      JSON.parse('{"id":"p","@timestamp":"2026-04-01T00:00:00Z","__proto__":{"polluted":1},"a.__proto__.b":2,"constructor":{"prototype":{"x":1}}}') as Record<string, unknown>,
      { ...base, message: undefined, 'user.name': undefined, n: null },
      { ...base, 'host.ip': 'not an ip' },
      { ...base, deep: JSON.parse(`${'{"a":'.repeat(RECORD_LIMITS.maxDepth)}1${'}'.repeat(RECORD_LIMITS.maxDepth)}`) as unknown },
      { ...base, [Array(RECORD_LIMITS.maxDepth + 1).fill('a').join('.')]: 1 },
      { id: '', '@timestamp': 'yesterday' },
    ];
    for (const raw of cases) expect(now(raw as ShouwangEvent)).toEqual(before(raw as ShouwangEvent));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('agrees with the expanded copy on 20,000 seeded random documents', () => {
    const random = seededRandom(20261206);
    const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
    const keys = ['a', 'b', 'host', 'name', 'ip', 'a.b', 'host.name', 'host.ip', 'x.y.z', '__proto__', 'constructor', '.', 'a..b', '0', '1'];
    const value = (depth: number): unknown => {
      const roll = random();
      if (depth > 4 || roll < 0.4) return pick(['s', '10.0.0.1', 1, -2.5, true, null, undefined, '']);
      if (roll < 0.55) return Array.from({ length: Math.floor(random() * 3) }, () => value(depth + 1));
      if (roll < 0.6) return new Date(Math.floor(random() * 2e12));
      const out: Record<string, unknown> = {};
      for (let i = Math.floor(random() * 4); i > 0; i -= 1) Object.defineProperty(out, pick(keys), { value: value(depth + 1), enumerable: true, writable: true, configurable: true });
      return out;
    };
    for (let i = 0; i < 20_000; i += 1) {
      const doc = value(0);
      const raw = { ...base, ...(doc !== null && typeof doc === 'object' && !Array.isArray(doc) ? doc : { v: doc }) } as ShouwangEvent;
      expect(now(raw), JSON.stringify(raw)).toEqual(before(raw));
    }
  });

  it("leaves the caller's event unchanged", () => {
    const raw = { ...base, 'host.name': 'h', user: { name: 'u' } } as unknown as ShouwangEvent;
    const copy = JSON.stringify(raw);
    storableJson(raw);
    expect(JSON.stringify(raw)).toBe(copy);
  });
});
