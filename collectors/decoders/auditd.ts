/**
 * Linux auditd records as written to /var/log/audit/audit.log (and forwarded by audisp with a
 * `node=` prefix): `type=USER_LOGIN msg=audit(1485984135.123:456): pid=… msg='op=login acct="root" … res=failed'`.
 * Key/values, including those inside the quoted `msg='…'`, go to `auditd.data` as strings; the ones
 * ECS has a place for are copied there, as Filebeat's auditd module does.
 */
import { isIP } from 'node:net';
import { assertCategorization, ecsFields, type Categorization } from './ecs.js';
import type { RecordResult } from './types.js';

const RECORD = /^(?:node=(\S+) )?type=(\S+) msg=audit\((\d+)\.(\d{3}):(\d+)\):\s*(.*)$/;
// A value is "double-quoted", 'single-quoted' or bare. auditd writes some bare values with spaces
// (op=adding group to /etc/group id=1004), so a bare value runs on over words that are not key=.
const PAIR = /([\w-]+)=(?:"([^"]*)"|'([^']*)'|((?:[^\s"'][^\s]*)?(?:\s+(?![\w-]+=)[^\s=]+)*))/g;
// auditd hex-encodes (upper case) the values of these fields when they hold a space, a quote, a
// control character or non-ASCII bytes; the list is Filebeat's.
const HEX_KEYS = new Set([
  'exe', 'cmd', 'data', 'path', 'comm', 'file', 'name', 'watch', 'cwd', 'acct', 'dir', 'vm', 'old-chardev', 'new-chardev',
  'old-disk', 'new-disk', 'old-fs', 'new-fs', 'old-net', 'new-net', 'device', 'cgroup', 'apparmor', 'operation',
  'denied_mask', 'info', 'profile', 'requested_mask', 'old-rng', 'new-rng', 'ocomm', 'grp', 'new_group', 'invalid_context',
  'sw', 'root_dir', 'proctitle',
]);
const HEX = /^(?:[0-9A-F]{2})+$/;
const NEEDS_ENCODING = /[^\x21\x23-\x7e]/;
// Values that mean "nothing": auditd's placeholders.
const EMPTY = new Set(['', '?', '(null)']);
// auid of a process no one logged in to (daemons): (uint32)-1.
const UNSET_IDS = new Set(['4294967295', '-1']);

/** ECS categorization per record type; types not listed get event.action only. */
const CATEGORIES: Record<string, Categorization> = {
  USER_LOGIN: { category: ['authentication'], type: ['start'] },
  USER_LOGOUT: { category: ['authentication'], type: ['end'] },
  USER_AUTH: { category: ['authentication'], type: ['info'] },
  USER_ACCT: { category: ['authentication'], type: ['info'] },
  CRED_ACQ: { category: ['authentication'], type: ['info'] },
  CRED_DISP: { category: ['authentication'], type: ['info'] },
  CRED_REFR: { category: ['authentication'], type: ['info'] },
  USER_START: { category: ['session'], type: ['start'] },
  USER_END: { category: ['session'], type: ['end'] },
  ADD_USER: { category: ['iam'], type: ['user', 'creation'] },
  DEL_USER: { category: ['iam'], type: ['user', 'deletion'] },
  USER_MGMT: { category: ['iam'], type: ['user', 'change'] },
  USER_CHAUTHTOK: { category: ['iam'], type: ['user', 'change'] },
  ACCT_LOCK: { category: ['iam'], type: ['user', 'change'] },
  ACCT_UNLOCK: { category: ['iam'], type: ['user', 'change'] },
  ADD_GROUP: { category: ['iam'], type: ['group', 'creation'] },
  DEL_GROUP: { category: ['iam'], type: ['group', 'deletion'] },
  GRP_MGMT: { category: ['iam'], type: ['group', 'change'] },
  USER_CMD: { category: ['process'], type: ['start'] },
  EXECVE: { category: ['process'], type: ['start'] },
  SERVICE_START: { category: ['process'], type: ['start'] },
  SERVICE_STOP: { category: ['process'], type: ['end'] },
  SYSTEM_BOOT: { category: ['host'], type: ['start'] },
  SYSTEM_SHUTDOWN: { category: ['host'], type: ['end'] },
  SOFTWARE_UPDATE: { category: ['package'], type: ['installation'] },
  KERN_MODULE: { category: ['driver'], type: ['info'] },
  CONFIG_CHANGE: { category: ['configuration'], type: ['change'] },
};
for (const [type, categorization] of Object.entries(CATEGORIES)) assertCategorization(`auditd ${type}`, categorization);

const SUCCESS = new Set(['success', 'yes', '1']);
const FAILURE = new Set(['failed', 'fail', 'failure', 'no', '0']);

/** One auditd record line. A RecordDecoder: the epoch stamp is UTC, so no context is needed. */
export function decodeAuditd(line: string): RecordResult {
  const match = RECORD.exec(line.endsWith('\r') ? line.slice(0, -1) : line);
  if (!match) return { ok: false, reason: 'not an auditd record (type=… msg=audit(…))' };
  const [, node, type, seconds, millis, sequence, body] = match;
  // Past year 275760 a Date is invalid and toISOString throws (found by the fuzz bench).
  const at = new Date(Number(seconds) * 1000 + Number(millis));
  if (Number.isNaN(at.getTime())) return { ok: false, reason: `auditd timestamp out of range: ${seconds}` };
  const data = parsePairs(body!, type!);
  const id = (key: string) => (data[key] !== undefined && !UNSET_IDS.has(data[key]) ? data[key] : undefined);
  const numeric = (value: string | undefined) => (value !== undefined && /^-?\d+$/.test(value) ? Number(value) : undefined);
  const name = (value: string | undefined) => (value !== undefined && !/^-?\d+$/.test(value) ? value : undefined);
  const uid = id('uid');
  const auid = id('auid');
  const result = data.res ?? data.success;
  const address = [data.addr, data.src].find((a) => a !== undefined && isIP(a) > 0);
  const args = type === 'EXECVE' ? execveArgs(data) : undefined;
  const categorization = CATEGORIES[type!];
  return {
    ok: true,
    fields: ecsFields({
      '@timestamp': at.toISOString(),
      'event.action': type!.toLowerCase(),
      'event.sequence': Number(sequence),
      'event.category': categorization && [...categorization.category],
      'event.type': categorization && [...categorization.type],
      'event.outcome': result === undefined ? undefined : SUCCESS.has(result) ? 'success' : FAILURE.has(result) ? 'failure' : 'unknown',
      'host.name': node,
      // The enriched log format writes names (uid=vagrant) where the raw one writes numbers.
      'user.name': data.acct ?? name(uid) ?? name(auid),
      'user.id': numeric(uid) === undefined ? undefined : uid,
      'user.audit.id': numeric(auid) === undefined ? undefined : auid,
      'user.audit.name': name(auid),
      'source.ip': address,
      'process.executable': data.exe,
      'process.name': data.comm,
      'process.pid': numeric(data.pid),
      'process.parent.pid': numeric(data.ppid),
      'process.exit_code': numeric(data.exit),
      'process.working_directory': data.cwd,
      'process.title': data.proctitle,
      'process.args': args,
      'process.command_line': data.cmd ?? args?.join(' '),
      'auditd.data': data,
    }),
  };
}

/** key=value pairs of the record, `msg='…'` opened up in place; the first occurrence of a key wins. */
function parsePairs(body: string, type: string, into: Record<string, string> = {}): Record<string, string> {
  for (const [, key, double, single, bare] of body.matchAll(PAIR)) {
    if (key === 'msg' && single !== undefined) {
      parsePairs(single, type, into);
      continue;
    }
    const raw = double ?? single ?? bare ?? '';
    if (EMPTY.has(raw) || key! in into) continue;
    const encoded = double === undefined && single === undefined && isHexField(key!, type) && HEX.test(raw);
    into[key!] = encoded ? unhex(raw, key === 'proctitle') : raw;
  }
  return into;
}

function isHexField(key: string, type: string): boolean {
  return HEX_KEYS.has(key) || (type === 'EXECVE' && /^a\d+$/.test(key));
}

/**
 * Hex → UTF-8 text, with control characters shown as ^X (as `cat -v` and Filebeat do) so a TTY record
 * cannot write escape sequences into a console. proctitle is argv joined by NUL: NUL becomes a space.
 */
function unhex(hex: string, isArgv: boolean): string {
  const text = Buffer.from(hex, 'hex').toString('utf8');
  // auditd encodes only values it had to; one that needed no encoding was a bare word that looks like hex.
  if (!NEEDS_ENCODING.test(text)) return hex;
  let shown = '';
  for (const c of text) {
    const code = c.charCodeAt(0);
    if (code === 0 && isArgv) shown += ' ';
    else if (code < 0x20) shown += `^${String.fromCharCode(code + 64)}`;
    else shown += code === 0x7f ? '^?' : c;
  }
  return shown;
}

function execveArgs(data: Record<string, string>): string[] | undefined {
  const args: string[] = [];
  for (let i = 0; data[`a${i}`] !== undefined; i++) args.push(data[`a${i}`]!);
  return args.length ? args : undefined;
}
