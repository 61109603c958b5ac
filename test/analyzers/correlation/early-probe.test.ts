import { describe, expect, it } from 'vitest';
import { Correlator, type CorrelatorOptions } from '../../../analyzers/correlation/index.js';
import type { CorrelationHit, Signal } from '../../../analyzers/types.js';
import { correlations, T0 } from './rule-documents.js';

// The early-hit probe kept between ticks against the full replay of the reorder buffer it replaces: on random
// interleaved streams (a fixed seed), every call returns the same hits and the state ends the same.

const RULES = correlations(`
title: brute force
id: bf
correlation: {type: event_count, rules: [ssh_fail], group-by: [source.ip], timespan: 2m, condition: {gte: 4}}
---
title: spray
id: spray
correlation: {type: value_count, rules: [ssh_fail], group-by: [source.ip], timespan: 5m, condition: {field: user.name, gte: 3}}
---
title: export
id: export
correlation: {type: value_sum, rules: [select], group-by: [user.name], timespan: 10m, condition: {field: db.rows, gt: 1000}}
---
title: recon
id: recon
correlation: {type: temporal, rules: [a, b, c], group-by: [host.name], timespan: 3m}
---
title: recon ordered
id: recon-ordered
correlation: {type: temporal_ordered, rules: [a, b, c], group-by: [host.name], timespan: 3m}
---
title: success after brute force
id: after
correlation: {type: temporal_ordered, rules: [bf, ssh_ok], group-by: [source.ip], timespan: 10m}
---
title: a lone success
id: quiet
correlation: {type: event_count, rules: [ssh_ok], group-by: [source.ip], timespan: 20s, condition: {lt: 2}}
---
title: failure after a quiet minute
id: quiet-then-fail
correlation: {type: temporal, rules: [quiet, ssh_fail], group-by: [source.ip], timespan: 10m}
`);

/**
 * A windowed temporal correlation (the parser refuses an upper bound for temporal today; the compiled form allows
 * it): it hits as signals come, from a state the replay starts empty at each tick, so the probe replays for it.
 */
const WITH_WINDOWED_TEMPORAL = [...RULES, { ...RULES.find((c) => c.rule.id === 'recon')!, rule: { ...RULES.find((c) => c.rule.id === 'recon')!.rule, id: 'recon-windowed' }, eager: false }];

const LATENESS = 2 * 60_000;

/** mulberry32: a small seeded generator, so a failure replays. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Signals in event time, then in arrival order: `disorder` of them late (within the lateness, a few beyond), some in
 * the same ms, some in bursts of one address in one ms.
 */
function stream(rand: () => number, length: number, disorder: number): Signal[] {
  const pick = <T>(items: readonly T[]) => items[Math.floor(rand() * items.length)]!;
  const ips = ['203.0.113.7', '198.51.100.4', '192.0.2.1'];
  const users = ['alice', 'bob', 'carol', 'dave'];
  const events: { signal: Signal; arrival: number }[] = [];
  let time = T0;
  for (let i = 0; i < length; i += 1) {
    time += rand() < 0.2 ? 0 : Math.floor(rand() * 3000);
    const rule = pick(['ssh_fail', 'ssh_fail', 'ssh_fail', 'ssh_ok', 'select', 'a', 'b', 'c']);
    const event: Record<string, unknown> = rule === 'select' ? { user: { name: pick(users) }, db: { rows: Math.floor(rand() * 600) } }
      : rule.length === 1 ? { host: { name: pick(['web1', 'web2']) } }
        : { source: { ip: pick(ips) }, user: { name: pick(users) } };
    const roll = rand();
    const delay = roll < disorder ? Math.floor(rand() * 60_000) : roll < disorder * 1.1 ? LATENESS + Math.floor(rand() * 60_000) : 0;
    events.push({ signal: { rule: { id: rule, title: rule, level: 'medium', tags: [] }, eventId: `e${i}`, time, event }, arrival: time + delay });
    if (rand() < 0.01) {
      const ip = pick(ips);
      for (let j = 0; j < 8; j += 1) {
        events.push({ signal: { rule: { id: 'ssh_fail', title: 'ssh_fail', level: 'medium', tags: [] }, eventId: `e${i}.${j}`, time, event: { source: { ip }, user: { name: pick(users) } } }, arrival: time });
      }
    }
  }
  return events.sort((x, y) => x.arrival - y.arrival).map((e) => e.signal);
}

const text = (hits: CorrelationHit[]) => JSON.stringify(hits);

function compare(seed: number, length: number, disorder: number, rules = RULES): { early: number; restores: number } {
  const rand = random(seed);
  let wall = Date.parse('2026-12-06T10:00:00Z');
  const options = (earlyProbe: CorrelatorOptions['earlyProbe']): CorrelatorOptions => ({ latenessMs: LATENESS, now: () => wall, earlyProbe });
  let incremental = new Correlator(rules, options('incremental'));
  let replay = new Correlator(rules, options('replay'));
  const signals = stream(rand, length, disorder);
  let early = 0;
  let restores = 0;
  signals.forEach((signal, i) => {
    expect(text(incremental.push(signal)), `push ${i}`).toBe(text(replay.push(signal)));
    // A source replaying after a crash pushes a signal again.
    if (rand() < 0.03) {
      const again = signals[Math.floor(rand() * (i + 1))]!;
      expect(text(incremental.push(again))).toBe(text(replay.push(again)));
    }
    if (rand() < 0.3) {
      wall += rand() < 0.02 ? LATENESS : Math.floor(rand() * 2000);
      const hits = incremental.tick();
      expect(text(hits), `tick after ${i}`).toBe(text(replay.tick()));
      early += hits.length;
    }
    if (rand() < 0.02) {
      const to = signal.time + Math.floor(rand() * 30_000);
      expect(text(incremental.advanceTo(to))).toBe(text(replay.advanceTo(to)));
    }
    if (rand() < 0.01) {
      // A restart from the state file: both restore what the other wrote (the state is the same).
      const saved = JSON.parse(JSON.stringify(incremental.snapshot())) as unknown;
      expect(JSON.stringify(replay.snapshot())).toBe(JSON.stringify(saved));
      incremental = new Correlator(rules, options('incremental'));
      replay = new Correlator(rules, options('replay'));
      incremental.restore(saved);
      replay.restore(JSON.parse(JSON.stringify(saved)));
      restores += 1;
    }
  });
  expect(JSON.stringify(incremental.snapshot())).toBe(JSON.stringify(replay.snapshot()));
  expect(text(incremental.flush())).toBe(text(replay.flush()));
  return { early, restores };
}

describe('the incremental early-hit probe', () => {
  it('returns what a full replay of the reorder buffer returns, on random interleaved streams with late signals and restarts', () => {
    let early = 0;
    let restores = 0;
    for (let seed = 1; seed <= 14; seed += 1) {
      // In order (the probe only appends), rarely late, often late (the probe starts afresh).
      const run = compare(seed, 1500, [0, 0.01, 0.2][seed % 3]!, seed > 12 ? WITH_WINDOWED_TEMPORAL : RULES);
      early += run.early;
      restores += run.restores;
    }
    // The streams do exercise early hits and restarts.
    expect(early).toBeGreaterThan(100);
    expect(restores).toBeGreaterThan(10);
  });

  it('keeps returning what the replay returns on a long in-order brute force (settled signals, no rebuild)', () => {
    let wall = Date.parse('2026-12-06T10:00:00Z');
    const options = (earlyProbe: CorrelatorOptions['earlyProbe']): CorrelatorOptions => ({ latenessMs: LATENESS, now: () => wall, earlyProbe });
    const incremental = new Correlator(RULES, options('incremental'));
    const replay = new Correlator(RULES, options('replay'));
    let early = 0;
    for (let i = 0; i < 3000; i += 1) {
      const signal: Signal = {
        rule: { id: 'ssh_fail', title: 'ssh_fail', level: 'medium', tags: [] }, eventId: `f${i}`, time: T0 + i * 100,
        event: { source: { ip: `10.0.0.${i % 7}` }, user: { name: `u${i % 5}` } },
      };
      expect(text(incremental.push(signal))).toBe(text(replay.push(signal)));
      if (i % 10 === 0) {
        wall += 1000;
        const hits = incremental.tick();
        expect(text(hits)).toBe(text(replay.tick()));
        early += hits.length;
      }
    }
    expect(early).toBeGreaterThan(500);
    expect(text(incremental.flush())).toBe(text(replay.flush()));
  });
});
