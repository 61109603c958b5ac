import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startAnalysis } from '../../../analyzers/index.js';
import { CorrelationStateFile } from '../../../analyzers/correlation/index.js';
import type { Logger, ShouwangEvent } from '../../../core/index.js';
import { EmbeddedStore } from '../../../store/index.js';

// The analysis of a live stream (statePath + tick), as `shouwang start` / `collect` run it.

const dir = mkdtempSync(join(tmpdir(), 'shouwang-correlation-state-'));
const store = new EmbeddedStore({ path: join(dir, 'alerts.db') });
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const RULES = `title: ssh failure
id: ssh-fail
name: ssh_fail
logsource: {product: linux}
detection:
  selection: {event.action: ssh_login, event.outcome: failure}
  condition: selection
level: low
---
title: brute force
id: ssh-bf
correlation: {type: event_count, rules: [ssh_fail], group-by: [source.ip], timespan: 5m, condition: {gte: 5}}
level: high
`;

function rulesDir(): string {
  const rules = join(dir, `rules-${randomUUID()}`);
  mkdirSync(rules);
  writeFileSync(join(rules, 'ssh.yml'), RULES);
  return rules;
}

/** Collects what the analysis logs at warn. */
function logger() {
  const warnings: string[] = [];
  const log = { warn: (_: unknown, message: string) => warnings.push(message), error: () => undefined, info: () => undefined };
  return { warnings, log: log as unknown as Logger };
}

const start = Date.parse('2026-12-06T09:00:00Z');
const failures = (ip: string, from: number, n: number): ShouwangEvent[] => Array.from({ length: n }, (_, i) => ({
  id: `${ip}-${from + i}`,
  '@timestamp': new Date(start + (from + i) * 1000).toISOString(),
  event: { action: 'ssh_login', outcome: 'failure' },
  source: { ip },
  message: 'x'.repeat(2000),
  shouwang: { department: 'rsj', system: 'rsj-shbx', mlps_level: 3 },
}) as unknown as ShouwangEvent);

const bruteForce = async (ip: string) =>
  (await store.alerts.search({})).items.filter((alert) => alert.rule.id === 'ssh-bf' && alert.groupKey === `source.ip=${ip}`);

describe('live analysis state', () => {
  it('keeps open windows across a close and a restart: 3 + 2 failures make one alert', async () => {
    const ip = `10.${randomBytes(3).join('.')}`;
    const statePath = join(dir, `state-${randomUUID()}`, 'correlation.json');
    const rules = rulesDir();
    const first = await startAnalysis({ rulesDir: rules, alerts: store.alerts, latenessMs: 300_000, statePath });
    first.analyze(failures(ip, 0, 3));
    await first.persist();
    expect(existsSync(statePath)).toBe(true);
    await first.close();
    expect(await bruteForce(ip)).toEqual([]);

    const second = await startAnalysis({ rulesDir: rules, alerts: store.alerts, latenessMs: 300_000, statePath });
    // The source replays from an older checkpoint: failure 2 again, then 3 and 4.
    second.analyze(failures(ip, 2, 3));
    second.tick();
    await second.flush();
    const [alert, ...more] = await bruteForce(ip);
    expect(more).toEqual([]);
    expect(alert!.count).toBe(1);
    expect(alert!.sampleEventIds).toEqual(failures(ip, 0, 5).map((event) => event.id));
    // Kept through the state file: the tags the alert takes (the rest of each event is not kept).
    expect(alert).toMatchObject({ department: 'rsj', system: 'rsj-shbx', mlpsLevel: 3 });
    // The state file and its journal.
    const written = readdirSync(dirname(statePath)).map((name) => readFileSync(join(dirname(statePath), name), 'utf8')).join('');
    expect(written).toContain('rsj-shbx');
    expect(written).not.toContain('xxxx');
    await second.close();
  });

  it('starts empty with a warning when the state file is corrupt, and sets the file aside', async () => {
    for (const junk of [randomBytes(200), Buffer.from('{"version":1,"buffer":"x"}'), Buffer.from('{"version":1,')]) {
      const statePath = join(dir, `state-${randomUUID()}.json`);
      writeFileSync(statePath, junk);
      const { warnings, log } = logger();
      const analysis = await startAnalysis({ rulesDir: rulesDir(), alerts: store.alerts, latenessMs: 300_000, statePath, logger: log });
      expect(warnings.filter((message) => message.includes('correlation state unreadable'))).toHaveLength(1);
      expect(readFileSync(`${statePath}.corrupt`)).toEqual(junk);
      // And it works: a burst alerts at the next tick.
      const ip = `10.${randomBytes(3).join('.')}`;
      analysis.analyze(failures(ip, 0, 5));
      analysis.tick();
      await analysis.flush();
      expect(await bruteForce(ip)).toHaveLength(1);
      await analysis.close();
      expect(JSON.parse(readFileSync(statePath, 'utf8'))).toMatchObject({ version: 2 });
    }
  });

  it('writes the state only when it changed', async () => {
    const statePath = join(dir, `state-${randomUUID()}.json`);
    const analysis = await startAnalysis({ rulesDir: rulesDir(), alerts: store.alerts, latenessMs: 300_000, statePath });
    analysis.analyze(failures('192.0.2.1', 0, 2));
    await analysis.persist();
    writeFileSync(statePath, 'marker');
    await analysis.persist();
    expect(readFileSync(statePath, 'utf8')).toBe('marker');
    analysis.analyze(failures('192.0.2.1', 2, 1));
    await analysis.persist();
    expect(readFileSync(statePath, 'utf8')).not.toBe('marker');
    await analysis.close();
  });

  it('rejects persist() while the state cannot be written (so no file checkpoint passes those events), and saves once it can', async () => {
    const parent = join(dir, `blocked-${randomUUID()}`);
    writeFileSync(parent, 'a file where the state folder should be'); // every save fails: ENOTDIR (root ignores permissions)
    const { warnings, log } = logger();
    const analysis = await startAnalysis({ rulesDir: rulesDir(), alerts: store.alerts, latenessMs: 300_000, statePath: join(parent, 'state.json'), logger: log });
    analysis.analyze(failures('192.0.2.2', 0, 2));
    await expect(analysis.persist()).rejects.toThrow();
    await expect(analysis.persist()).rejects.toThrow(); // nothing new analysed: still not on disk, still refused
    expect(warnings.some((message) => message.includes('correlation state not saved'))).toBe(true);
    rmSync(parent);
    await analysis.persist();
    expect(JSON.parse(readFileSync(join(parent, 'state.json'), 'utf8'))).toBeTruthy();
    await analysis.close();
  });
});

describe('CorrelationStateFile', () => {
  it('resolves every save of a burst once the newest state is on disk, reading the state once per write', async () => {
    const file = new CorrelationStateFile(join(dir, `burst-${randomUUID()}`, 'correlation.json'));
    const reads: number[] = [];
    const saves = Array.from({ length: 20 }, (_, i) => file.save(() => (reads.push(i), { version: 1, n: i })));
    await Promise.all(saves);
    expect(await file.load()).toEqual({ version: 1, n: 19 });
    // The write starts after this turn: the 20 saves share one snapshot, read then (each read its own before).
    expect(reads).toEqual([19]);
    // After a burst, the next save writes again.
    await file.save(() => ({ version: 1, n: 20 }));
    expect(await file.load()).toEqual({ version: 1, n: 20 });
  });
});
