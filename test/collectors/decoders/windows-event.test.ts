/**
 * Windows events as WEF collectors ship them (Winlogbeat ECS JSON, NXLog JSON), over a file/HTTP
 * record format, an NDJSON line and a syslog line, decoded to the Winlogbeat shape; SigmaHQ-shaped
 * rules (raw EventData names, EventID, Provider_Name) run on them through the default mapping.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeLine, decodeRecordLine, resolveFormat } from '../../../collectors/index.js';
import { AssetIndex, inventoryFromYaml, seededRandom, type ShouwangEvent } from '../../../core/index.js';
import { compileRuleSet, loadRuleDir, parseRuleText } from '../../../analyzers/index.js';

const CONTEXT = { utcOffset: '+08:00', now: new Date('2026-11-30T00:00:00Z') };
const assets = new AssetIndex(inventoryFromYaml(`
departments: [{ id: rsj, name: 人社局 }]
systems:
  - { id: rsj-oa, name: OA, department: rsj, mlpsLevel: 3, zone: 政务外网, owner: { name: 王工 }, hosts: [WIN-41OB2LO92CR, rsj-dc01.rsj.gov] }
`, 'inventory.yaml'));

// Decoded events are open-ended JSON: tests read them by path.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = Record<string, any>;
const fixture = (name: string): Record<string, unknown>[] => JSON.parse(readFileSync(`test/fixtures/windows/${name}`, 'utf8')) as Record<string, unknown>[];
let serial = 0;
function viaFormat(doc: unknown): ShouwangEvent {
  const decoded = decodeRecordLine({ text: JSON.stringify(doc), position: String(serial++) }, 'win', assets, CONTEXT, 'windows-event');
  if (!decoded.ok) throw new Error(decoded.reason);
  return decoded.event;
}

/** An NXLog im_msvistalog record with to_json(): header keys and EventData at the top. */
function nxlog(eventId: number, data: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    EventTime: '2026-11-26 09:15:01', Hostname: 'rsj-dc01.rsj.gov', Keywords: '-9214364837600034816', EventType: 'AUDIT_SUCCESS',
    SeverityValue: 2, Severity: 'INFO', EventID: eventId, SourceName: 'Microsoft-Windows-Security-Auditing',
    ProviderGuid: '{54849625-5478-4994-A5BA-3E3B0328C30D}', Version: 0, Task: 12544, OpcodeValue: 0, RecordNumber: 4242,
    ProcessID: 612, ThreadID: 700, Channel: 'Security', Message: 'An account was successfully logged on.', Category: 'Logon',
    Opcode: 'Info', ...data, EventReceivedTime: '2026-11-26 09:15:02', SourceModuleName: 'eventlog', SourceModuleType: 'im_msvistalog', ...extra,
  };
}

const rule = (yaml: string) => {
  const parsed = parseRuleText(yaml, 'rule.yml');
  const set = compileRuleSet(parsed.documents);
  expect([...parsed.problems, ...set.problems]).toEqual([]);
  return set;
};

describe('windows-event decoder', () => {
  it('reads Winlogbeat 4720 (elastic/beats testdata) with the raw EventData names and the ECS user', () => {
    const [first] = fixture('winlogbeat-4720.golden.json');
    const event = viaFormat(first) as Loose;
    expect(event.winlog.event_id).toBe(4720);
    expect(event.winlog.event_data.TargetUserName).toBe('elastictest1');
    expect(event.event).toMatchObject({ code: '4720', action: 'added-user-account', category: ['iam'], type: ['user', 'creation'], outcome: 'success', dataset: 'windows.security' });
    expect(event.user).toMatchObject({ name: 'Administrator', target: { name: 'elastictest1' } });
    expect(event['@timestamp']).toBe('2019-09-06T13:24:39.293Z');
    expect(event.shouwang).toMatchObject({ system: 'rsj-oa' });
  });

  it('puts back the Sysmon 1 names Winlogbeat moved into process.* (Image, CommandLine, ParentImage, User)', () => {
    const event = viaFormat(fixture('winlogbeat-sysmon-1.golden.json')[0]) as Loose;
    expect(event.winlog.event_data).toMatchObject({
      Image: 'C:\\Windows\\System32\\notepad.exe', ParentImage: 'C:\\Windows\\explorer.exe', User: 'VAGRANT\\vagrant',
      OriginalFileName: 'NOTEPAD.EXE', CommandLine: '"C:\\Windows\\system32\\notepad.exe" ',
    });
    expect(event.event.dataset).toBe('windows.sysmon');
  });

  it('reads NXLog JSON: EventData at the top goes to winlog.event_data, local EventTime at the source zone', () => {
    const event = viaFormat(nxlog(4625, { TargetUserName: 'zhangsan', TargetDomainName: 'RSJ', IpAddress: '10.9.8.7', IpPort: '50211', LogonType: '3' }, { EventType: 'AUDIT_FAILURE' })) as Loose;
    expect(event['@timestamp']).toBe('2026-11-26T01:15:01.000Z');
    expect(event.winlog).toMatchObject({ channel: 'Security', event_id: 4625, computer_name: 'rsj-dc01.rsj.gov', event_data: { TargetUserName: 'zhangsan', LogonType: '3' } });
    expect(event.winlog.event_data.EventTime).toBeUndefined();
    expect(event.event).toMatchObject({ action: 'logon-failed', outcome: 'failure', category: ['authentication'] });
    expect(event.user.name).toBe('zhangsan');
    expect(event.source).toEqual({ ip: '10.9.8.7', port: 50211 });
    // The client in source.ip never decides the system: the computer that logged it does.
    expect(event.shouwang).toMatchObject({ system: 'rsj-oa' });
  });

  it('recognizes a Windows event in an NDJSON line, behind a syslog header, and from a json source', () => {
    const doc = nxlog(4624, { TargetUserName: 'lisi', LogonType: '10', IpAddress: '10.1.1.1' });
    const ndjson = decodeLine({ text: JSON.stringify(doc), position: 'a' }, 'win', assets, CONTEXT);
    const syslog = decodeLine({ text: `<14>Nov 26 09:15:01 rsj-dc01 Microsoft-Windows-Security-Auditing[612]: ${JSON.stringify(doc)}`, position: 'b' }, 'win', assets, CONTEXT);
    const json = resolveFormat({ source: 'win', format: 'json', assets }).decode({ text: JSON.stringify(doc), position: 'c' }, { now: CONTEXT.now });
    for (const decoded of [ndjson, syslog, json]) {
      expect(decoded.ok).toBe(true);
      if (!decoded.ok) continue;
      expect((decoded.event as Loose).winlog.event_id).toBe(4624);
      expect(decoded.event.event?.dataset).toBe('windows.security');
    }
  });

  it('turns broken records into a reason, never a throw (random bytes, truncation, wrong types, deep nesting)', () => {
    const random = seededRandom(17);
    const good = JSON.stringify(fixture('winlogbeat-4732.golden.json')[0]);
    const inputs = [
      '{}', '[]', 'null', '{"winlog":{"channel":"Security","event_id":"abc"},"@timestamp":"2026-01-01T00:00:00Z"}',
      '{"winlog":{"channel":"Security","event_id":4624}}', '{"EventID":4624,"Channel":"Security","EventTime":"yesterday"}',
      '{"EventID":4624,"Channel":"Security","EventTime":"2026-02-30 10:00:00"}', `{"winlog":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`,
      ...Array.from({ length: 200 }, (_, i) => good.slice(0, Math.floor(random() * good.length)) + (i % 2 ? '' : String.fromCharCode(Math.floor(random() * 65536)))),
    ];
    for (const text of inputs) {
      const decoded = decodeRecordLine({ text, position: 'x' }, 'win', assets, CONTEXT, 'windows-event');
      if (!decoded.ok) expect(decoded.reason).toBeTypeOf('string');
    }
  });
});

describe('SigmaHQ Windows rules through the default mapping (pySigma windows/sysmon/windows-audit pipelines)', () => {
  it('runs a process_creation rule on Sysmon 1 and on Security 4688 (NewProcessName as Image)', () => {
    const set = rule(`title: notepad
id: 0b5e2b7c-36b4-4a42-9e7a-6a8d3b9e2a11
logsource: { product: windows, category: process_creation }
detection:
  selection:
    Image|endswith: '\\notepad.exe'
    ParentImage|endswith: '\\explorer.exe'
  condition: selection
level: low`);
    expect(set.match(viaFormat(fixture('winlogbeat-sysmon-1.golden.json')[0]))).toHaveLength(1);
    const audit = viaFormat(nxlog(4688, { NewProcessName: 'C:\\Windows\\System32\\notepad.exe', ParentProcessName: 'C:\\Windows\\explorer.exe', CommandLine: 'notepad' }));
    expect(set.match(audit)).toHaveLength(1);
    // A Security 4624 names no process: the logsource condition keeps the rule off it.
    expect(set.match(viaFormat(nxlog(4624, { TargetUserName: 'x' })))).toHaveLength(0);
  });

  it('runs service rules by channel: 1102 by Provider_Name and EventID (SigmaHQ win_security_audit_log_cleared)', () => {
    const set = rule(`title: log cleared
id: 1f0b6c1e-5c8c-4a9e-9f5e-0c6f3c2b1a22
logsource: { product: windows, service: security }
detection:
  selection:
    EventID: 1102
    Provider_Name: Microsoft-Windows-Eventlog
  condition: selection
level: high`);
    expect(set.match(viaFormat(fixture('winlogbeat-1102.golden.json')[0]))).toHaveLength(1);
    expect(set.match(viaFormat(fixture('winlogbeat-4720.golden.json')[0]))).toHaveLength(0);
  });

  it('runs SigmaHQ rules copied unchanged (test/fixtures/windows/sigma) on the samples: fire where the sample shows the behaviour', async () => {
    const loaded = await loadRuleDir('test/fixtures/windows/sigma');
    const set = compileRuleSet(loaded.documents);
    expect([...loaded.problems, ...set.problems].filter((p) => p.severity === 'error')).toEqual([]);
    expect(set.rules).toHaveLength(3);
    const titles = (event: ShouwangEvent) => set.match(event).map((r) => r.title);
    expect(titles(viaFormat(fixture('winlogbeat-1102.golden.json')[0]))).toEqual(['Security Eventlog Cleared']);
    expect(titles(viaFormat(nxlog(4728, { MemberName: 'CN=bob,DC=rsj', TargetUserName: 'Domain Admins' })))).toEqual(['A Member Was Added to a Security-Enabled Global Group']);
    const encoded = viaFormat(nxlog(1, {
      Image: 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe', OriginalFileName: 'PowerShell.EXE',
      CommandLine: 'powershell.exe -nop -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAKQA=', ParentImage: 'C:\\Windows\\explorer.exe',
    }, { Channel: 'Microsoft-Windows-Sysmon/Operational', SourceName: 'Microsoft-Windows-Sysmon', EventType: 'INFO' }));
    expect(titles(encoded)).toEqual(['Suspicious Encoded PowerShell Command Line']);
    // The notepad sample, the 4720 and 4732 samples show none of it.
    for (const name of ['winlogbeat-sysmon-1.golden.json', 'winlogbeat-4720.golden.json', 'winlogbeat-4732.golden.json']) {
      expect(titles(viaFormat(fixture(name)[0])), name).toEqual([]);
    }
  });
});
