import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Correlator, CorrelationStateFile } from '../../../analyzers/correlation/index.js';
import type { Signal } from '../../../analyzers/types.js';
import { correlations, T0 } from './rule-documents.js';

// The state file journals a correlator's reorder buffer, seen ids and early hits: what it loads is, at every save,
// the correlator's own snapshot (buffer order aside), through appends, compactions, ticks, restores and flushes.

const RULES = correlations(`
title: brute force
id: bf
correlation: {type: event_count, rules: [ssh_fail], group-by: [source.ip], timespan: 2m, condition: {gte: 4}}
---
title: success after brute force
id: after
correlation: {type: temporal_ordered, rules: [bf, ssh_ok], group-by: [source.ip], timespan: 10m}
---
title: a lone success
id: quiet
correlation: {type: event_count, rules: [ssh_ok], group-by: [source.ip], timespan: 20s, condition: {lt: 2}}
`);
const LATENESS = 2 * 60_000;

const dir = mkdtempSync(join(tmpdir(), 'state-journal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

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

interface Saved { rule: unknown; eventId: string; time: number }
interface Snapshot { rules?: unknown[]; buffer: Saved[]; correlations: { groups: { entries: { signal: Saved }[] }[] }[] }

/** A snapshot with every rule inline and the buffer in processing order (a heap's layout is no part of the state). */
function normal(snapshot: unknown): unknown {
  const s = JSON.parse(JSON.stringify(snapshot)) as Snapshot;
  const inline = (signal: Saved): Saved => (typeof signal.rule === 'number' ? { ...signal, rule: s.rules![signal.rule] } : signal);
  const id = (signal: Saved) => (signal.rule as { id: string }).id;
  s.buffer = s.buffer.map(inline).sort((a, b) => a.time - b.time || id(a).localeCompare(id(b)) || a.eventId.localeCompare(b.eventId));
  for (const c of s.correlations) for (const g of c.groups) g.entries = g.entries.map((e) => ({ ...e, signal: inline(e.signal) }));
  delete s.rules;
  return s;
}

describe('the correlation state journal', () => {
  it('loads what the correlator holds at every save, on random streams with late signals, ticks, restores and compactions', async () => {
    for (let seed = 1; seed <= 6; seed += 1) {
      const rand = random(seed);
      let wall = Date.parse('2026-12-06T10:00:00Z');
      const options = { latenessMs: LATENESS, now: () => wall };
      const path = join(dir, `seed-${seed}`, 'correlation.json');
      // Small compaction slack: the journal is also written afresh now and then.
      let file = new CorrelationStateFile(path, { compactSlack: seed % 2 === 0 ? 50 : 100_000 });
      let correlator = new Correlator(RULES, options);
      let time = T0;
      let saves = 0;
      // Over 1,024 seen ids: the correlator prunes them too.
      for (let i = 0; i < 1300; i += 1) {
        time += Math.floor(rand() * 2000);
        const late = rand() < 0.15 ? Math.floor(rand() * 90_000) : 0;
        const rule = rand() < 0.8 ? 'ssh_fail' : 'ssh_ok';
        const signal: Signal = {
          rule: { id: rule, title: rule, level: 'medium', tags: [] }, eventId: `s${seed}-${i}`, time: time - late,
          event: { source: { ip: `192.0.2.${Math.floor(rand() * 3)}` } },
        };
        correlator.push(signal);
        if (rand() < 0.05) correlator.push(signal); // replayed
        if (rand() < 0.2) {
          wall += rand() < 0.05 ? LATENESS : Math.floor(rand() * 3000);
          correlator.tick();
        }
        if (rand() < 0.12) {
          await file.save(() => correlator);
          saves += 1;
          expect(normal(await file.load()), `seed ${seed}, save after ${i}`).toEqual(normal(correlator.snapshot()));
        }
        if (rand() < 0.01) {
          // A restart after a save: a new state file object and a correlator restored from what it loads.
          await file.save(() => correlator);
          file = new CorrelationStateFile(path, { compactSlack: seed % 2 === 0 ? 50 : 100_000 });
          const restored = new Correlator(RULES, options);
          restored.restore(await file.load());
          expect(normal(restored.snapshot())).toEqual(normal(correlator.snapshot()));
          correlator = restored;
        }
      }
      correlator.flush();
      await file.save(() => correlator);
      expect(normal(await file.load())).toEqual(normal(correlator.snapshot()));
      expect(saves).toBeGreaterThan(100);
      // One journal beside the state file: the others went with their compaction.
      expect(readdirSync(join(dir, `seed-${seed}`)).filter((name) => name.endsWith('.journal'))).toHaveLength(1);
    }
  });

  it('a correlator restored from the journal goes on exactly as the one that wrote it', async () => {
    const path = join(dir, 'go-on', 'correlation.json');
    let wall = Date.parse('2026-12-06T10:00:00Z');
    const options = { latenessMs: LATENESS, now: () => wall };
    const writer = new Correlator(RULES, options);
    const file = new CorrelationStateFile(path);
    const fail = (i: number): Signal => ({
      rule: { id: 'ssh_fail', title: 'ssh_fail', level: 'medium', tags: [] }, eventId: `f${i}`, time: T0 + i * 1000, event: { source: { ip: `10.0.0.${i % 3}` } },
    });
    for (let i = 0; i < 300; i += 1) {
      writer.push(fail(i));
      if (i % 20 === 0) {
        wall += 1000;
        writer.tick();
        await file.save(() => writer);
      }
    }
    await file.save(() => writer);
    const reader = new Correlator(RULES, options);
    reader.restore(await file.load());
    for (let i = 300; i < 400; i += 1) expect(JSON.stringify(reader.push(fail(i)))).toBe(JSON.stringify(writer.push(fail(i))));
    wall += 1000;
    expect(JSON.stringify(reader.tick())).toBe(JSON.stringify(writer.tick()));
    expect(JSON.stringify(reader.flush())).toBe(JSON.stringify(writer.flush()));
  });
});
