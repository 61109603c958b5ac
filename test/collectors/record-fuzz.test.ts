import { describe, expect, it } from 'vitest';
import { AssetIndex, expandDotted, getField, loadInventory, mergeFields, seededRandom } from '../../core/index.js';
import { BOUNDARY_SAMPLES, fixtureLines, FUZZ_FORMATS, fuzzInput, runFuzz } from '../../bench/fuzz.js';
import { decodeLine, decodeRecordLine } from '../../collectors/index.js';
import { storableEvent } from '../../store/index.js';
import { decodeAuditd } from '../../collectors/decoders/auditd.js';

/**
 * A bounded, seeded fuzz of the ingest path (decode + enrich + the stores' shape and type check,
 * with expandDotted), in process and without a store: `npm run bench -- fuzz` runs 1,000,000 per decoder.
 */
describe('ingest fuzz (seeded)', () => {
  const corpus = fixtureLines();

  it('mutates real fixture lines', () => {
    expect(corpus.length).toBeGreaterThan(1000);
  });

  it('200,000 JSON-line and syslog inputs: nothing throws, each ends stored-shaped or a dead letter', () => {
    const outcome = runFuzz('auto', 20261206, 200_000, corpus);
    expect(outcome.escaped).toEqual([]);
    expect(outcome.stored + outcome.deadLettered).toBe(200_000);
    expect(outcome.stored).toBeGreaterThan(10_000); // the fuzz reaches the store check, not only the parser
    expect(Object.keys(Object.prototype)).toEqual([]); // no "__proto__" key leaked into every object
  }, 120_000);

  it.each(FUZZ_FORMATS.filter((format) => format !== 'auto'))('%s: 10,000 inputs, nothing throws', (format) => {
    const outcome = runFuzz(format, 7, 10_000, corpus);
    expect(outcome.escaped).toEqual([]);
    expect(outcome.stored + outcome.deadLettered).toBe(10_000);
  }, 60_000);

  it('expandDotted keeps "__proto__" as data and never changes Object.prototype', () => {
    const doc = JSON.parse('{"__proto__":{"polluted":1},"a.__proto__.b":2,"constructor":{"prototype":{"x":1}}}') as Record<string, unknown>;
    const out = expandDotted(doc);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(JSON.parse(JSON.stringify(out))).toEqual(JSON.parse('{"__proto__":{"polluted":1},"a":{"__proto__":{"b":2}},"constructor":{"prototype":{"x":1}}}'));
  });

  it('expandDotted, mergeFields and getField survive 100,000 levels (no recursion), and a later key still wins', () => {
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 100_000; i += 1) deep = { a: deep };
    expect(() => expandDotted(deep)).not.toThrow();
    expect(() => mergeFields(deep, deep)).not.toThrow();
    expect(getField(expandDotted({ [Array(100_000).fill('a').join('.')]: 7 }), Array(100_000).fill('a').join('.'))).toBe(7);
    expect(expandDotted({ a: { b: 1, c: 1 }, 'a.b': 2 })).toEqual({ a: { b: 2, c: 1 } });
    expect(expandDotted({ 'a.b': 2, a: { c: 1 } })).toEqual({ a: { b: 2, c: 1 } });
    expect(mergeFields({ a: { b: 1, c: { d: 1 } } }, { a: { c: { e: 2 } } })).toEqual({ a: { b: 1, c: { d: 1, e: 2 } } });
  });

  it('auditd: a stamp past the last date JavaScript can hold is a dead letter, not a throw (found by the fuzz bench, seed 20261206)', () => {
    const line = 'type=PROCTITLE msg=audit(1451781471451781471.394:194438): proctitle="bash"';
    expect(decodeAuditd(line)).toEqual({ ok: false, reason: expect.stringContaining('out of range') });
  });
});

describe('boundary decoders under attack (seeded)', () => {
  const assets = new AssetIndex(loadInventory('config/inventory.demo.yaml'));
  const context = { utcOffset: '+08:00', now: new Date('2026-11-20T02:00:00Z') };
  const BOUNDARY_DATASETS = new Set(['netfilter.log', 'cef', 'leef', 'firewall.kv', 'huawei.usg', 'h3c.secpath', 'sangfor.fw', 'suricata.eve']);
  const decodeAs = (text: string, position: string) => (text.startsWith('{')
    ? decodeRecordLine({ text, position }, 'fuzz', assets, context, 'suricata-eve')
    : decodeLine({ text, position }, 'fuzz', assets, context));

  it('every sample decodes to its boundary dataset', () => {
    for (const [i, text] of BOUNDARY_SAMPLES.entries()) {
      const decoded = decodeAs(text, `s${i}`);
      expect(decoded.ok && BOUNDARY_DATASETS.has(decoded.event.event?.dataset ?? ''), text).toBe(true);
    }
  });

  it('every truncation of every sample: stored-shaped or a dead letter with a reason, never a throw', () => {
    for (const [i, sample] of BOUNDARY_SAMPLES.entries()) {
      for (let at = 0; at <= sample.length; at += 1) {
        const decoded = decodeAs(sample.slice(0, at), `t${i}.${at}`);
        if (decoded.ok) expect('event' in storableEvent(decoded.event), sample.slice(0, at)).toBe(true);
        else expect(decoded.reason.length > 0 && !decoded.reason.startsWith('decoder failed'), decoded.reason).toBe(true);
      }
    }
  });

  it('50,000 mutations and random bytes: nothing throws, each stored-shaped or a dead letter with its reason, the boundary decoders reached', () => {
    const rand = seededRandom(17);
    const reached = new Set<string>();
    let deadLetters = 0;
    for (let index = 0; index < 50_000; index += 1) {
      const text = fuzzInput(rand, BOUNDARY_SAMPLES);
      const decoded = decodeAs(text, String(index));
      if (!decoded.ok) {
        expect(decoded.reason.startsWith('decoder failed'), `${decoded.reason} ← ${JSON.stringify(text.slice(0, 300))}`).toBe(false);
        expect(decoded.reason).not.toBe('');
        deadLetters += 1;
        continue;
      }
      const prepared = storableEvent(decoded.event);
      if ('event' in prepared) reached.add(prepared.event.event?.dataset ?? '');
      else deadLetters += 1;
    }
    expect([...BOUNDARY_DATASETS].filter((d) => !reached.has(d))).toEqual([]);
    expect(deadLetters).toBeGreaterThan(1000);
  }, 120_000);
});
