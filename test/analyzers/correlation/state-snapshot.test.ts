import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Correlator } from '../../../analyzers/correlation/index.js';
import type { CorrelationHit, Signal } from '../../../analyzers/types.js';
import { correlations, minutes, sampleCorrelations, signal } from './rule-documents.js';

// Open correlation windows across a restart: Correlator.snapshot() → JSON → restore() in a new process.

const RULES = sampleCorrelations();

const LATENESS = 60_000;
const fail = (minute: number, ip: string, user = 'root', ms = 100) => signal('ssh_fail', minute, { source: { ip }, user: { name: user }, ms });
const ok = (minute: number, ip: string) => signal('ssh_ok', minute, { source: { ip } });
const summary = (hits: CorrelationHit[]) =>
  hits.map((hit) => [hit.rule.id, Object.values(hit.group).join('/'), minutes(hit.windowStart), minutes(hit.windowEnd), hit.value]);

/** A day's stream over three addresses: bursts, sprays, slow logins, successes. */
function stream(): Signal[] {
  const out: Signal[] = [];
  const ips = ['203.0.113.7', '198.51.100.4', '192.0.2.9'];
  for (let i = 0; i < 150; i += 1) {
    const ip = ips[i % 3]!;
    out.push(fail(i / 5 + (i % 11 === 0 ? 4 : 0), ip, `u${i % 4}`, (i * 37) % 900));
    if (i % 25 === 24) out.push(ok(i / 5 + 0.05, ip));
  }
  // A quiet address: fewer than 3 in its window.
  out.push(fail(7, '192.0.2.200'), fail(8, '192.0.2.200'));
  return out.sort((a, b) => a.time - b.time || (a.eventId < b.eventId ? -1 : 1));
}

/** Through JSON, as the state file does. */
const throughDisk = (correlator: Correlator) => JSON.parse(JSON.stringify(correlator.snapshot())) as unknown;

describe('correlation state snapshot', () => {
  it('gives the hits of an uninterrupted run when restored at any point of the stream', () => {
    const signals = stream();
    const whole = new Correlator(RULES, { latenessMs: LATENESS });
    const expected = [...signals.flatMap((s) => whole.push(s)), ...whole.flush()];
    expect(new Set(expected.map((hit) => hit.rule.id))).toEqual(new Set(['bf', 'few', 'spray', 'slow', 'after']));
    for (const cut of [1, 17, 60, 101, signals.length - 1]) {
      const first = new Correlator(RULES, { latenessMs: LATENESS });
      const hits = signals.slice(0, cut).flatMap((s) => first.push(s));
      const second = new Correlator(RULES, { latenessMs: LATENESS });
      second.restore(throughDisk(first));
      hits.push(...signals.slice(cut).flatMap((s) => second.push(s)), ...second.flush());
      expect(summary(hits), `cut at ${cut}`).toEqual(summary(expected));
      expect(hits.map((hit) => hit.signals.map((s) => s.eventId))).toEqual(expected.map((hit) => hit.signals.map((s) => s.eventId)));
    }
  });

  it('ignores signals replayed after a restore (a source resuming from an older checkpoint): the burst counts once', () => {
    const burst = Array.from({ length: 12 }, (_, i) => fail(i / 10, '203.0.113.7'));
    const first = new Correlator(RULES, { latenessMs: LATENESS });
    burst.slice(0, 6).forEach((s) => first.push(s));
    const second = new Correlator(RULES, { latenessMs: LATENESS });
    second.restore(throughDisk(first));
    // The file source re-reads from its checkpoint: lines 3..5 again (same event ids), then 6..8.
    const hits = burst.slice(3, 9).flatMap((s) => second.push(s));
    hits.push(...second.tick());
    expect(hits.filter((hit) => hit.rule.id === 'bf')).toEqual([]);
    hits.push(...burst.slice(9).flatMap((s) => second.push(s)), ...second.flush());
    const bf = hits.filter((hit) => hit.rule.id === 'bf');
    expect(summary(bf)).toEqual([['bf', '203.0.113.7', 0, 0.9, 10]]);
    expect(bf[0]!.signals.map((s) => s.eventId)).toEqual(burst.slice(0, 10).map((s) => s.eventId));
  });

  it('ignores a replay of signals already processed (past the reorder buffer)', () => {
    const first = new Correlator(RULES, { latenessMs: LATENESS });
    const early = Array.from({ length: 9 }, (_, i) => fail(i / 10, '198.51.100.4'));
    early.forEach((s) => first.push(s));
    first.advanceTo(early[8]!.time + LATENESS / 2); // some processed, none late yet
    const second = new Correlator(RULES, { latenessMs: LATENESS });
    second.restore(throughDisk(first));
    early.forEach((s) => second.push(s));
    expect(second.flush().filter((hit) => hit.rule.id === 'bf')).toEqual([]);
  });

  it('writes each rule once however many signals hold it, and still reads a version 1 state (each signal with its rule whole)', () => {
    const burst = Array.from({ length: 1000 }, (_, i) => fail(i / 2000, `10.0.${i >> 8}.${i & 255}`));
    const first = new Correlator(RULES, { latenessMs: LATENESS });
    burst.forEach((s) => first.push(s));
    const saved = throughDisk(first) as { version: number; rules: { id: string }[]; buffer: { rule: unknown }[] };
    expect({ version: saved.version, rules: saved.rules.map((rule) => rule.id), buffered: saved.buffer.length })
      .toEqual({ version: 2, rules: ['ssh_fail'], buffered: 1000 });
    expect(JSON.stringify(saved).split('"tags"').length - 1).toBe(1);
    // The same state as version 1 wrote it: every signal (buffered, or held by a window) with its rule whole.
    const whole = (signal: { rule: unknown }) => ({ ...signal, rule: saved.rules[signal.rule as number] });
    const v1 = JSON.parse(JSON.stringify({ ...saved, version: 1, rules: undefined, buffer: saved.buffer.map(whole) })) as Record<string, unknown>;
    // Each of the other 999 signals is its rule's length (less an index of up to 3 digits) shorter.
    expect(JSON.stringify(v1).length - JSON.stringify(saved).length).toBeGreaterThan(999 * (JSON.stringify(saved.rules[0]).length - 3));
    const rest = Array.from({ length: 20 }, (_, i) => fail(1 + i / 10, '10.0.0.1'));
    const hitsOf = (state: unknown) => {
      const correlator = new Correlator(RULES, { latenessMs: LATENESS });
      correlator.restore(state);
      return [...rest.flatMap((s) => correlator.push(s)), ...correlator.flush()];
    };
    const fromV2 = hitsOf(saved);
    const fromV1 = hitsOf(v1);
    expect(fromV2.length).toBeGreaterThan(0);
    expect(summary(fromV1)).toEqual(summary(fromV2));
    expect(fromV2.flatMap((hit) => hit.signals.map((s) => s.rule))).toEqual(fromV1.flatMap((hit) => hit.signals.map((s) => s.rule)));
    expect(fromV2[0]!.signals[0]!.rule).toEqual(burst[0]!.rule);
  });

  it('refuses malformed state without changing anything: random bytes, wrong shapes, bad signals', () => {
    const good = (() => {
      const c = new Correlator(RULES, { latenessMs: LATENESS });
      Array.from({ length: 5 }, (_, i) => fail(i, '203.0.113.7')).forEach((s) => c.push(s));
      return throughDisk(c) as Record<string, unknown>;
    })();
    const deep: Record<string, unknown> = {};
    let at = deep;
    for (let i = 0; i < 5000; i += 1) at = (at.x = {}) as Record<string, unknown>;
    const bad: unknown[] = [
      null, 42, 'state', [], randomBytes(64).toString('latin1'), deep,
      { ...good, version: 3 },
      { ...good, rules: 'all' },
      { ...good, buffer: [{ ...(good.buffer as Record<string, unknown>[])[0], rule: 7 }] },
      { ...good, buffer: [{ ...(good.buffer as Record<string, unknown>[])[0], rule: -1 }] },
      { ...good, rules: [42] },
      { ...good, newest: 'yesterday' },
      { ...good, buffer: [{ eventId: 'x', time: 'soon', event: {}, rule: { id: 'ssh_fail' } }] },
      { ...good, seen: [5] },
      { ...good, correlations: [{ ...(good.correlations as Record<string, unknown>[])[0], groups: [{ key: 'k' }] }] },
      { ...good, correlations: [{ ...(good.correlations as Record<string, unknown>[])[0], groups: 'all' }] },
    ];
    for (const [i, state] of bad.entries()) {
      const correlator = new Correlator(RULES, { latenessMs: LATENESS });
      expect(() => correlator.restore(state), `bad state #${i}`).toThrow();
      // Still empty and working.
      expect(correlator.openGroups).toBe(0);
      expect(correlator.pending).toBe(0);
      const burst = Array.from({ length: 10 }, (_, i) => fail(i / 10, '192.0.2.9'));
      expect(summary([...burst.flatMap((s) => correlator.push(s)), ...correlator.flush()]).filter(([rule]) => rule === 'bf')).toHaveLength(1);
    }
  });

  it('starts a correlation afresh when its rule changed since the snapshot; the others keep their windows', () => {
    const first = new Correlator(RULES, { latenessMs: LATENESS });
    Array.from({ length: 6 }, (_, i) => fail(i / 10, '203.0.113.7', 'root', 500)).forEach((s) => first.push(s));
    first.advanceTo(fail(2, '-').time);
    const changed = correlations(`
title: brute force
id: bf
correlation: {type: event_count, rules: [ssh_fail], group-by: [user.name], timespan: 5m, condition: {gte: 10}}
`);
    const second = new Correlator([...changed, ...RULES.slice(1)], { latenessMs: LATENESS });
    second.restore(throughDisk(first));
    const hits = second.flush();
    expect(hits.filter((hit) => hit.rule.id === 'bf')).toEqual([]);
    expect(summary(hits.filter((hit) => hit.rule.id === 'slow'))).toEqual([['slow', '203.0.113.7', 0, 0.5, 500]]);
  });
});
