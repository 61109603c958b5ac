/**
 * nginx and Apache access logs (common and combined formats, and nginx's habit of putting an
 * X-Forwarded-For list in front) and their error logs, as Filebeat's nginx and apache modules map
 * them to ECS. A request line that is not "METHOD target HTTP/x" (`"-"`, `""`, TLS bytes sent to a
 * plain-HTTP port) keeps status and bytes but no method or URL.
 */
import { isIP } from 'node:net';
import { ecsFields } from './ecs.js';
import type { EcsFields, MessageDecoder, RecordContext, RecordResult } from './types.js';

type Flat = Record<string, unknown>;

// Quoted fields: nginx escapes `"` as \x22, Apache as \" — so a quoted field is "anything but a
// quote, or a backslash pair".
const QUOTED = String.raw`"((?:[^"\\]|\\.)*)"`;
// The client part is lazy: nginx may log "xff-list remote_addr" before ident and user.
const ACCESS = new RegExp(String.raw`^(.+?) (\S+) (\S+) \[([^\]]+)\] ${QUOTED} (\d{3}) (\d+|-)(.*)$`);
const COMBINED_TAIL = new RegExp(String.raw`^ ${QUOTED} ${QUOTED}`);
// What nginx formats add after the combined fields ("$http_x_forwarded_for", rt=0.003…).
const EXTRA_FIELDS = new RegExp(String.raw`^(?:\s+(?:"(?:[^"\\]|\\.)*"|[^\s"]+))*\s*$`);
const REQUEST = /^([A-Za-z]+) (\S+)(?: HTTP\/(\d+(?:\.\d+)?))?$/;
const HTTP_DATE = /^(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}:\d{2}:\d{2})(\.\d+)? ([+-]\d{2})(\d{2})$/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** One access-log line (its timestamp carries its own zone, so no context is needed). */
export function decodeAccessLog(line: string): RecordResult {
  const match = ACCESS.exec(line.endsWith('\r') ? line.slice(0, -1) : line);
  if (!match) return { ok: false, reason: 'not an access-log line (common or combined format)' };
  const [, clients, , user, time, request, status, bytes, tail] = match;
  const timestamp = parseHttpDate(time!);
  if (!timestamp) return { ok: false, reason: `access-log time is not a date: ${time}` };
  const statusCode = Number(status);
  const flat: Flat = {
    '@timestamp': timestamp,
    'event.category': ['web'],
    'event.type': ['access'],
    'event.outcome': statusCode >= 400 ? 'failure' : 'success',
    'http.response.status_code': statusCode,
    'http.response.body.bytes': bytes === '-' ? undefined : Number(bytes),
    'user.name': user === '-' ? undefined : user,
    ...sourceFields(clients!),
    ...requestFields(request!),
  };
  const combined = COMBINED_TAIL.exec(tail!);
  if (combined) {
    flat['http.request.referrer'] = combined[1] === '-' ? undefined : combined[1];
    flat['user_agent.original'] = combined[2] === '-' ? undefined : combined[2];
  }
  // A cut-off line (log rotated mid-write, an unterminated quote) keeps what was read, and says so.
  if (!EXTRA_FIELDS.test(combined ? tail!.slice(combined[0].length) : tail!)) {
    flat['error.message'] = 'access log: unreadable fields after the byte count (unterminated quote?)';
  }
  return { ok: true, fields: ecsFields(flat) };
}

// nginx logs "$http_x_forwarded_for $remote_addr" in some setups. As Filebeat does, the client is
// the first public address in the list, else the first entry; every IP in it is related.
function sourceFields(clients: string): Flat {
  const addresses = clients.split(/[\s,"]+/).filter(Boolean);
  const ips = addresses.filter((a) => isIP(a));
  const client = ips.find((ip) => !isPrivate(ip)) ?? addresses[0];
  return {
    'source.address': client,
    'source.ip': client && isIP(client) ? client : undefined,
    'related.ip': ips.length ? [...new Set(ips)] : undefined,
  };
}

function isPrivate(ip: string): boolean {
  if (isIP(ip) === 4) {
    const first = ip.indexOf('.');
    const a = Number(ip.slice(0, first));
    const b = Number(ip.slice(first + 1, ip.indexOf('.', first + 1)));
    return a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254);
  }
  const v6 = ip.toLowerCase();
  return v6 === '::1' || /^f[cd]/.test(v6) || /^fe[89ab]/.test(v6);
}

function requestFields(request: string): Flat {
  const match = REQUEST.exec(request);
  if (!match) return {};
  const [, method, target, version] = match;
  return { 'http.request.method': method, 'http.version': version, ...urlFields(target!) };
}

function urlFields(target: string): Flat {
  // Proxies and scanners send absolute URLs ("GET http://host/path"); CONNECT sends host:port.
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) {
    try {
      const url = new URL(target);
      return {
        'url.original': target,
        'url.scheme': url.protocol.slice(0, -1),
        'url.domain': url.hostname,
        'url.port': url.port ? Number(url.port) : undefined,
        'url.path': url.pathname,
        'url.query': url.search.slice(1),
      };
    } catch {
      return { 'url.original': target };
    }
  }
  if (!target.startsWith('/')) return { 'url.original': target };
  const q = target.indexOf('?');
  return q < 0
    ? { 'url.original': target, 'url.path': target }
    : { 'url.original': target, 'url.path': target.slice(0, q), 'url.query': target.slice(q + 1) };
}

function parseHttpDate(time: string): string | undefined {
  const m = HTTP_DATE.exec(time);
  const month = m ? MONTHS.indexOf(m[2]!) : -1;
  if (!m || month < 0) return undefined;
  const hours = Number(m[4]!.slice(0, 2));
  const minutes = Number(m[4]!.slice(3, 5));
  const seconds = Number(m[4]!.slice(6, 8));
  const fraction = (m[5] ?? '').slice(0, 4);
  if (hours > 23 || minutes > 59 || seconds > 59) {
    return isoOrUndefined(`${m[3]}-${String(month + 1).padStart(2, '0')}-${m[1]}T${m[4]}${fraction}${m[6]}:${m[7]}`);
  }
  // Midnight of the day and zone is parsed once; the time of day is added (collect benchmark).
  const start = dayStart(`${m[3]}-${String(month + 1).padStart(2, '0')}-${m[1]}T00:00:00${m[6]}:${m[7]}`);
  if (Number.isNaN(start)) return undefined;
  const millis = fraction ? Number(fraction.slice(1).padEnd(3, '0')) : 0;
  return new Date(start + ((hours * 60 + minutes) * 60 + seconds) * 1000 + millis).toISOString();
}

const DAY_STARTS = new Map<string, number>();
function dayStart(midnight: string): number {
  let ms = DAY_STARTS.get(midnight);
  if (ms === undefined) {
    ms = Date.parse(midnight);
    if (DAY_STARTS.size >= 4096) DAY_STARTS.clear();
    DAY_STARTS.set(midnight, ms);
  }
  return ms;
}

function isoOrUndefined(text: string): string | undefined {
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

// Error logs. Apache 2.2: "[Thu Jun 09 06:07:04 2005] [notice] [client 1.2.3.4] text"; Apache 2.4:
// "[Wed Oct 11 14:32:52.123456 2017] [core:error] [pid 35708:tid 4328636416] [client 1.2.3.4:5678] text";
// nginx: "2026/11/26 10:00:00 [error] 1234#0: *5 text, client: 1.2.3.4, server: …, request: "GET / HTTP/1.1"".
// The time is optional because the same messages also arrive through syslog, which carries it.
const APACHE_ERROR = /^(?:\[(?:[A-Z][a-z]{2}) ([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{2}:\d{2}:\d{2})(\.\d+)? (\d{4})\] )?\[(?:([^\]:]+):)?([a-z]+\d?)\](?: \[pid (\d+)(?::tid (\d+))?\])?(?: \[client ([^\]]+)\])? ?(.*)$/;
const NGINX_ERROR = /^(?:(\d{4})\/(\d{2})\/(\d{2}) (\d{2}:\d{2}:\d{2}) )?\[([a-z]+)\] (\d+)#(\d+): (?:\*(\d+) )?(.*)$/;
const NGINX_CONTEXT = /, (client|server|request|host|upstream|referrer): (?:"((?:[^"\\]|\\.)*)"|([^,]*))/g;
const ERROR_LEVELS = new Set(['emerg', 'alert', 'crit', 'error', 'warn']);

interface ParsedError {
  flat: Flat;
  /** Local time without zone, `YYYY-MM-DDTHH:MM:SS(.mmm)`; absent when the line had none. */
  localTime?: string;
}

/** One Apache or nginx error-log line; its time has no zone, so `context.utcOffset` supplies it. */
export function decodeWebErrorLog(line: string, context: RecordContext): RecordResult {
  const parsed = parseErrorLog(line.endsWith('\r') ? line.slice(0, -1) : line);
  if (!parsed) return { ok: false, reason: 'not an Apache or nginx error-log line' };
  const timestamp = parsed.localTime && isoOrUndefined(`${parsed.localTime}${context.utcOffset}`);
  if (!timestamp) return { ok: false, reason: 'error-log line has no valid time' };
  return { ok: true, fields: ecsFields({ '@timestamp': timestamp, ...parsed.flat }) };
}

// nginx first: its "[level] pid#tid:" is the more specific shape when the time is absent.
function parseErrorLog(line: string): ParsedError | undefined {
  return parseNginxError(line) ?? parseApacheError(line);
}

function parseApacheError(line: string): ParsedError | undefined {
  const match = APACHE_ERROR.exec(line);
  if (!match) return undefined;
  const [, mon, day, time, fraction, year, module, level, pid, tid, client, message] = match;
  const month = mon ? MONTHS.indexOf(mon) : -1;
  return {
    localTime: month < 0 ? undefined
      : `${year}-${String(month + 1).padStart(2, '0')}-${day!.padStart(2, '0')}T${time}${(fraction ?? '').slice(0, 4)}`,
    flat: {
      ...errorBase(level!, message!),
      'apache.error.module': module,
      'process.pid': pid ? Number(pid) : undefined,
      'process.thread.id': tid ? Number(tid) : undefined,
      ...(client ? clientFields(client) : {}),
    },
  };
}

function parseNginxError(line: string): ParsedError | undefined {
  const match = NGINX_ERROR.exec(line);
  if (!match) return undefined;
  const [, year, month, day, time, level, pid, tid, connection, message] = match;
  const flat: Flat = {
    ...errorBase(level!, message!),
    'process.pid': Number(pid),
    'process.thread.id': Number(tid),
    'nginx.error.connection_id': connection ? Number(connection) : undefined,
  };
  for (const [, key, quoted, plain] of message!.matchAll(NGINX_CONTEXT)) {
    const value = quoted ?? plain!;
    if (key === 'client') Object.assign(flat, clientFields(value));
    else if (key === 'request') Object.assign(flat, requestFields(value));
    else if (key === 'host') flat['url.domain'] = value;
    else if (key === 'referrer') flat['http.request.referrer'] = value;
  }
  return { flat, localTime: year ? `${year}-${month}-${day}T${time}` : undefined };
}

function errorBase(level: string, message: string): Flat {
  return {
    message,
    'log.level': level,
    'event.category': ['web'],
    // As Filebeat: warn and worse are errors, the rest information.
    'event.type': [ERROR_LEVELS.has(level) ? 'error' : 'info'],
  };
}

/** "1.2.3.4", "1.2.3.4:5678", "::1", a host name. */
function clientFields(client: string): Flat {
  if (isIP(client)) return { 'source.ip': client };
  const withPort = /^\[?(.*?)\]?:(\d+)$/.exec(client);
  if (withPort && isIP(withPort[1]!)) return { 'source.ip': withPort[1], 'source.port': Number(withPort[2]) };
  return { 'source.domain': client };
}

/**
 * nginx, Apache httpd logging through syslog: the message is an access or error line. Its time is
 * left out: the syslog header already dates the event.
 */
export const webMessages: MessageDecoder = {
  name: 'web',
  programs: ['nginx', 'apache', 'apache2', 'httpd'],
  decode({ message }): EcsFields | undefined {
    const access = decodeAccessLog(message);
    if (access.ok) {
      const { '@timestamp': _time, ...fields } = access.fields;
      return fields;
    }
    const error = parseErrorLog(message);
    return error ? ecsFields(error.flat) : undefined;
  },
};
