import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startAnalysis, expectedSources, raiseSilentSourceAlerts, sourceStatuses, type Analysis } from '../../analyzers/index.js';
import { backupResultEvent, recordResults, runRestoreDrill, verifyBackups, writeDemoBackupSets, demoBackupCase } from '../../backup/index.js';
import {
  demoIncident, demoLiveLines, demoLogLines, demoReportingHosts, DemoTraffic, EventSink, FileDeadLetterSink, ingestLines, resolveFormat, type Line,
} from '../../collectors/index.js';
import { cachedCoverage, computePosture } from '../../console/index.js';
import { AssetIndex, loadInventory, type Inventory } from '../../core/index.js';
import { EmbeddedStore } from '../../store/index.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-demo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The bundled demo inventory with its backup targets moved under this test's directory. */
function demoInventory(): Inventory {
  const inventory = loadInventory('config/inventory.demo.yaml');
  for (const system of inventory.systems) {
    if (!system.backup) continue;
    system.backup.sameCity = { type: 'path', path: join(dir, 'backups', 'same-city', system.id) };
    system.backup.offSite = { type: 'path', path: join(dir, 'backups', 'off-site', system.id) };
  }
  return inventory;
}

const BANDS = [20, 40, 60, 80, 101];
const bandOf = (score: number) => BANDS.findIndex((limit) => score < limit);

describe('the living demo', () => {
  const inventory = demoInventory();
  const store = new EmbeddedStore({ path: join(dir, 'demo.db') });
  const assets = new AssetIndex(inventory);
  const deadLetters = new FileDeadLetterSink(join(dir, 'dead-letter'));
  let analysis: Analysis;
  // The demo's path: the decode stage, then the collectors' sink, which shows events to the analyzers once stored.
  const sink = new EventSink({ store: store.events, spoolDir: join(dir, 'spool'), deadLetters, observe: (events) => analysis.analyze(events) });
  const ingest = (source: string, lines: Iterable<Line>, format = 'auto') =>
    ingestLines(lines, { source, format: resolveFormat({ source, format, assets }), sink, deadLetters });
  const posture = async (at: Date) => {
    await analysis.flush();
    return computePosture(store, cachedCoverage(store.events, 3600, 0, 0), undefined, {}, at);
  };

  afterAll(async () => {
    await sink.close();
    await analysis?.close();
    await store.close();
  });

  it('writes backup sets the checks find healthy for most systems and broken, stale or missing off-site for a few', async () => {
    const now = new Date();
    expect(writeDemoBackupSets(inventory, now)).toBe(inventory.systems.filter((s) => s.backup).length);
    const withPolicy = inventory.systems.filter((s) => s.backup);
    const outcomes = new Map<string, string>();
    for (const [index, system] of withPolicy.entries()) {
      const results = await verifyBackups(system, { now });
      await recordResults(store.jobResults, results);
      const failed = results.filter((r) => r.status !== 'pass').map((r) => `${r.site ?? 'both'}:${String(r.detail.check)}`);
      outcomes.set(demoBackupCase(index), [...new Set([...(outcomes.get(demoBackupCase(index))?.split(' ') ?? []), ...failed])].filter(Boolean).sort().join(' '));
    }
    expect(outcomes.get('healthy')).toBe('');
    expect(outcomes.get('stale')).toContain('same-city:freshness');
    expect(outcomes.get('corrupted')).toContain('same-city:integrity');
    expect(outcomes.get('off-site-missing')).toContain('off-site:presence');
    expect(outcomes.get('off-site-lagging')).toMatch(/off-site:freshness|both:cross-site/);
    expect(outcomes.get('gap')).toContain('same-city:retention');
    // Ransomware: only the ransomware check objects to the encrypted newest set (it is intact and on time), as a critical failure.
    expect(outcomes.get('ransomware')).toBe('off-site:ransomware same-city:ransomware');
    const encrypted = withPolicy.find((_, index) => demoBackupCase(index) === 'ransomware')!;
    const signal = (await store.jobResults.search({ kind: 'backup-check', system: encrypted.id }, { size: 100 })).items
      .find((r) => r.site === 'same-city' && r.detail.check === 'ransomware')!;
    expect(signal).toMatchObject({ status: 'fail', detail: { severity: 'critical', signals: expect.arrayContaining(['entropy', 'extension']) } });
    expect(signal.summary).toContain('疑似被勒索软件加密');
    // What the critical rule backup_ransomware_signals matches.
    expect(backupResultEvent(encrypted, signal)).toMatchObject({ event: { dataset: 'shouwang.backup', outcome: 'failure' }, backup: { check: 'ransomware' } });
    // A second start adds nothing that is already there.
    expect(writeDemoBackupSets(inventory, now)).toBe(withPolicy.length);
    // An ops engineer's first drill on a healthy demo system passes; on a corrupted one it names the file.
    const healthy = withPolicy.find((_, index) => demoBackupCase(index) === 'healthy')!;
    const corrupted = withPolicy.find((_, index) => demoBackupCase(index) === 'corrupted')!;
    expect((await runRestoreDrill(healthy, { servers: {} })).status).toBe('pass');
    const failed = await runRestoreDrill(corrupted, { servers: {} });
    expect([failed.status, failed.summary]).toEqual(['fail', expect.stringMatching(/data\.tar: sha256/)]);
  });

  it('spreads the departments over several risk bands, none holding most of them', async () => {
    await store.assets.replaceInventory(inventory);
    analysis = await startAnalysis({ rulesDir: 'rules/shouwang', alerts: store.alerts, latenessMs: 300_000 });
    const now = new Date();
    await ingest('demo', demoLogLines(inventory, now));
    await ingest('demo-live', demoLiveLines(inventory, now, 0));
    const statuses = await sourceStatuses(store.events, expectedSources(inventory, 3600), now);
    await raiseSilentSourceAlerts(store.alerts, statuses, now);
    // The quiet systems' hosts are exactly the silent sources; the rest report.
    const reporting = new Set(demoReportingHosts(inventory));
    expect(statuses.filter((s) => s.silent).every((s) => !reporting.has(s.name))).toBe(true);
    expect(statuses.filter((s) => !s.silent).length).toBeGreaterThan(statuses.length * 0.8);

    const { departments } = await posture(now);
    const bands = [0, 0, 0, 0, 0];
    for (const department of departments) bands[bandOf(department.score)]! += 1;
    expect(bands.filter((n) => n > 0).length, JSON.stringify(bands)).toBeGreaterThanOrEqual(4);
    expect(Math.max(...bands), JSON.stringify(bands)).toBeLessThanOrEqual(departments.length / 2);
  });

  it('moves the ranking when a scripted incident plays', async () => {
    const ranking = async (at: Date) => (await posture(at)).departments
      .sort((a, b) => b.score - a.score || a.id.localeCompare(b.id)).map((d) => `${d.id}:${d.score}`);
    const now = new Date();
    const before = await ranking(now);
    // The first incident of the cycle: SSH brute force on an internet-facing host, then a login.
    const incident = demoIncident(inventory, 0, now)!;
    expect(incident.kind).toBe('ssh-break-in');
    const traffic = new DemoTraffic({ inventory: () => inventory, ingest: (lines, format) => ingest('demo-live', lines, format), now: () => now, incidentEveryMs: 1 });
    const played = await traffic.playIncident({ kind: 'ssh-break-in' });
    await traffic.close();
    const department = inventory.systems.find((s) => s.id === played!.system)!.department;
    const after = await ranking(now);
    expect(after).not.toEqual(before);
    const scoreOf = (list: string[]) => Number(list.find((entry) => entry.startsWith(`${department}:`))!.split(':')[1]);
    expect(scoreOf(after)).toBeGreaterThan(scoreOf(before));
  });

  it('plays a named incident now on a named system, and refuses kinds and systems that do not fit without stopping the cycle', async () => {
    const played: string[] = [];
    const now = new Date('2026-11-26T02:00:00Z');
    const traffic = new DemoTraffic({ inventory: () => inventory, ingest: async (lines) => { played.push(...lines.map((l) => l.text)); }, now: () => now });
    const web = inventory.systems.find((s) => s.hosts.length && !s.databases.length)!;
    const incident = await traffic.playIncident({ kind: 'ssh-break-in', system: web.id });
    expect(incident).toMatchObject({ kind: 'ssh-break-in', system: web.id });
    expect(played.at(-1)).toContain(`${web.hosts[0]} sshd[50099]: Accepted password for root`);
    // A database incident on a system without a MariaDB, a kind that does not exist, a system of nobody's: nothing plays.
    const count = played.length;
    expect(await traffic.playIncident({ kind: 'db-mass-export', system: web.id })).toBeUndefined();
    expect(await traffic.playIncident({ kind: 'rm -rf /' as never })).toBeUndefined();
    expect(await traffic.playIncident({ kind: 'webshell', system: '../../etc/passwd' })).toBeUndefined();
    expect(played.length).toBe(count);
    // The cycle goes on past the named one: the next unnamed incident is another kind.
    expect((await traffic.playIncident())?.kind).not.toBe('ssh-break-in');
    await traffic.close();
  });
});
