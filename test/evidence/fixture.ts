import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alertId, parseInventory, type Alert, type BackupCheckName, type JobResult, type ShouwangEvent } from '../../core/index.js';
import { EmbeddedStore } from '../../store/index.js';

/** The export period of the constructed data: June 2026. */
export const PERIOD = { from: '2026-06-01T00:00:00.000Z', to: '2026-07-01T00:00:00.000Z' };

export const DEPT_A = 'dept-a';
export const DEPT_B = 'dept-b';
/** Everything in order: sources reporting, logs kept since December, alerts handled, backups verified and drilled. */
export const GOOD = 'sys-good';
/** Never sent an event, has no backup policy. */
export const SILENT = 'sys-silent';
/** Level 2: logs only since 10 June, one alert left untouched, a failed off-site check, no drill. */
export const PARTIAL = 'sys-partial';

/** rules/shouwang/linux/ssh_possible_break_in.yml: an intrusion rule (tagged 8.1.4.4). */
export const INTRUSION_RULE = '9be8c491-fea4-5139-9644-0528a783b809';

const at = (iso: string, minutes = 0) => new Date(Date.parse(iso) + minutes * 60_000).toISOString();

function event(system: string, department: string, level: number, host: string, dataset: string, time: string, n: number): ShouwangEvent {
  return {
    id: `${system}-${dataset}-${time}-${n}`, '@timestamp': time, message: `${dataset} record ${n} user=alice`,
    event: { dataset, action: 'login', outcome: 'success' }, host: { name: host }, user: { name: 'alice' },
    // sshd's auth records reach the shipped intrusion rules (linux auth logsource).
    ...(dataset === 'system.auth' ? { process: { name: 'sshd' } } : {}),
    shouwang: { department, system, mlps_level: level },
  };
}

function alert(system: string, department: string, level: number, raised: string, status: Alert['status'], ackMinutes?: number): Alert {
  const timeline: Alert['timeline'] = [{ at: raised, actor: 'shouwang', action: 'raised' }];
  if (ackMinutes !== undefined) {
    timeline.push({ at: at(raised, ackMinutes), actor: 'officer', action: 'status', from: 'new', to: 'acknowledged' });
    if (status !== 'acknowledged') {
      // Closed with the handling written down (x.1.10.12 c): a bare status change records no cause or evidence.
      const note = status === 'resolved' || status === 'false_positive' ? { comment: '已核查来源并封禁 / source checked and blocked' } : {};
      timeline.push({ at: at(raised, ackMinutes + 30), actor: 'officer', action: 'status', from: 'acknowledged', to: status, ...note });
    }
  }
  return {
    id: alertId(INTRUSION_RULE, system, raised), rule: { id: INTRUSION_RULE, title: 'SSH 疑似入侵 / possible SSH break-in', level: 'high' },
    mlps: ['8.1.4.4 f)'], department, system, mlpsLevel: level, priority: 4 * level, status, timeline,
    firstSeen: raised, lastSeen: raised, count: 1, sampleEventIds: [],
  };
}

function check(system: string, department: string, site: 'same-city' | 'off-site', time: string, status: JobResult['status'], name: BackupCheckName = 'freshness'): JobResult {
  return {
    id: `${system}-${site}-${name}-${time}`, kind: 'backup-check', status, system, department, site, startedAt: time, finishedAt: time,
    summary: `${name} ${status}`,
    detail: { check: name, site, clause: '8.1.4.9', ...(name === 'freshness' ? { ageSeconds: 300, rpoSeconds: 600 } : {}) },
  };
}

function drill(system: string, department: string, time: string, achievedSeconds: number, targetSeconds: number): JobResult {
  const met = achievedSeconds <= targetSeconds;
  return {
    id: `${system}-drill-${time}`, kind: 'restore-drill', status: met ? 'pass' : 'fail', system, department, startedAt: time, finishedAt: time,
    summary: `drill ${met ? 'pass' : 'fail'}`, detail: { rto: { targetSeconds, achievedSeconds, met } },
  };
}

const policy = {
  rpo: '10m', rto: '4h', sameCity: { type: 'path', path: '/backup/same' }, offSite: { type: 'path', path: '/backup/off' },
};

export interface Fixture {
  dir: string;
  store: EmbeddedStore;
  close(): Promise<void>;
}

/** A real embedded store in a temp dir with three systems whose statuses are known by construction. */
export async function seedFixture(): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'shouwang-evidence-'));
  const store = new EmbeddedStore({ path: join(dir, 'store.db') });
  await store.assets.replaceInventory(parseInventory({
    departments: [{ id: DEPT_A, name: '大数据局' }, { id: DEPT_B, name: '卫健委' }],
    systems: [
      { id: GOOD, name: '政务服务网', department: DEPT_A, mlpsLevel: 3, zone: '政务外网', owner: { name: '张三' }, hosts: ['good-web', 'good-db'], backup: policy },
      { id: SILENT, name: '档案系统', department: DEPT_A, mlpsLevel: 3, zone: '政务外网', owner: { name: '李四' }, hosts: ['silent-web'] },
      { id: PARTIAL, name: '预约挂号', department: DEPT_B, mlpsLevel: 2, zone: '政务外网', owner: { name: '王五' }, hosts: ['partial-web', 'partial-db'], backup: policy },
    ],
  }, 'fixture'));

  const events: ShouwangEvent[] = [];
  // Good: kept since December 2025, both hosts report in June; 150 auth records to test the sample bound.
  events.push(event(GOOD, DEPT_A, 3, 'good-web', 'system.auth', '2025-12-01T00:00:00.000Z', 0));
  for (let n = 0; n < 150; n += 1) events.push(event(GOOD, DEPT_A, 3, 'good-web', 'system.auth', at('2026-06-02T00:00:00.000Z', n), n));
  for (let n = 0; n < 20; n += 1) events.push(event(GOOD, DEPT_A, 3, 'good-db', 'mariadb.audit', at('2026-06-03T00:00:00.000Z', n), n));
  // Partial: only partial-web reports, from 10 June.
  for (let n = 0; n < 30; n += 1) events.push(event(PARTIAL, DEPT_B, 2, 'partial-web', 'nginx.access', at('2026-06-10T00:00:00.000Z', n), n));
  // Shouwang's own backup events for the silent system: not its audit log, so it stays silent.
  events.push({
    id: 'silent-backup-event', '@timestamp': '2026-06-15T02:00:00.000Z', message: 'backup freshness failure',
    event: { dataset: 'shouwang.backup', action: 'backup-freshness', outcome: 'failure' }, user: { name: 'shouwang' },
    shouwang: { department: DEPT_A, system: SILENT, mlps_level: 3 },
  });
  await store.events.write(events);

  const goodAlerts = [
    alert(GOOD, DEPT_A, 3, '2026-06-05T01:00:00.000Z', 'resolved', 60),
    alert(GOOD, DEPT_A, 3, '2026-06-06T01:00:00.000Z', 'false_positive', 120),
    alert(GOOD, DEPT_A, 3, '2026-06-07T01:00:00.000Z', 'resolved', 180),
  ];
  await store.alerts.upsert([...goodAlerts, alert(PARTIAL, DEPT_B, 2, '2026-06-12T01:00:00.000Z', 'new')]);

  for (const day of ['2026-06-10', '2026-06-20']) {
    for (const site of ['same-city', 'off-site'] as const) {
      await store.jobResults.put(check(GOOD, DEPT_A, site, `${day}T02:00:00.000Z`, 'pass'));
      await store.jobResults.put(check(PARTIAL, DEPT_B, site, `${day}T02:00:00.000Z`, site === 'off-site' && day === '2026-06-20' ? 'fail' : 'pass'));
    }
  }
  await store.jobResults.put(drill(GOOD, DEPT_A, '2026-06-15T03:00:00.000Z', 1800, 14_400));

  await store.audit.append({ at: '2026-06-05T02:00:00.000Z', actor: 'officer', action: 'alert.update', target: goodAlerts[0]!.id, departments: [DEPT_A], ip: '10.0.0.5', detail: { status: 'resolved' } });
  await store.audit.append({ at: '2026-06-05T03:00:00.000Z', actor: 'admin', action: 'user.create', target: 'reviewer', ip: '10.0.0.6' });

  return {
    dir, store,
    async close() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
