/**
 * SigmaHQ's Windows rules outside process_creation, as published, on Winlogbeat events read by our
 * windows-event decoder through the shipped mapping: the modifiers they lean on (null, base64offset,
 * windash, cidr with IPv6, re, contains|all) behave as the rules mean them, per Sysmon event id and channel.
 */
import { describe, expect, it } from 'vitest';
import { compileRuleSet, listRuleFiles, loadDefaultMapping, loadRuleFile } from '../../../analyzers/sigma/index.js';
import type { RuleDocument } from '../../../analyzers/types.js';
import { decodeRecordLine } from '../../../collectors/index.js';
import { AssetIndex, loadInventory } from '../../../core/index.js';

const inventory = loadInventory('config/inventory.demo.yaml');
const assets = new AssetIndex(inventory);
const context = { utcOffset: '+08:00', now: new Date('2026-11-26T12:00:00Z') };
const SYSMON = 'Microsoft-Windows-Sysmon/Operational';
const AUDIT = 'Microsoft-Windows-Security-Auditing';

function winlogbeat(channel: string, eventId: number, data: Record<string, unknown>, provider = 'Microsoft-Windows-Sysmon'): Record<string, unknown> {
  const doc = { '@timestamp': '2026-11-26T02:00:00.000Z', winlog: { channel, event_id: eventId, provider_name: provider, computer_name: 'rsj-dc01.rsj.gov', event_data: data } };
  const decoded = decodeRecordLine({ text: JSON.stringify(doc), position: '1' }, 'win', assets, context, 'windows-event');
  if (!decoded.ok) throw new Error(decoded.reason);
  return decoded.event;
}

describe('SigmaHQ Windows rules (not process_creation) on decoded Winlogbeat events', async () => {
  const documents: RuleDocument[] = [];
  for (const file of await listRuleFiles('test/fixtures/sigma/rules/windows')) {
    if (!file.includes('process_creation')) documents.push(...(await loadRuleFile(file)).documents);
  }
  const set = compileRuleSet(documents, { mapping: loadDefaultMapping(), placeholders: inventory.placeholders });
  const titles = (event: Record<string, unknown>) => set.match(event).map((r) => r.title).sort();

  it('registry_set: `Image: null` filters events without an image, the rule fires with one', () => {
    const data = { EventType: 'SetValue', TargetObject: 'HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WINEVT\\Channels\\Microsoft-Windows-PowerShell/Operational\\Enabled', Details: 'DWORD (0x00000000)' };
    expect(titles(winlogbeat(SYSMON, 13, { ...data, Image: 'C:\\Windows\\System32\\reg.exe' }))).toEqual(['Disable Windows Event Logging Via Registry']);
    expect(titles(winlogbeat(SYSMON, 13, data))).toEqual([]);
    // Re-enabling the channel is no tampering.
    expect(titles(winlogbeat(SYSMON, 13, { ...data, Details: 'DWORD (0x00000001)', Image: 'C:\\Windows\\System32\\reg.exe' }))).toEqual([]);
  });

  it('wmi_event: base64offset finds the phrase at each of the three byte offsets', () => {
    for (const prefix of ['', 'a', 'ab']) {
      const destination = Buffer.from(`${prefix}WriteProcessMemory`).toString('base64');
      expect(titles(winlogbeat(SYSMON, 20, { Destination: destination })), prefix).toEqual(['Suspicious Encoded Scripts in a WMI Consumer', 'WMI Event Subscription']);
    }
    expect(titles(winlogbeat(SYSMON, 20, { Destination: Buffer.from('ReadFile').toString('base64') }))).toEqual(['WMI Event Subscription']);
  });

  it('system 7045: windash matches an en dash flag as well as a hyphen', () => {
    for (const dash of ['-', '/', '\u2013']) {
      const event = winlogbeat('System', 7045, { ServiceName: 'upd', ImagePath: `cmd.exe /c powershell.exe ${dash}c whoami` }, 'Service Control Manager');
      expect(titles(event), dash).toEqual(['Suspicious Service Installation Script']);
    }
    expect(titles(winlogbeat('System', 7045, { ServiceName: 'upd', ImagePath: 'C:\\Program Files\\Vendor\\agent.exe' }, 'Service Control Manager'))).toEqual([]);
  });

  it('security 4624: cidr filters private IPv4 and IPv6 ranges, a public address fires', () => {
    const logon = (ip: string) => winlogbeat('Security', 4624, { LogonType: '10', IpAddress: ip, TargetUserName: 'bob' }, AUDIT);
    expect(titles(logon('203.0.113.7'))).toEqual(['External Remote RDP Logon from Public IP']);
    for (const ip of ['10.20.1.15', '192.168.3.4', 'fe80::1', 'fd00::5']) expect(titles(logon(ip)), ip).toEqual([]);
    // Loopback is no public address, but it is the tunnelled-RDP rule's case.
    expect(titles(logon('::1'))).toEqual(['RDP Login from Localhost']);
  });

  it('pipe_created: a Cobalt Strike pipe matches the regex list, a normal pipe does not', () => {
    expect(titles(winlogbeat(SYSMON, 17, { PipeName: '\\mojo.5688.8052.183894939787088877ab', Image: 'C:\\Users\\bob\\x.exe' }))).toEqual(['CobaltStrike Named Pipe Pattern Regex']);
    expect(titles(winlogbeat(SYSMON, 17, { PipeName: '\\mojo.5688.8052.1', Image: 'C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe' }))).toEqual([]);
  });

  it('other Sysmon categories and PowerShell script blocks fire on their own event ids only', () => {
    const lsass = { SourceImage: 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe', TargetImage: 'C:\\Windows\\System32\\lsass.exe', StartAddress: '0x7FF6' };
    expect(titles(winlogbeat(SYSMON, 8, lsass))).toEqual(['Potential Credential Dumping Attempt Via PowerShell Remote Thread']);
    // The same fields as a process-access event (id 10) are another category.
    expect(titles(winlogbeat(SYSMON, 10, lsass))).toEqual([]);
    expect(titles(winlogbeat(SYSMON, 7, { Image: 'C:\\Windows\\System32\\rundll32.exe', ImageLoaded: 'C:\\Windows\\System32\\amsi.dll' }))).toEqual(['Amsi.DLL Loaded Via LOLBIN Process']);
    expect(titles(winlogbeat(SYSMON, 3, { Image: 'C:\\Windows\\System32\\certutil.exe', Initiated: 'true', DestinationPort: '443', DestinationIp: '203.0.113.9' }))).toEqual(['Uncommon Network Connection Initiated By Certutil.EXE']);
    expect(titles(winlogbeat(SYSMON, 22, { QueryName: 'abcdefghijklmnop.onion', Image: 'C:\\Tools\\tor.exe' }))).toEqual(['DNS Query Tor .Onion Address - Sysmon']);
    expect(titles(winlogbeat(SYSMON, 11, { Image: 'C:\\Windows\\System32\\cmd.exe', TargetFilename: 'C:\\Users\\Public\\run.bat' }))).toEqual(['Windows Shell/Scripting Application File Write to Suspicious Folder']);
    expect(titles(winlogbeat('Microsoft-Windows-PowerShell/Operational', 4104, { ScriptBlockText: 'Remove-Module psreadline' }, 'Microsoft-Windows-PowerShell'))).toEqual(['Disable Powershell Command History']);
    expect(titles(winlogbeat('Microsoft-Windows-PowerShell/Operational', 4104, { ScriptBlockText: 'Get-Module psreadline' }, 'Microsoft-Windows-PowerShell'))).toEqual([]);
  });

  it('security 5145: the escaped `\\\\*\\IPC$` share name matches literally', () => {
    const share = (name: string) => winlogbeat('Security', 5145, { ShareName: name, RelativeTargetName: 'svc-stdin', SubjectUserName: 'bob' }, AUDIT);
    // svc-stdin is not in the known remote pipes of "First Time Seen Remote Named Pipe", so it fires too
    expect(titles(share('\\\\*\\IPC$'))).toEqual(['First Time Seen Remote Named Pipe', 'Suspicious PsExec Execution']);
    expect(titles(share('\\\\*\\C$'))).toEqual([]);
  });
});
