import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { startAnalysis } from '../../analyzers/index.js';
import { BACKUP_DATASET, BACKUP_RULE_IDS, backupResultEvent, checkResultId, drillResultId, recordBackupResults, type BackupEventSink } from '../../backup/index.js';
import type { BusinessSystem, JobResult } from '../../core/index.js';
import { EmbeddedStore } from '../../store/index.js';
import { drillSystem } from './fixtures/drill-sources.js';

const RULES_DIR = join(process.cwd(), 'rules/shouwang');
const BACKUP_RULES = join(RULES_DIR, 'backup');
const dir = mkdtempSync(join(tmpdir(), 'shouwang-backup-events-'));
const store = new EmbeddedStore({ path: join(dir, 'store.db') });
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const ruleIds = () => readdirSync(BACKUP_RULES).filter((f) => f.endsWith('.yml'))
  .flatMap((f) => readFileSync(join(BACKUP_RULES, f), 'utf8').split(/^---$/m).map((doc) => (parseYaml(doc) as { id: string }).id));

/** The shipped rules as the worker runs them: analyze, then wait for the alerts to be written. */
async function rules() {
  const analysis = await startAnalysis({ rulesDir: RULES_DIR, alerts: store.alerts, latenessMs: 60_000 });
  const sink: BackupEventSink = async (events) => {
    analysis.analyze(events);
    await analysis.flush();
  };
  return { sink, close: () => analysis.close() };
}

const finishedAt = new Date().toISOString();
function failedCheck(system: BusinessSystem, site: 'same-city' | 'off-site', run: string, status: JobResult['status'] = 'fail'): JobResult {
  return {
    id: checkResultId(run, system.id, site, 'freshness'), kind: 'backup-check', status, system: system.id, department: system.department, site,
    startedAt: finishedAt, finishedAt, summary: `freshness ${status}`,
    detail: { check: 'freshness', site, ageSeconds: 172_800, rpoSeconds: 86_400, target: `${system.id}-${site}` },
  };
}

const alertsOf = async (system: string) => (await store.alerts.search({ system: [system] }, { size: 100 })).items;

describe('backup results as events that fire the backup rules', () => {
  it('lists the id of every rule in rules/shouwang/backup, so the posture knows their alerts', () => {
    expect(new Set(ruleIds())).toEqual(new Set(BACKUP_RULE_IDS));
  });

  it('a failed off-site check → event stored → the backup rules match → alerts citing the level-2 clauses only', async () => {
    const system = drillSystem(`ev-${Date.now()}`, join(dir, 'none'), {}, 2);
    const result = failedCheck(system, 'off-site', 'run-1');
    const { sink, close } = await rules();
    try {
      const [event] = await recordBackupResults(store, system, [result], sink);
      const stored = await store.events.get(event!.id);
      expect(stored).toMatchObject({
        '@timestamp': finishedAt, event: { dataset: BACKUP_DATASET, outcome: 'failure', action: 'backup-freshness' },
        backup: { check: 'freshness', site: 'off_site', status: 'fail', result_id: result.id, age_seconds: 172_800 },
        shouwang: { system: system.id, department: system.department, mlps_level: 2 },
      });
      expect(await store.jobResults.get(result.id)).toMatchObject({ status: 'fail' });
      const alerts = await alertsOf(system.id);
      // backup_check_failure and backup_offsite_failure both match an off-site failure.
      expect(alerts.map((a) => a.rule.id).sort()).toEqual(['5fd4a0c0-9eac-5134-a7da-ee5ba969e8ce', '7d999df2-9e92-54b1-a7e0-8fb2497a6818']);
      for (const alert of alerts) {
        expect(alert.sampleEventIds).toContain(event!.id);
        expect(alert.mlps.length).toBeGreaterThan(0);
        expect(alert.mlps.every((clause) => clause.startsWith('7.'))).toBe(true);
      }
      expect(alerts.flatMap((a) => a.mlps)).toContain('7.1.4.8');

      // The same result again (a retried job): the event is a duplicate and no alert counts twice.
      await recordBackupResults(store, system, [result], sink);
      expect((await alertsOf(system.id)).map((a) => a.count)).toEqual([1, 1]);
    } finally {
      await close();
    }
  });

  it('a passing check is stored as an event and raises nothing; a failed drill raises the drill rule', async () => {
    const system = drillSystem(`ev-${Date.now()}-b`, join(dir, 'none'));
    const { sink, close } = await rules();
    try {
      const [passed] = await recordBackupResults(store, system, [failedCheck(system, 'same-city', 'run-2', 'pass')], sink);
      expect((await store.events.get(passed!.id))?.event?.outcome).toBe('success');
      expect(await alertsOf(system.id)).toEqual([]);

      const drill: JobResult = {
        id: drillResultId(system.id, 'run-3', 'off-site'), kind: 'restore-drill', status: 'fail', system: system.id, department: system.department,
        site: 'off-site', startedAt: finishedAt, finishedAt, summary: 'RTO exceeded',
        detail: { site: 'off-site', rto: { targetSeconds: 60, achievedSeconds: 120, met: false } },
      };
      expect(backupResultEvent(system, drill)).toMatchObject({ backup: { check: 'restore_drill', site: 'off_site', rto: { met: false } } });
      await recordBackupResults(store, system, [drill], sink);
      const ruleIdsRaised = (await alertsOf(system.id)).map((a) => a.rule.id);
      expect(ruleIdsRaised).toContain('268498ad-97ff-5b1f-9c38-73cddcd1ac9b');
      expect((await alertsOf(system.id)).every((a) => a.mlps.every((c) => c.startsWith('8.')))).toBe(true);
    } finally {
      await close();
    }
  });
});
