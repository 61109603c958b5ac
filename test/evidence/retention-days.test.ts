import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseInventory, type ShouwangEvent } from '../../core/index.js';
import { EmbeddedStore } from '../../store/index.js';
import { gatherFacts } from '../../evidence/facts.js';
import { dayAlignedStep } from '../../evidence/local-time.js';
import { loadIntrusionRules } from '../../evidence/intrusion-rules.js';

const DAY = 86_400_000;
const PERIOD = { from: '2026-06-01T00:00:00.000Z', to: '2026-07-01T00:00:00.000Z' };

/**
 * One event a day at 12:00 UTC from November to June, and one at 20:00 UTC on 30 June (the period ends at 00:00 UTC, already 1 July local), except on 2026-03-10 local, whose only event is 20 minutes after
 * its local midnight: written out by hand, 18:50 UTC on the 9th in Asia/Kolkata (+05:30), 18:35 in Asia/Kathmandu (+05:45).
 */
const ZONES = [
  { zone: 'Asia/Kolkata', system: 'sys-kolkata', early: '2026-03-09T18:50:00.000Z' },
  { zone: 'Asia/Kathmandu', system: 'sys-kathmandu', early: '2026-03-09T18:35:00.000Z' },
];

describe('log retention days in half- and quarter-hour zones (evidence)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shouwang-retention-days-'));
  let store: EmbeddedStore;

  beforeAll(async () => {
    store = new EmbeddedStore({ path: join(dir, 'store.db') });
    await store.assets.replaceInventory(parseInventory({
      departments: [{ id: 'dept-z', name: '时区' }],
      systems: ZONES.map((z) => ({ id: z.system, name: z.system, department: 'dept-z', mlpsLevel: 3, zone: '政务外网', owner: { name: '张三' } })),
    }, 'test'));
    const events: ShouwangEvent[] = [];
    for (const z of ZONES) {
      for (let t = Date.parse('2025-11-01T12:00:00Z'); t < Date.parse(PERIOD.to); t += DAY) {
        // 12:00 UTC on the 10th is already the 10th in both zones: leave it out, the early event is that day's only one.
        if (new Date(t).toISOString().startsWith('2026-03-10')) continue;
        events.push({ id: `${z.system}-${t}`, '@timestamp': new Date(t).toISOString(), message: 'm', event: { dataset: 'system.auth' }, shouwang: { department: 'dept-z', system: z.system, mlps_level: 3 } });
      }
      events.push({ id: `${z.system}-last`, '@timestamp': '2026-06-30T20:00:00.000Z', message: 'm', event: { dataset: 'system.auth' }, shouwang: { department: 'dept-z', system: z.system, mlps_level: 3 } });
      events.push({ id: `${z.system}-early`, '@timestamp': z.early, message: 'm', event: { dataset: 'system.auth' }, shouwang: { department: 'dept-z', system: z.system, mlps_level: 3 } });
    }
    await store.events.write(events);
  });
  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const z of ZONES) {
    it(`counts an event 20 minutes after local midnight on its own day: ${z.zone}`, async () => {
      const facts = await gatherFacts(store, { ...PERIOD, system: z.system }, undefined, {
        settings: { timeZone: z.zone }, intrusionRules: await loadIntrusionRules(),
      });
      const retention = facts.systems.find((s) => s.system.id === z.system)!.audit.retention;
      expect(retention).toMatchObject({ gapDays: 0, gaps: [] });
    });
  }

  it('steps histograms by the hour where days start on the hour, by the half or quarter hour where they do not', () => {
    const [from, to] = [Date.parse('2026-01-01T00:00:00Z'), Date.parse('2026-07-01T00:00:00Z')];
    expect(dayAlignedStep(from, to, 'Asia/Shanghai')).toBe(3_600_000);
    expect(dayAlignedStep(from, to, 'Europe/Berlin')).toBe(3_600_000);
    expect(dayAlignedStep(from, to, 'Asia/Kolkata')).toBe(1_800_000);
    expect(dayAlignedStep(from, to, 'Australia/Adelaide')).toBe(1_800_000);
    expect(dayAlignedStep(from, to, 'Asia/Kathmandu')).toBe(900_000);
  });
});
