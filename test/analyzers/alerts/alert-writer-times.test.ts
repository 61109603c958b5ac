import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AlertBuilder, AlertSink } from '../../../analyzers/alerts/index.js';
import type { Signal } from '../../../analyzers/types.js';
import { mergeAlert, writerTime, type Alert } from '../../../core/index.js';
import { EmbeddedStore } from '../../../store/index.js';

const base: Alert = {
  id: 'a1', rule: { id: 'r1', title: 'SSH brute force', level: 'high' }, mlps: [], status: 'new', priority: 12,
  timeline: [], firstSeen: '2026-01-01T00:00:00.000Z', lastSeen: '2026-01-01T00:00:00.000Z', count: 1, sampleEventIds: ['e1'],
};

describe('alert writer times (the per-writer replay guard)', () => {
  it('keeps the later time when text order differs from time order (another offset)', () => {
    // 16:10+08:00 is 08:10Z; 08:20Z is later although it sorts first as text.
    const stored = { ...base, writers: { w: '2026-03-02T16:10:00+08:00' } };
    expect(mergeAlert(stored, { ...base, writers: { w: '2026-03-02T08:20:00.000Z' } }).writers).toEqual({ w: '2026-03-02T08:20:00.000Z' });
    // …and keeps the stored time when the repeat's is earlier although it sorts last as text.
    const utc = { ...base, writers: { w: '2026-03-02T08:20:00.000Z' } };
    expect(mergeAlert(utc, { ...base, writers: { w: '2026-03-02T16:10:00+08:00' } }).writers).toEqual({ w: '2026-03-02T08:20:00.000Z' });
    // lastSeen and firstSeen too.
    const merged = mergeAlert({ ...base, firstSeen: '2026-03-02T16:10:00+08:00', lastSeen: '2026-03-02T16:10:00+08:00' },
      { ...base, firstSeen: '2026-03-02T08:20:00.000Z', lastSeen: '2026-03-02T08:20:00.000Z' });
    expect(merged).toMatchObject({ firstSeen: '2026-03-02T16:10:00+08:00', lastSeen: '2026-03-02T08:20:00.000Z' });
  });

  it('refuses writer times outside years 1000–9999 and text that is no time, and lets a real time replace them', () => {
    for (const bad of ['+010000-01-01T00:00:00.000Z', '0999-12-31T23:59:59.000Z', '-000001-01-01T00:00:00.000Z', 'yesterday', '2026-03-02', '9999', '']) {
      expect(writerTime(bad), bad).toBeUndefined();
      // A refused repeat time does not displace a real one…
      expect(mergeAlert({ ...base, writers: { w: '2026-03-02T08:00:00Z' } }, { ...base, writers: { w: bad } }).writers, bad).toEqual({ w: '2026-03-02T08:00:00Z' });
      // …and a stored one that is no time gives way.
      expect(mergeAlert({ ...base, writers: { w: bad } }, { ...base, writers: { w: '2026-03-02T08:00:00Z' } }).writers, bad).toEqual({ w: '2026-03-02T08:00:00Z' });
    }
    expect(writerTime('9999-12-31T23:59:59.999Z')).toBe(Date.UTC(9999, 11, 31, 23, 59, 59, 999));
    expect(writerTime('1000-01-01T08:00:00+08:00')).toBe(Date.UTC(1000, 0, 1));
    expect(writerTime(12345)).toBeUndefined();
  });

  it('keeps the newest writers by time, not by text, when too many wrote', () => {
    // 33 writers: w0 is the oldest in time but, written in +14:00, the largest as text.
    const writers: Record<string, string> = { w0: '2026-03-02T21:00:00+14:00' };
    for (let i = 1; i <= 32; i += 1) writers[`w${i}`] = new Date(Date.UTC(2026, 2, 2, 8, i)).toISOString();
    const kept = mergeAlert(base, { ...base, writers }).writers!;
    expect(Object.keys(kept)).toHaveLength(32);
    expect(kept.w0).toBeUndefined();
  });

  describe('on the embedded store', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sw-writer-times-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const builder = new AlertBuilder();
    const T0 = Date.parse('2026-03-02T08:00:00Z');
    const signal = (minute: number): Signal => ({
      rule: { id: 'ssh-brute', title: 'SSH 暴力破解', level: 'high', tags: [] },
      eventId: `e${minute}`, time: T0 + minute * 60_000, event: { shouwang: { system: 'sys-a', department: 'd-fin', mlps_level: 3 } },
    });
    const deliver = async (store: EmbeddedStore, minutes: number[]) => {
      const sink = new AlertSink({ store: store.alerts, latenessMs: 120_000, writer: 'collector-a' });
      for (const minute of minutes) sink.add(builder.fromSignal(signal(minute)));
      const result = await sink.flush();
      await sink.close();
      return result;
    };

    it('does not count a replay twice when the stored writer time is in another offset', async () => {
      const store = new EmbeddedStore({ path: join(dir, 'offsets.db') });
      const first = builder.fromSignal(signal(0)).alert;
      // What an older build (or another node's clock formatting) stored: this writer counted up to 08:10Z, written in +08:00.
      await store.alerts.upsert([{ ...first, count: 11, lastSeen: '2026-03-02T16:10:00+08:00', writers: { 'collector-a': '2026-03-02T16:10:00+08:00' } }]);
      expect(await deliver(store, [11, 12, 20])).toEqual({ created: 0, updated: 1, skipped: 0 });
      expect((await store.alerts.get(first.id))?.writers).toEqual({ 'collector-a': '2026-03-02T08:20:00.000Z' });
      // A restart replays 11..20: all counted already.
      expect(await deliver(store, [11, 12, 20])).toEqual({ created: 0, updated: 0, skipped: 3 });
      expect((await store.alerts.get(first.id))?.count).toBe(14);
      await store.close();
    });

    it('records no writer time for a contribution dated past year 9999, and still counts it once', async () => {
      const store = new EmbeddedStore({ path: join(dir, 'far.db') });
      const far = Date.UTC(10000, 0, 1, 8);
      const farSignal = { ...signal(0), eventId: 'far', time: far };
      const sink = new AlertSink({ store: store.alerts, latenessMs: 120_000, writer: 'collector-a' });
      sink.add(builder.fromSignal(farSignal));
      expect(await sink.flush()).toMatchObject({ created: 1, skipped: 0 });
      await sink.close();
      const stored = await store.alerts.get(builder.fromSignal(farSignal).alert.id);
      expect(stored?.count).toBe(1);
      expect(stored?.writers).toBeUndefined();
      await store.close();
    });
  });
});
