/**
 * Windows events as Windows Event Forwarding collectors ship them, one JSON object per record:
 *
 * - **Winlogbeat** (ECS): `winlog.channel`, `winlog.event_id`, `winlog.provider_name`,
 *   `winlog.event_data.*` with the raw EventData names (Elastic, "winlog fields", Winlogbeat reference).
 *   Winlogbeat's sysmon and security modules move some EventData into ECS (`Image` → `process.executable`)
 *   and drop it from `event_data`: those are put back, so rules written against the raw names still run.
 * - **NXLog** `im_msvistalog` + `to_json()`: `EventTime`, `Hostname`, `EventID`, `Channel`, `SourceName`…
 *   at the top, and every EventData field at the top too under its raw name (NXLog CE Reference Manual,
 *   "im_msvistalog" fields). Fields that are not NXLog's own go to `winlog.event_data`.
 *
 * Both become the Winlogbeat shape (so one field mapping serves both: rules/mappings/default.yaml,
 * product windows) plus ECS fields for the Security, System, PowerShell and Sysmon events we read.
 */
import { isPlainObject } from '../../core/index.js';
import { toIsoTimestamp } from './db-audit.js';
import { assertCategorization, ecsFields, type Categorization } from './ecs.js';
import type { RecordContext, RecordResult } from './types.js';

export const WINDOWS_DATASET_PREFIX = 'windows.';

/** NXLog's own keys (im_msvistalog); every other key of an NXLog record is an EventData field. */
const NXLOG_KEYS = new Set([
  'EventTime', 'EventReceivedTime', 'Hostname', 'Keywords', 'EventType', 'SeverityValue', 'Severity', 'EventID',
  'SourceName', 'ProviderGuid', 'Version', 'Task', 'OpcodeValue', 'RecordNumber', 'ActivityID', 'RelatedActivityID',
  'ProcessID', 'ThreadID', 'Channel', 'Message', 'Category', 'Opcode', 'Domain', 'AccountName', 'UserID',
  'AccountType', 'SourceModuleName', 'SourceModuleType', 'MessageSourceAddress', 'Level', 'ERRORCODE',
]);

const SYSMON_CHANNEL = 'Microsoft-Windows-Sysmon/Operational';
const LOCAL_TIME = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?)$/;
const HAS_ZONE = /(?:Z|[+-]\d{2}:?\d{2})$/;

interface Kind extends Categorization {
  action: string;
}
const kind = (action: string, category: Kind['category'], type: Kind['type']): Kind => ({ action, category, type });

/** What each event we read means, by channel and event id (names as Winlogbeat's security module gives them). */
const KINDS: Readonly<Record<string, Readonly<Record<number, Kind>>>> = {
  Security: {
    1102: kind('audit-log-cleared', ['iam'], ['admin', 'change']),
    4624: kind('logged-in', ['authentication'], ['start']),
    4625: kind('logon-failed', ['authentication'], ['start']),
    4648: kind('logged-in-explicit', ['authentication'], ['start']),
    4672: kind('logged-in-special', ['iam'], ['admin']),
    4688: kind('created-process', ['process'], ['start']),
    4719: kind('changed-audit-config', ['iam', 'configuration'], ['admin', 'change']),
    4720: kind('added-user-account', ['iam'], ['user', 'creation']),
    4722: kind('enabled-user-account', ['iam'], ['user', 'change']),
    4724: kind('reset-password', ['iam'], ['user', 'change']),
    4726: kind('deleted-user-account', ['iam'], ['user', 'deletion']),
    4728: kind('added-member-to-group', ['iam'], ['group', 'change']),
    4732: kind('added-member-to-group', ['iam'], ['group', 'change']),
    4740: kind('locked-out-user-account', ['iam'], ['user', 'change']),
    4756: kind('added-member-to-group', ['iam'], ['group', 'change']),
  },
  System: {
    104: kind('audit-log-cleared', ['iam'], ['admin', 'change']),
    7045: kind('service-installed', ['configuration'], ['creation']),
  },
  'Microsoft-Windows-PowerShell/Operational': {
    4103: kind('executing-pipeline', ['process'], ['info']),
    4104: kind('execute-script-block', ['process'], ['info']),
  },
  [SYSMON_CHANNEL]: {
    1: kind('process-created', ['process'], ['start']),
    3: kind('network-connection', ['network'], ['connection', 'start']),
    11: kind('file-created', ['file'], ['creation']),
  },
};
for (const [channel, ids] of Object.entries(KINDS)) {
  for (const [id, k] of Object.entries(ids)) assertCategorization(`windows ${channel} ${id}`, k);
}

/** A JSON object that is a Windows event in one of the two shapes. */
export function isWindowsEvent(doc: Record<string, unknown>): boolean {
  if (isPlainObject(doc.winlog)) return typeof doc.winlog.channel === 'string' || doc.winlog.event_id !== undefined;
  return doc.EventID !== undefined && (typeof doc.Channel === 'string' || typeof doc.SourceName === 'string');
}

/** One JSON line (Winlogbeat or NXLog) → ECS fields; never throws. */
export function decodeWindowsEvent(line: string, context: RecordContext): RecordResult {
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch (error) {
    return { ok: false, reason: `invalid JSON: ${(error as Error).message}` };
  }
  if (!isPlainObject(doc)) return { ok: false, reason: 'Windows event is not a JSON object' };
  return decodeWindowsDoc(doc, context);
}

/** A parsed Windows event (Winlogbeat or NXLog) → ECS fields in the Winlogbeat shape. */
export function decodeWindowsDoc(doc: Record<string, unknown>, context: RecordContext): RecordResult {
  if (!isWindowsEvent(doc)) return { ok: false, reason: 'not a Windows event: expected winlog.channel (Winlogbeat) or EventID and Channel (NXLog)' };
  const shaped = isPlainObject(doc.winlog) ? fromWinlogbeat(doc) : fromNxlog(doc, context);
  if (!shaped.ok) return shaped;
  const { fields, winlog } = shaped;
  const channel = typeof winlog.channel === 'string' ? winlog.channel : '';
  const eventId = Number(winlog.event_id);
  if (!Number.isInteger(eventId) || eventId < 0) return { ok: false, reason: `Windows event id is not a number: ${JSON.stringify(winlog.event_id)}` };
  winlog.event_id = eventId;
  const data = isPlainObject(winlog.event_data) ? winlog.event_data : (winlog.event_data = {});
  const userData = isPlainObject(winlog.user_data) ? winlog.user_data : {};
  const field = (name: string): string | undefined => text(data[name]) ?? text(userData[name]);
  const known = KINDS[channel]?.[eventId] ?? (channel.startsWith('Microsoft-Windows-PowerShell') ? KINDS['Microsoft-Windows-PowerShell/Operational']![eventId] : undefined);
  const keywords = Array.isArray(winlog.keywords) ? winlog.keywords.map(String) : [];
  const failed = keywords.includes('Audit Failure') || eventId === 4625;
  const event = isPlainObject(fields.event) ? fields.event : {};
  const module = channel === SYSMON_CHANNEL ? 'sysmon' : channel.startsWith('Microsoft-Windows-PowerShell') || channel === 'Windows PowerShell' ? 'powershell'
    : channel === 'Security' ? 'security' : channel === 'System' ? 'system' : 'eventlog';
  const ecs: Record<string, unknown> = {
    'event.kind': 'event',
    'event.code': String(eventId),
    'event.provider': winlog.provider_name,
    'event.module': event.module ?? module,
    'event.dataset': `${WINDOWS_DATASET_PREFIX}${module}`,
    'host.name': text(winlog.computer_name),
  };
  if (known) {
    Object.assign(ecs, { 'event.action': known.action, 'event.category': known.category, 'event.type': known.type });
    if (channel === 'Security') ecs['event.outcome'] = failed ? 'failure' : 'success';
  }
  Object.assign(ecs, securityFields(channel, eventId, field));
  if (channel === SYSMON_CHANNEL || (channel === 'Security' && eventId === 4688)) restoreProcessFields(fields, data, eventId, channel);
  if (eventId === 4104 && field('ScriptBlockText')) ecs['powershell.file.script_block_text'] = field('ScriptBlockText');
  const extra = ecsFields(ecs);
  return { ok: true, fields: merge({ ...fields, winlog }, extra) };
}

type FieldOf = (name: string) => string | undefined;

/** The ECS user, source and group of the Security events we read (Winlogbeat's security module does the same). */
function securityFields(channel: string, id: number, field: FieldOf): Record<string, unknown> {
  if (channel !== 'Security' && !(channel === 'System' && id === 104)) return {};
  const subject = { 'user.name': field('SubjectUserName'), 'user.domain': field('SubjectDomainName'), 'user.id': field('SubjectUserSid') };
  const source = { 'source.ip': address(field('IpAddress')), 'source.port': port(field('IpPort')), 'source.domain': dash(field('WorkstationName')) };
  switch (id) {
    case 4624:
    case 4625:
      return {
        'user.name': field('TargetUserName'), 'user.domain': field('TargetDomainName'), 'user.id': field('TargetUserSid'),
        ...source, 'winlog.logon.type': field('LogonType'), 'winlog.logon.id': field('TargetLogonId'),
      };
    case 4648:
      return { ...subject, 'user.target.name': field('TargetUserName'), 'user.target.domain': field('TargetDomainName'), ...source };
    case 4720:
    case 4722:
    case 4724:
    case 4726:
    case 4740:
      return {
        ...subject, 'user.target.name': field('TargetUserName'), 'user.target.domain': field('TargetDomainName'),
        'user.target.id': field('TargetSid'), 'source.domain': dash(field('CallerComputerName')),
      };
    case 4728:
    case 4732:
    case 4756:
      return {
        ...subject, 'group.name': field('TargetUserName'), 'group.domain': field('TargetDomainName'), 'group.id': field('TargetSid'),
        'user.target.name': memberName(field('MemberName')), 'user.target.id': field('MemberSid'),
      };
    case 104:
      return { 'user.name': field('SubjectUserName'), 'user.domain': field('SubjectDomainName') };
    default:
      return subject;
  }
}

/**
 * Sysmon 1 / Security 4688: ECS `process.*` from the raw names, and the raw names from `process.*`
 * where Winlogbeat's module moved them away (pySigma's Sysmon and Windows-audit pipelines expect them).
 */
function restoreProcessFields(fields: Record<string, unknown>, data: Record<string, unknown>, id: number, channel: string): void {
  const process = isPlainObject(fields.process) ? fields.process : {};
  const parent = isPlainObject(process.parent) ? process.parent : {};
  const pe = isPlainObject(process.pe) ? process.pe : {};
  const user = isPlainObject(fields.user) ? fields.user : {};
  const audit = channel === 'Security';
  const pairs: [string, unknown][] = audit
    ? [['NewProcessName', process.executable], ['CommandLine', process.command_line], ['ParentProcessName', parent.executable]]
    : [
        ['Image', process.executable], ['CommandLine', process.command_line], ['CurrentDirectory', process.working_directory],
        ['ProcessId', process.pid], ['ParentImage', parent.executable], ['ParentCommandLine', parent.command_line],
        ['ParentProcessId', parent.pid], ['OriginalFileName', pe.original_file_name], ['ProcessGuid', process.entity_id],
        ['Hashes', sysmonHashes(process.hash, pe.imphash)],
        ['User', typeof user.name === 'string' ? (typeof user.domain === 'string' ? `${user.domain}\\${user.name}` : user.name) : undefined],
      ];
  if (id !== 1 && !audit) return;
  for (const [name, value] of pairs) {
    if (data[name] === undefined && value !== undefined && value !== '') data[name] = typeof value === 'number' ? String(value) : value;
  }
  const executable = text(data[audit ? 'NewProcessName' : 'Image']);
  const commandLine = text(data.CommandLine);
  const parentExecutable = text(data[audit ? 'ParentProcessName' : 'ParentImage']);
  fields.process = {
    ...process,
    ...(executable ? { executable, name: baseName(executable) } : {}),
    ...(commandLine ? { command_line: commandLine } : {}),
    ...(parentExecutable || text(data.ParentCommandLine)
      ? { parent: { ...parent, ...(parentExecutable ? { executable: parentExecutable, name: baseName(parentExecutable) } : {}), ...(text(data.ParentCommandLine) ? { command_line: text(data.ParentCommandLine) } : {}) } }
      : {}),
  };
  if (!isPlainObject(fields.user) || fields.user.name === undefined) {
    const raw = text(data.User) ?? text(data.SubjectUserName);
    if (raw) {
      const at = raw.lastIndexOf('\\');
      fields.user = { ...user, name: at >= 0 ? raw.slice(at + 1) : raw, ...(at >= 0 ? { domain: raw.slice(0, at) } : {}) };
    }
  }
}

/** Sysmon's Hashes value (`SHA1=…,MD5=…,IMPHASH=…`) from the ECS hashes Winlogbeat's sysmon module split it into. */
function sysmonHashes(hash: unknown, imphash: unknown): string | undefined {
  const pairs = isPlainObject(hash) ? Object.entries(hash).filter(([, v]) => typeof v === 'string' && v !== '') : [];
  if (typeof imphash === 'string' && imphash !== '' && !pairs.some(([k]) => k === 'imphash')) pairs.push(['imphash', imphash]);
  return pairs.length ? pairs.map(([k, v]) => `${k.toUpperCase()}=${String(v)}`).join(',') : undefined;
}

function fromWinlogbeat(doc: Record<string, unknown>): { ok: true; fields: Record<string, unknown>; winlog: Record<string, unknown> } | { ok: false; reason: string } {
  const { winlog, ...rest } = doc as { winlog: Record<string, unknown> } & Record<string, unknown>;
  const timestamp = rest['@timestamp'];
  if (typeof timestamp !== 'string' || Number.isNaN(Date.parse(timestamp))) return { ok: false, reason: 'Winlogbeat event has no valid @timestamp' };
  // Copies: the rest of the record is Winlogbeat's ECS and stays; only what we change is ours.
  const copy: Record<string, unknown> = { ...winlog };
  if (isPlainObject(winlog.event_data)) copy.event_data = { ...winlog.event_data };
  return { ok: true, fields: { ...rest, '@timestamp': new Date(timestamp).toISOString() }, winlog: copy };
}

function fromNxlog(doc: Record<string, unknown>, context: RecordContext): { ok: true; fields: Record<string, unknown>; winlog: Record<string, unknown> } | { ok: false; reason: string } {
  const timestamp = nxlogTime(doc.EventTime, context.utcOffset);
  if (!timestamp) return { ok: false, reason: `NXLog EventTime is not a date: ${JSON.stringify(doc.EventTime)}` };
  const eventData: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(doc)) if (!NXLOG_KEYS.has(key)) eventData[key] = value;
  const eventType = text(doc.EventType);
  const keywords = eventType === 'AUDIT_FAILURE' ? ['Audit Failure'] : eventType === 'AUDIT_SUCCESS' ? ['Audit Success'] : undefined;
  const winlog: Record<string, unknown> = {
    channel: text(doc.Channel) ?? text(doc.SourceName),
    event_id: doc.EventID,
    provider_name: text(doc.SourceName),
    provider_guid: text(doc.ProviderGuid),
    computer_name: text(doc.Hostname),
    record_id: doc.RecordNumber,
    task: text(doc.Category),
    opcode: text(doc.Opcode),
    ...(keywords ? { keywords } : {}),
    ...(typeof doc.ProcessID === 'number' ? { process: { pid: doc.ProcessID, thread: { id: doc.ThreadID } } } : {}),
    event_data: eventData,
  };
  for (const key of Object.keys(winlog)) if (winlog[key] === undefined) delete winlog[key];
  const fields: Record<string, unknown> = {
    '@timestamp': timestamp,
    ...(text(doc.Message) ? { message: text(doc.Message) } : {}),
    ...(text(doc.Severity) ? { log: { level: text(doc.Severity)!.toLowerCase() } } : {}),
  };
  return { ok: true, fields, winlog };
}

/** NXLog writes `2026-11-26 09:15:01` in the collector's local time, or ISO 8601 with a zone (newer versions). */
function nxlogTime(value: unknown, utcOffset: string): string | undefined {
  if (typeof value !== 'string') return undefined;
  const local = LOCAL_TIME.exec(value);
  if (local) return toIsoTimestamp(local[1]!, local[2]!.slice(0, 12), utcOffset);
  if (!HAS_ZONE.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

function merge(target: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  for (const [key, value] of Object.entries(extra)) {
    const current = target[key];
    target[key] = isPlainObject(current) && isPlainObject(value) ? merge({ ...current }, value) : value;
  }
  return target;
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : typeof value === 'number' ? String(value) : undefined);
const dash = (value: string | undefined): string | undefined => (value === undefined || value === '-' ? undefined : value);
const address = (value: string | undefined): string | undefined => {
  const v = dash(value);
  if (!v || v === '::1' || v === '127.0.0.1') return v;
  return /^[0-9a-fA-F:.]+$/.test(v) ? v.replace(/^::ffff:/, '') : undefined;
};
const port = (value: string | undefined): number | undefined => {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 && n < 65_536 ? n : undefined;
};
/** `CN=Bob,OU=…` → `Bob`; a SAM name stays as it is. */
const memberName = (value: string | undefined): string | undefined => dash(value)?.match(/^CN=((?:\\,|[^,])+)/i)?.[1]?.replace(/\\,/g, ',') ?? dash(value);
const baseName = (path: string): string => path.slice(Math.max(path.lastIndexOf('\\'), path.lastIndexOf('/')) + 1);
