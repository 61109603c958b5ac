import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  Correlator, SignalRouter, correlationUnits, decodeCheckpoint, encodeCheckpoint, partitionOf, type CorrelationUnit,
} from '../../../analyzers/correlation/index.js';
import type { CorrelationHit, Signal } from '../../../analyzers/types.js';
import { minutes, sampleCorrelations, signal } from './rule-documents.js';

// Distributed correlation without Redis: the routing of signals to partitions, and the checkpoint
// (offset + window state) a partition's new owner resumes from.

const RULES = sampleCorrelations('user.name');

const LATENESS = 60_000;
const PARTITIONS = 8;
const fail = (minute: number, ip: string, user = 'root', ms = 100) => signal('ssh_fail', minute, { source: { ip }, user: { name: user }, ms, noise: 'x'.repeat(50) });
const ok = (minute: number, ip: string) => signal('ssh_ok', minute, { source: { ip } });
const summary = (hits: CorrelationHit[]) =>
  hits.map((hit) => JSON.stringify([hit.rule.id, Object.values(hit.group).join('/'), minutes(hit.windowStart), minutes(hit.windowEnd), hit.value])).sort();

/** Bursts, sprays and successes over twelve addresses. */
function stream(): Signal[] {
  const out: Signal[] = [];
  for (let i = 0; i < 400; i += 1) {
    const ip = `203.0.113.${i % (i < 200 ? 3 : 12)}`;
    out.push(fail(i / 8 + (i % 13 === 0 ? 0.5 : 0), ip, `u${i % 5}`, (i * 37) % 900));
    if (i % 31 === 30) out.push(ok(i / 8 + 0.05, ip));
  }
  return out.sort((a, b) => a.time - b.time || (a.eventId < b.eventId ? -1 : 1));
}

/** One stream entry as the publisher writes it. */
type Entry = { unit: string; signal: Signal } | { mark: number };

/** What the partition streams hold after publishing `signals`: each signal routed, a time mark after each. */
function publish(signals: Signal[], units: CorrelationUnit[]): Entry[][] {
  const router = new SignalRouter(units, PARTITIONS);
  const streams: Entry[][] = Array.from({ length: PARTITIONS }, () => []);
  for (const s of signals) {
    for (const routed of router.route(s)) streams[routed.partition]!.push({ unit: routed.unit, signal: JSON.parse(JSON.stringify(routed.signal)) as Signal });
    for (const entries of streams) entries.push({ mark: s.time });
  }
  return streams;
}

/** An owner of one partition: a correlator per unit, fed the stream from an offset. */
function own(units: CorrelationUnit[], checkpoint?: string) {
  const correlators = new Map(units.map((u) => [u.id, new Correlator(u.correlations, { latenessMs: LATENESS })]));
  let offset = -1;
  if (checkpoint) {
    const saved = decodeCheckpoint(checkpoint);
    offset = Number(saved.offset.split('-')[0]) - 1;
    for (const [id, c] of correlators) if (saved.units[id]) c.restore(saved.units[id]);
  }
  const hits: CorrelationHit[] = [];
  return {
    hits,
    run(entries: Entry[], to: number) {
      for (let i = offset + 1; i < to; i += 1) {
        const entry = entries[i]!;
        if ('mark' in entry) for (const c of correlators.values()) hits.push(...c.advanceTo(entry.mark));
        else hits.push(...correlators.get(entry.unit)!.push(entry.signal));
        offset = i;
      }
    },
    checkpoint: () => encodeCheckpoint({
      version: 1, offset: `${offset + 1}-0`, units: Object.fromEntries([...correlators].map(([id, c]) => [id, c.snapshot()])),
    }),
    flush: () => hits.push(...[...correlators.values()].flatMap((c) => c.flush())),
  };
}

describe('correlation partitioning', () => {
  it('spreads a single correlation by group and keeps a chain in one unit', () => {
    const units = correlationUnits(RULES);
    expect(units.map((u) => [u.id, u.spread, u.correlations.map((c) => c.rule.id).sort()])).toEqual([
      ['after', false, ['after', 'bf']], ['few', true, ['few']], ['slow', true, ['slow']], ['spray', true, ['spray']],
    ]);
    const router = new SignalRouter(units, PARTITIONS);
    const a = router.route(fail(1, '203.0.113.7', 'root'));
    const b = router.route(fail(2, '203.0.113.7', 'admin'));
    // One copy per unit listing ssh_fail; the same address → the same partition for a unit grouped by it.
    expect(a.map((r) => r.unit)).toEqual(['after', 'few', 'slow', 'spray']);
    expect(b.filter((r) => r.unit !== 'slow').map((r) => r.partition)).toEqual(a.filter((r) => r.unit !== 'slow').map((r) => r.partition));
    // Only the fields the unit reads travel (and not the 50-character noise).
    expect(a.find((r) => r.unit === 'spray')!.signal.event).toEqual({ 'source.ip': '203.0.113.7', 'user.name': 'root' });
    // A signal lacking the group field counts nowhere for that unit; an unknown rule goes nowhere.
    expect(router.route(signal('ssh_fail', 1, { user: { name: 'x' } })).map((r) => r.unit)).toEqual(['after', 'slow']);
    expect(router.route(signal('other', 1, { source: { ip: '1.2.3.4' } }))).toEqual([]);
  });

  it('hashes keys to every partition, the same way in every process (pinned values)', () => {
    // 32-bit FNV-1a (the published vector for "a" is 0xe40c292c): a change here would move a running cluster's groups.
    expect(partitionOf('a', 2 ** 32)).toBe(0xe40c292c);
    expect([partitionOf('bf\u001f10.0.0.1', 16), partitionOf('after', 16), partitionOf('after', 7), partitionOf('', 16)]).toEqual([10, 9, 3, 5]);
    const counts = new Array<number>(16).fill(0);
    for (let i = 0; i < 16_000; i += 1) counts[partitionOf(`spray\u001f10.${i >> 8}.${i & 255}.1`, 16)]! += 1;
    // Each partition gets its share within 15 %.
    for (const n of counts) expect(Math.abs(n - 1000)).toBeLessThan(150);
  });

  it('gives the hits of one correlator when split over partitions, each owner taken over at any checkpoint', () => {
    const signals = stream();
    const whole = new Correlator(RULES, { latenessMs: LATENESS });
    const expected = [...signals.flatMap((s) => whole.push(s)), ...whole.flush()];
    expect(new Set(expected.map((hit) => hit.rule.id))).toEqual(new Set(['bf', 'few', 'spray', 'slow', 'after']));
    const units = correlationUnits(RULES);
    const streams = publish(signals, units);
    for (const fraction of [0, 0.13, 0.5, 0.77]) {
      const hits: CorrelationHit[] = [];
      for (const entries of streams) {
        const cut = Math.floor(entries.length * fraction);
        const first = own(units);
        first.run(entries, cut);
        const checkpoint = first.checkpoint();
        // The first owner went on past its checkpoint and died: those hits were written, and are found again.
        first.run(entries, Math.min(entries.length, cut + 40));
        const second = own(units, checkpoint);
        second.run(entries, entries.length);
        second.flush();
        const again = new Set(summary(second.hits));
        hits.push(...first.hits.filter((hit) => !again.has(summary([hit])[0]!)), ...second.hits);
      }
      // Hits feeding a chain are not alerts of their own here; compare what reaches the alert sink.
      expect(summary(hits), `cut at ${fraction}`).toEqual(summary(expected));
    }
  });

  it('replays from one checkpoint twice to the same state and the same hits (idempotent)', () => {
    const units = correlationUnits(RULES);
    const entries = publish(stream(), units).sort((a, b) => b.length - a.length)[0]!;
    const first = own(units);
    first.run(entries, Math.floor(entries.length / 3));
    const checkpoint = first.checkpoint();
    const runs = [own(units, checkpoint), own(units, checkpoint)];
    for (const run of runs) {
      run.run(entries, entries.length);
      run.flush();
    }
    expect(runs[0]!.checkpoint()).toEqual(runs[1]!.checkpoint());
    expect(summary(runs[0]!.hits)).toEqual(summary(runs[1]!.hits));
  });

  it('refuses a damaged checkpoint: random bytes, truncation, wrong version or offset, deep nesting', () => {
    const units = correlationUnits(RULES);
    const good = own(units);
    good.run(publish(stream().slice(0, 50), units)[0]!, 30);
    const text = good.checkpoint();
    expect(decodeCheckpoint(text).offset).toBe('30-0');
    const deep = '{"a":'.repeat(3000) + '1' + '}'.repeat(3000);
    const bad = [
      randomBytes(200).toString('latin1'), text.slice(0, text.length / 2), 'null', '[]', '"x"', deep,
      text.replace('"version":1', '"version":2'), text.replace('"offset":"30-0"', '"offset":"$"'),
      text.replace('"offset":"30-0"', '"offset":"1-1; DEL *"'), JSON.stringify({ version: 1, offset: '1-0', units: [] }),
    ];
    for (const [i, candidate] of bad.entries()) expect(() => decodeCheckpoint(candidate), `bad checkpoint #${i}`).toThrow();
    // Snapshots of the wrong shape pass the envelope and are refused by Correlator.restore.
    const odd = decodeCheckpoint(JSON.stringify({ version: 1, offset: '1-0', units: { spray: { version: 1 } } }));
    expect(() => new Correlator(units[3]!.correlations, { latenessMs: LATENESS }).restore(odd.units.spray)).toThrow();
  });
});
