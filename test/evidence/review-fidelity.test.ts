import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMlpsCatalog } from '../../analyzers/index.js';
import { alertId, parseInventory, type Alert, type BusinessSystem, type ShouwangEvent } from '../../core/index.js';
import {
  DEFAULT_RULE_SETTINGS, backupFacts, controlRows, gatherFacts, handlingFacts, incidentHandlingVerdict, loadIntrusionRules, retentionFacts,
  systemVerdicts, type SystemFacts,
} from '../../evidence/index.js';
import { EmbeddedStore } from '../../store/index.js';

// Findings of the evidence fidelity review (session 10): each status a bundle signs must come from data
// that shows the requirement as the level words it (GB/T 22239-2019).

const END = Date.parse('2026-11-30T16:00:00Z');

const system = (mlpsLevel: number): BusinessSystem => ({
  id: 'sys', name: '系统', department: 'd', mlpsLevel, zone: '政务外网', hosts: [], ips: [], databases: [],
} as unknown as BusinessSystem);

/** Facts of a system whose sampled audit records all have date/time, user, event type and outcome. */
const facts = (mlpsLevel: number): SystemFacts => ({
  system: system(mlpsLevel), departmentName: '部门',
  audit: {
    eventsInPeriod: 10, expectedSources: 1, reportingSources: 1, silentSources: [],
    records: { sampled: 4, complete: 4, missing: { 'date/time': 0, user: 0, 'event type': 0, outcome: 0 } },
    retention: retentionFacts(END, undefined, []),
  },
  intrusion: { eventsInPeriod: 10, rules: 1, rulesEnabled: 1, reachingDatasets: [], matches: 0 },
  handling: { alerts: 0, handled: 0, open: 0 },
  backup: backupFacts(system(mlpsLevel), [], []),
  periodDays: 31, settings: DEFAULT_RULE_SETTINGS, samples: [], alerts: [], backupChecks: [], drills: [],
});

const statusOf = (mlpsLevel: number, clause: string) => controlRows(loadMlpsCatalog(), facts(mlpsLevel)).find((row) => row.clause === clause);

describe('安全审计 b) at level 4 asks for 客体标识', () => {
  it('gives no 符合 at level 4 (9.1.4.3 b) from records checked only for date/time, user, event type and outcome', () => {
    expect(statusOf(3, '8.1.4.3 b)')?.status).toBe('符合');
    expect(statusOf(2, '7.1.4.3 b)')?.status).toBe('符合');
    const level4 = statusOf(4, '9.1.4.3 b)')!;
    expect(level4.requirement).toContain('客体标识');
    expect(level4.status).toBe('部分符合');
    expect(level4.rule).toContain('客体标识');
    expect(level4.rule).toContain('object identity');
  });
});

describe('安全事件处置 c) needs the handling recorded', () => {
  const raised = '2026-11-01T00:00:00.000Z';
  const closed = (status: Alert['status'], comment?: string): Alert => ({
    id: `a-${status}-${comment ?? 'bare'}-${Math.random()}`, rule: { id: 'r', title: 't', level: 'high' }, mlps: [], priority: 1, status,
    timeline: [
      { at: raised, actor: 'shouwang', action: 'raised' },
      { at: '2026-11-01T01:00:00.000Z', actor: 'officer', action: 'status', from: 'new', to: 'in_progress' },
      { at: '2026-11-01T02:00:00.000Z', actor: 'officer', action: 'status', from: 'in_progress', to: status, ...(comment !== undefined ? { comment } : {}) },
    ],
    firstSeen: raised, lastSeen: raised, count: 1, sampleEventIds: [],
  });

  it('gives no 符合 for alerts closed by a bare status change, with no cause, evidence or handling written down', () => {
    const bare = handlingFacts(Array.from({ length: 10 }, () => closed('resolved')));
    expect(bare).toMatchObject({ alerts: 10, handled: 10, documented: 0 });
    const verdict = incidentHandlingVerdict(bare);
    expect(verdict.status).toBe('部分符合');
    expect(verdict.summary).toContain('有处置记录 0');
    // White space is no record either.
    expect(incidentHandlingVerdict(handlingFacts(Array.from({ length: 10 }, () => closed('resolved', '  ')))).status).toBe('部分符合');
  });

  it('gives 符合 when ≥ 90 % are closed with a written note, and counts a note on any timeline entry', () => {
    const noted = [...Array.from({ length: 9 }, () => closed('false_positive', '误报：运维批量登录 / false positive: batch login')), closed('resolved')];
    expect(handlingFacts(noted)).toMatchObject({ handled: 10, documented: 9 });
    expect(incidentHandlingVerdict(handlingFacts(noted)).status).toBe('符合');
    const eight = [...noted.slice(0, 8), closed('resolved'), closed('resolved')];
    expect(incidentHandlingVerdict(handlingFacts(eight)).status).toBe('部分符合');
  });
});

describe('入侵防范 at level 2 is 7.1.3.3, network attacks at key network nodes', () => {
  it('gives a level-2 system no 7.1.3.3 from host-only intrusion rules (auditd), which still evidence 8.1.4.4 f) at level 3', async () => {
    const rules = await loadIntrusionRules();
    const reverseShell = rules.rules.find((r) => r.title.startsWith('反弹 shell'))!;
    expect(reverseShell.network).toBe(false);
    expect(rules.rules.find((r) => r.title.startsWith('Web 请求中的 SQL 注入'))?.network).toBe(true);

    const dir = mkdtempSync(join(tmpdir(), 'shouwang-review-'));
    const store = new EmbeddedStore({ path: join(dir, 'store.db') });
    try {
      await store.assets.replaceInventory(parseInventory({
        departments: [{ id: 'd', name: '部门' }],
        systems: [2, 3].map((level) => ({ id: `l${level}`, name: `第${level}级`, department: 'd', mlpsLevel: level, zone: '政务外网', owner: { name: '张' }, hosts: [`h${level}`] })),
      }, 'review'));
      const events: ShouwangEvent[] = [];
      const alerts: Alert[] = [];
      for (const level of [2, 3]) {
        for (let day = 1; day <= 30; day += 1) {
          const at = new Date(Date.UTC(2026, 5, day, 2)).toISOString();
          events.push({
            id: `e${level}-${day}`, '@timestamp': at, message: 'type=EXECVE argc=3 a0="bash" a1="-i"',
            event: { dataset: 'auditd.log', action: 'execve', outcome: 'success' }, host: { name: `h${level}` }, user: { name: 'root' },
            shouwang: { department: 'd', system: `l${level}`, mlps_level: level },
          });
        }
        const raised = '2026-06-10T02:00:00.000Z';
        alerts.push({
          id: alertId(reverseShell.id, `l${level}`, raised), rule: { id: reverseShell.id, title: reverseShell.title, level: 'high' }, mlps: [],
          department: 'd', system: `l${level}`, mlpsLevel: level, priority: 4 * level, status: 'new',
          timeline: [{ at: raised, actor: 'shouwang', action: 'raised' }], firstSeen: raised, lastSeen: raised, count: 1, sampleEventIds: [],
        });
      }
      await store.events.write(events);
      await store.alerts.upsert(alerts);
      const facts = await gatherFacts(store, { from: '2026-06-01T00:00:00.000Z', to: '2026-07-01T00:00:00.000Z' }, undefined, { intrusionRules: rules });
      const of = (id: string) => facts.systems.find((f) => f.system.id === id)!;
      expect(of('l3').intrusion).toMatchObject({ reachingDatasets: ['auditd.log'], matches: 1 });
      expect(systemVerdicts(of('l3')).intrusion.status).toBe('符合');
      expect(of('l2').intrusion).toMatchObject({ reachingDatasets: [], matches: 0 });
      expect(of('l2').intrusion.rules).toBe(rules.rules.filter((r) => r.network).length);
      const level2 = controlRows(loadMlpsCatalog(), of('l2')).find((row) => row.clause === '7.1.3.3')!;
      expect(level2.status).toBe('不符合');
      // 安全事件处置 is not level-bound: the host alert still counts as an intrusion to handle.
      expect(of('l2').handling.alerts).toBe(1);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
