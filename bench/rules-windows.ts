import { isPlainObject } from '../core/index.js';
import { compileRuleSet, loadDefaultMapping, loadRuleDir, type RuleDocument } from '../analyzers/index.js';
import { compareWithRsigma, EVENTS } from './rules-rsigma.js';

const RULES_DIR = 'test/fixtures/sigma/rules/windows/process_creation';
const SYSMON = 'Microsoft-Windows-Sysmon/Operational';

/**
 * Our default mapping's Sysmon process_creation entry (rules/mappings/default.yaml) as an RSigma
 * (pySigma-style) pipeline: the logsource becomes a channel + event id condition, and the rules' field
 * names are looked up under winlog.event_data, where the Windows decoder keeps the raw EventData.
 */
export const WINLOGBEAT_PIPELINE = `name: shouwang-winlogbeat-sysmon
priority: 10
transformations:
  - id: sysmon_process_creation
    type: add_condition
    conditions:
      winlog.channel: ${SYSMON}
      winlog.event_id: 1
    rule_conditions:
      - type: logsource
        category: process_creation
        product: windows
  - id: event_data
    type: field_name_prefix
    prefix: winlog.event_data.
    field_name_conditions:
      - type: include_fields
        fields: [winlog.channel, winlog.event_id]
    field_name_cond_not: true
`;

/**
 * 100 SigmaHQ Windows process-creation rules, as published, over synthetic Sysmon 1 events in the shape
 * our Windows decoder stores (Winlogbeat: winlog.channel, winlog.event_id, winlog.event_data with the
 * raw names, plus ECS process.*): ours through the product's default mapping, RSigma through the same
 * mapping written as a pipeline.
 */
export async function benchWindowsRulesAgainstRsigma(): Promise<void> {
  const mapping = loadDefaultMapping();
  const loaded = await loadRuleDir(RULES_DIR);
  const documents = compileRuleSet(loaded.documents, { mapping }).rules.map((rule) => rule.document).slice(0, 100);
  const lines = syntheticSysmonEvents(documents, EVENTS).map((event) => JSON.stringify(event));
  const set = compileRuleSet(documents, { mapping });
  await compareWithRsigma({ title: `${documents.length} SigmaHQ process_creation rules (windows, Sysmon 1 as Winlogbeat ships it)`, documents, lines, set, pipeline: WINLOGBEAT_PIPELINE });
}

const BENIGN = [
  ['C:\\Windows\\System32\\svchost.exe', 'C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule', 'C:\\Windows\\System32\\services.exe'],
  ['C:\\Windows\\System32\\notepad.exe', '"C:\\Windows\\system32\\notepad.exe" C:\\Users\\zhang\\Desktop\\todo.txt', 'C:\\Windows\\explorer.exe'],
  ['C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe', '"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe" --type=renderer', 'C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe'],
  ['C:\\Windows\\System32\\cmd.exe', 'cmd.exe /c dir C:\\data', 'C:\\Windows\\explorer.exe'],
  ['C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe', 'powershell.exe -NoProfile -Command Get-Service', 'C:\\Windows\\System32\\cmd.exe'],
  ['C:\\Windows\\System32\\wbem\\WmiPrvSE.exe', 'C:\\Windows\\system32\\wbem\\wmiprvse.exe -Embedding', 'C:\\Windows\\System32\\svchost.exe'],
  ['C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE', '"C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE" /n report.docx', 'C:\\Windows\\explorer.exe'],
  ['C:\\Windows\\System32\\conhost.exe', '\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1', 'C:\\Windows\\System32\\cmd.exe'],
  ['C:\\Windows\\System32\\taskhostw.exe', 'taskhostw.exe Install $(Arg0)', 'C:\\Windows\\System32\\svchost.exe'],
  ['C:\\Windows\\System32\\msiexec.exe', 'C:\\Windows\\system32\\msiexec.exe /V', 'C:\\Windows\\System32\\services.exe'],
] as const;

/**
 * Sysmon 1 events: nine in ten everyday process starts, one in ten built from a rule's selections (the
 * first value of each field, shaped by its modifier, as a Windows path or command line) so matches happen.
 */
export function syntheticSysmonEvents(documents: readonly RuleDocument[], count: number): Record<string, unknown>[] {
  const derived = documents.map(windowsPositiveOf).filter((e): e is Record<string, string> => e !== undefined);
  return Array.from({ length: count }, (_, i) => {
    const [image, commandLine, parent] = BENIGN[i % BENIGN.length]!;
    const data: Record<string, string> = {
      RuleName: '-', UtcTime: '2026-11-26 02:00:00.000', ProcessGuid: `{9f32b55f-7c4e-5f98-${String(i).padStart(4, '0')}-000000000500}`, ProcessId: String(4000 + i),
      Image: image, FileVersion: '10.0.20348.1', Description: '-', Product: 'Microsoft® Windows® Operating System', Company: 'Microsoft Corporation',
      OriginalFileName: image.slice(image.lastIndexOf('\\') + 1), CommandLine: commandLine, CurrentDirectory: 'C:\\Windows\\system32\\',
      User: i % 7 === 0 ? 'NT AUTHORITY\\SYSTEM' : 'RSJ\\zhangsan', LogonId: '0x3e7', IntegrityLevel: 'Medium', Hashes: 'SHA1=B6D237154F2E528F0B503B58B025862D66B02B73',
      ParentProcessId: '1200', ParentImage: parent, ParentCommandLine: parent,
      ...(i % 10 === 9 && derived.length ? derived[i % derived.length]! : {}),
    };
    return {
      '@timestamp': new Date(Date.UTC(2026, 10, 26, 2, 0, 0) + i).toISOString(),
      event: { kind: 'event', code: '1', module: 'sysmon', dataset: 'windows.sysmon', category: ['process'], type: ['start'], action: 'process-created' },
      host: { name: `rsj-pc${i % 40}` },
      process: { executable: data.Image, name: data.Image!.slice(data.Image!.lastIndexOf('\\') + 1), command_line: data.CommandLine, pid: 4000 + i, parent: { executable: data.ParentImage } },
      winlog: { channel: SYSMON, event_id: 1, provider_name: 'Microsoft-Windows-Sysmon', computer_name: `rsj-pc${i % 40}`, record_id: i, event_data: data },
    };
  });
}

/**
 * Every selection of the rule (not its filters) merged: a list of maps gives its first map, each field its
 * first value; `endswith` becomes a path ending in it, `startswith` a command starting with it,
 * `contains` a command line holding it.
 */
function windowsPositiveOf(doc: RuleDocument): Record<string, string> | undefined {
  const detection = doc.body.detection;
  if (!isPlainObject(detection)) return undefined;
  const event: Record<string, string> = {};
  for (const [name, raw] of Object.entries(detection)) {
    if (name === 'condition' || name.startsWith('filter')) continue;
    const selection = Array.isArray(raw) ? raw[0] : raw;
    if (!isPlainObject(selection)) continue;
    for (const [key, values] of Object.entries(selection)) {
      const [field, ...modifiers] = key.split('|');
      const value = Array.isArray(values) ? values[0] : values;
      if (!field || (typeof value !== 'string' && typeof value !== 'number') || modifiers.some((m) => m === 're' || m === 'cidr' || m === 'base64offset')) continue;
      const text = String(value).replace(/\*/g, 'x');
      const shaped = modifiers.includes('endswith') ? `C:\\Windows\\System32${text.startsWith('\\') ? '' : '\\x'}${text}`
        : modifiers.includes('startswith') ? `${text} /q`
          : modifiers.includes('contains') ? `cmd.exe /c ${text} ` : text;
      event[field] = event[field] === undefined ? shaped : `${event[field]} ${shaped}`;
    }
  }
  return Object.keys(event).length ? event : undefined;
}
