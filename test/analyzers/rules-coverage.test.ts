/**
 * `shouwang rules coverage` (issue #17): per logsource and per MLPS control, the rules that can fire
 * on the events actually stored (a real SQLite store), the fields no rule reads and the rule fields
 * never seen.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rulesCoverage } from '../../bin/rules-command.js';
import { decodeRecordLine } from '../../collectors/index.js';
import { AssetIndex, inventoryFromYaml, type ShouwangEvent } from '../../core/index.js';
import { EmbeddedStore } from '../../store/index.js';
import { loadDefaultMapping, type CoverageReport } from '../../analyzers/index.js';

const dir = mkdtempSync(join(tmpdir(), 'coverage-'));
const store = new EmbeddedStore({ path: join(dir, 'events.db') });
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const assets = new AssetIndex(inventoryFromYaml('departments: [{ id: d, name: 部门 }]\nsystems: []\n', 'i.yaml'));
const now = new Date('2026-11-30T00:00:00Z');
function windowsEvent(id: number, data: Record<string, unknown>, i: number): ShouwangEvent {
  const line = JSON.stringify({ EventTime: '2026-11-29 09:00:00', Hostname: 'dc01', EventID: id, SourceName: 'Microsoft-Windows-Security-Auditing', Channel: 'Security', ...data });
  const decoded = decodeRecordLine({ text: line, position: String(i) }, 'cov', assets, { utcOffset: '+08:00', now }, 'windows-event');
  if (!decoded.ok) throw new Error(decoded.reason);
  return decoded.event;
}

const rule = (title: string, id: string, body: string) => `title: ${title}\nid: ${id}\nlevel: medium\n${body}`;
beforeAll(async () => {
  await store.events.write([
    windowsEvent(4625, { TargetUserName: 'bob', IpAddress: '10.0.0.9' }, 1),
    windowsEvent(4625, { TargetUserName: 'eve', IpAddress: '10.0.0.8' }, 2),
    windowsEvent(4624, { TargetUserName: 'bob', LogonType: '3' }, 3),
  ]);
  const rules = join(dir, 'rules');
  mkdirSync(rules);
  writeFileSync(join(rules, 'a.yml'), [
    rule('Logon failed', '11111111-1111-4111-8111-111111111111', `name: logon_failed
tags: [mlps.8.1.4.1]
logsource: { product: windows, service: security }
detection:
  sel: { EventID: 4625, TargetUserName|exists: true }
  condition: sel
`),
    rule('Never there', '22222222-2222-4222-8222-222222222222', `tags: [mlps.8.1.4.3]
logsource: { product: windows, service: security }
detection:
  sel: { EventID: 4625, NoSuchField: x }
  condition: sel
`),
    rule('Web probe', '33333333-3333-4333-8333-333333333333', `tags: [mlps.8.1.4.1]
logsource: { category: webserver }
detection:
  sel: { c-uri|contains: /etc/passwd }
  condition: sel
`),
    rule('Logon failures', '44444444-4444-4444-8444-444444444444', `correlation: { type: event_count, rules: [logon_failed], group-by: [source.ip], timespan: 5m, condition: { gte: 5 } }
tags: [mlps.8.1.4.1]
`),
  ].join('---\n'));
});

async function run(json: boolean): Promise<string[]> {
  const out: string[] = [];
  const code = await rulesCoverage(store.events, join(dir, 'rules'), loadDefaultMapping(), { out: (l) => out.push(l), err: (l) => out.push(l) }, { days: 7, sample: 500, json, now });
  expect(code).toBe(0);
  return out;
}

describe('shouwang rules coverage', () => {
  it('says which rules can fire on the stored events, per logsource and per MLPS control, and why the others cannot', async () => {
    const report = JSON.parse((await run(true)).join('\n')) as CoverageReport;
    const byTitle = Object.fromEntries(report.rules.map((r) => [r.title, r]));
    expect(report.sampled).toBe(3);
    expect(byTitle['Logon failed']).toMatchObject({ canFire: true, events: 3, missingFields: [] });
    expect(byTitle['Never there']).toMatchObject({ canFire: false, missingFields: ['winlog.event_data.NoSuchField'] });
    expect(byTitle['Web probe']).toMatchObject({ canFire: false, events: 0 });
    expect(byTitle['Logon failures']).toMatchObject({ kind: 'correlation', canFire: true });
    const security = report.logsources.find((l) => l.logsource === 'windows/-/security')!;
    expect(security).toMatchObject({ events: 3, rules: 2, canFire: 1 });
    expect(security.unusedFields).toContain('source.ip');
    expect(security.unusedFields).not.toContain('winlog.event_data.TargetUserName');
    expect(report.controls.find((c) => c.clause === '8.1.4.1')).toMatchObject({ rules: 3, canFire: 2, control: expect.stringContaining('身份鉴别') });
    expect(report.controls.find((c) => c.clause === '8.1.4.3')).toMatchObject({ rules: 1, canFire: 0 });
  });

  it('prints the blind spots for an officer', async () => {
    const text = (await run(false)).join('\n');
    expect(text).toMatch(/2\/4 条规则可在已存数据上触发 rules can fire/);
    expect(text).toMatch(/Web probe .*no data of its logsource/);
    expect(text).toMatch(/Never there .*fields never seen: winlog\.event_data\.NoSuchField/);
  });
});
