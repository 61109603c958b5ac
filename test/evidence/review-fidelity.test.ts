import { describe, expect, it } from 'vitest';
import { loadMlpsCatalog } from '../../analyzers/index.js';
import type { Alert, BusinessSystem } from '../../core/index.js';
import {
  DEFAULT_RULE_SETTINGS, backupFacts, controlRows, handlingFacts, incidentHandlingVerdict, retentionFacts, type SystemFacts,
} from '../../evidence/index.js';

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
