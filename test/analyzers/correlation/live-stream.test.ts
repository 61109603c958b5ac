import { describe, expect, it } from 'vitest';
import { Correlator, compileCorrelation, type CompiledCorrelation } from '../../../analyzers/correlation/index.js';
import type { CorrelationHit, RuleProblem } from '../../../analyzers/types.js';
import { minutes, ruleDocuments, signal, T0 } from './rule-documents.js';

// Processing time on a live stream: Correlator.tick() with a fake wall clock (no sleeps).

function correlations(text: string): CompiledCorrelation[] {
  const problems: RuleProblem[] = [];
  const compiled = ruleDocuments(text).filter((doc) => doc.kind === 'correlation').map((doc) => compileCorrelation(doc, problems)!);
  expect(problems).toEqual([]);
  return compiled;
}

const eventCount = (condition: string, timespan = '5m') => correlations(`
title: brute force
id: bf
correlation: {type: event_count, rules: [ssh_fail], group-by: [source.ip], timespan: ${timespan}, condition: ${condition}}
`);
const fail = (minute: number, ip = '203.0.113.7') => signal('ssh_fail', minute, { source: { ip } });
const summary = (hits: CorrelationHit[]) =>
  hits.map((hit) => [hit.rule.id, Object.values(hit.group).join('/'), minutes(hit.windowStart), minutes(hit.windowEnd), hit.value]);

/** A wall clock the test moves by hand. */
function clock(start = Date.parse('2026-12-06T10:00:00Z')) {
  let now = start;
  return { now: () => now, pass: (ms: number) => (now += ms) };
}

const LATENESS = 5 * 60_000;

describe('processing time (tick)', () => {
  it('raises a finished brute-force burst at the next tick, with no later traffic, and only once', () => {
    const wall = clock();
    const correlator = new Correlator(eventCount('{gte: 10}'), { latenessMs: LATENESS, now: wall.now });
    const burst = Array.from({ length: 10 }, (_, i) => fail(i / 10));
    // Held by the 5-minute lateness: pushing alone releases nothing.
    expect(burst.flatMap((s) => correlator.push(s))).toEqual([]);
    wall.pass(1000);
    const early = correlator.tick();
    expect(summary(early)).toEqual([['bf', '203.0.113.7', 0, 0.9, 10]]);
    expect(early[0]!.signals.map((s) => s.eventId)).toEqual(burst.map((s) => s.eventId));
    expect(correlator.tick()).toEqual([]);
    // In-order processing finds the same hit later (by processing time here): not returned again.
    wall.pass(LATENESS + 1000);
    expect(correlator.tick()).toEqual([]);
    expect(correlator.pending).toBe(0);
    expect(correlator.flush()).toEqual([]);
  });

  it('does not raise a burst below the threshold early', () => {
    const wall = clock();
    const correlator = new Correlator(eventCount('{gte: 10}'), { latenessMs: LATENESS, now: wall.now });
    for (let i = 0; i < 9; i += 1) correlator.push(fail(i / 10));
    wall.pass(1000);
    expect(correlator.tick()).toEqual([]);
    wall.pass(60 * 60_000);
    expect(correlator.tick()).toEqual([]);
    expect(correlator.openGroups).toBe(1);
  });

  it('closes an upper-bound window by processing time: the lateness after the stream went quiet', () => {
    const wall = clock();
    const correlator = new Correlator(eventCount('{lt: 3}'), { latenessMs: LATENESS, now: wall.now });
    correlator.push(fail(0));
    correlator.push(fail(1));
    // The window [0, 5] closes once event time passes 5 + lateness = 10, i.e. 9 minutes after the newest (1).
    wall.pass(9 * 60_000);
    expect(correlator.tick()).toEqual([]);
    wall.pass(1000);
    expect(summary(correlator.tick())).toEqual([['bf', '203.0.113.7', 0, 1, 2]]);
    expect(correlator.openGroups).toBe(0);
  });

  it('moves event time on from the newest event, not to the wall clock: old logs replayed are not dropped', () => {
    // The wall clock is months after T0: were it taken as event time, every signal would be "late".
    const wall = clock(T0 + 200 * 86_400_000);
    const correlator = new Correlator(eventCount('{gte: 3}'), { latenessMs: LATENESS, now: wall.now });
    correlator.push(fail(0));
    wall.pass(1000);
    correlator.tick();
    correlator.push(fail(0.5));
    correlator.push(fail(1));
    expect(correlator.dropped).toBe(0);
    wall.pass(1000);
    expect(summary(correlator.tick())).toEqual([['bf', '203.0.113.7', 0, 1, 3]]);
  });

  it('does not count the time the process was down: a restored stream waits for its lateness again', () => {
    const wall = clock();
    const first = new Correlator(eventCount('{lt: 3}'), { latenessMs: LATENESS, now: wall.now });
    first.push(fail(0));
    const saved = JSON.parse(JSON.stringify(first.snapshot())) as unknown;
    wall.pass(24 * 60 * 60_000);
    const second = new Correlator(eventCount('{lt: 3}'), { latenessMs: LATENESS, now: wall.now });
    second.restore(saved);
    expect(second.tick()).toEqual([]);
    // A line written while it was down still counts when the source catches up.
    second.push(fail(1));
    expect(second.dropped).toBe(0);
    wall.pass(10 * 60_000);
    expect(summary(second.tick())).toEqual([['bf', '203.0.113.7', 0, 1, 2]]);
  });

  it('chains early: brute force then a success alerts at the next tick too', () => {
    const chain = correlations(`
title: success after brute force
id: after
correlation: {type: temporal_ordered, rules: [bf, ssh_ok], group-by: [source.ip], timespan: 30m}
---
title: brute force
id: bf
correlation: {type: event_count, rules: [ssh_fail], group-by: [source.ip], timespan: 5m, condition: {gte: 10}}
`);
    const wall = clock();
    const correlator = new Correlator(chain, { latenessMs: LATENESS, now: wall.now });
    for (let i = 0; i < 10; i += 1) correlator.push(fail(i / 10));
    correlator.push(signal('ssh_ok', 2, { source: { ip: '203.0.113.7' } }));
    wall.pass(1000);
    expect(summary(correlator.tick()).map(([rule]) => rule)).toEqual(['bf', 'after']);
    wall.pass(LATENESS + 60_000);
    expect(correlator.tick()).toEqual([]);
    expect(correlator.flush()).toEqual([]);
  });

  it('returns the final hit as well when a late signal changes the window an early hit had', () => {
    const wall = clock();
    const correlator = new Correlator(eventCount('{gte: 3}'), { latenessMs: LATENESS, now: wall.now });
    for (const m of [1, 2, 3]) correlator.push(fail(m));
    wall.pass(1000);
    expect(summary(correlator.tick())).toEqual([['bf', '203.0.113.7', 1, 3, 3]]);
    // Within the lateness, an earlier failure arrives: in event-time order the hit is [0, 2].
    correlator.push(fail(0));
    expect(summary(correlator.flush())).toEqual([['bf', '203.0.113.7', 0, 2, 3]]);
  });
});
