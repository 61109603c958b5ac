import {
  DEFAULT_MAX_STATEMENT_LENGTH, dbAuditFields, splitCsv, toIsoTimestamp, type DbAuditEvent, type DbAuditOptions,
} from './db-audit.js';
import type { OperationClass } from './sql-class.js';
import type { EcsFields, RecordContext, RecordDecoder, RecordResult } from './types.js';

/**
 * PostgreSQL server log records with pgaudit's `AUDIT: …` lines and, with `log_connections=on`, the
 * connection and failed-login lines, in stderr format (behind a `log_line_prefix`) or in csvlog.
 * Other well-formed log records (checkpoints, errors…) decode as plain `postgresql.log` events, so a
 * collector reading the whole server log dead-letters only what is truly unreadable.
 * Messages are read in English: the server's `lc_messages` must be `C` or `en_*`.
 */

export interface PgauditOptions extends DbAuditOptions {
  /** The server's `log_line_prefix`; default Debian's. */
  logLinePrefix?: string;
}

/** What Debian's postgresql.conf sets; PostgreSQL's own default is `%m [%p] `. */
export const DEBIAN_LOG_LINE_PREFIX = '%m [%p] %q%u@%d ';

const LEVELS = 'DEBUG[1-5]|LOG|INFO|NOTICE|WARNING|ERROR|FATAL|PANIC|DETAIL|HINT|QUERY|CONTEXT|LOCATION|STATEMENT';
const LEVEL = new RegExp(`^(?:${LEVELS})$`);
// pgaudit's regression output and some forwarders carry no prefix: `NOTICE:  AUDIT: …` or just `AUDIT: …`.
const BARE_AUDIT = new RegExp(`^(?:(?<level>${LEVELS}):  )?(?<message>AUDIT: .*)$`, 's');

const TIME = '\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}(?:\\.\\d+)?(?: [A-Za-z0-9+:_/-]+)?';
// Names are at most 63 bytes (NAMEDATALEN) and hosts 255: bounded, a line that does not match fails fast.
const NAME = '[^\\n]{0,63}?';
const HOST = '\\S{0,270}?';
// %r prints `host(port)`; csvlog's connection_from is `host:port` (IPv6 too, unbracketed), `[local]` for the socket.
const REMOTE_WITH_PORT = /^(.*)\((\d+)\)$/;
const CONNECTION_FROM = /^(.*):(\d+)$/;
/** log_line_prefix escapes → what they print; the named ones are read into the event. */
const PREFIX_ESCAPES: Readonly<Record<string, { group?: keyof PrefixGroups; pattern: string }>> = {
  m: { group: 'time', pattern: TIME }, t: { group: 'time', pattern: TIME }, n: { group: 'time', pattern: '\\d+(?:\\.\\d+)?' },
  p: { group: 'pid', pattern: '\\d+' }, u: { group: 'user', pattern: NAME }, d: { group: 'database', pattern: NAME },
  r: { group: 'client', pattern: HOST }, h: { group: 'client', pattern: HOST }, a: { group: 'application', pattern: NAME },
  c: { pattern: '[0-9a-f]+\\.[0-9a-f]+' }, l: { pattern: '\\d+' }, s: { pattern: TIME }, v: { pattern: '[0-9/]*' },
  x: { pattern: '\\d+' }, e: { pattern: '[0-9A-Z]{5}' }, i: { pattern: NAME }, b: { pattern: NAME },
  Q: { pattern: '-?\\d+' }, P: { pattern: '\\d*' },
};

interface PrefixGroups {
  time?: string;
  pid?: string;
  user?: string;
  database?: string;
  client?: string;
  application?: string;
}

interface LogRecord extends PrefixGroups {
  level?: string;
  message: string;
}

/** Compiles a `log_line_prefix` into a regex for whole records: prefix, `LEVEL:  `, message. */
export function compileLogLinePrefix(prefix: string): RegExp {
  // `%q` ends the prefix for processes without a session (postmaster, checkpointer…).
  const [head = '', tail] = prefix.split(/%q(.*)/s);
  const used = new Set<string>();
  const optional = tail === undefined ? '' : `(?:${prefixPattern(tail, used)})?`;
  return new RegExp(`^${prefixPattern(head, used)}${optional}(?<level>${LEVELS}):  (?<message>.*)$`, 's');
}

function prefixPattern(prefix: string, used: Set<string>): string {
  let out = '';
  for (const [, padding, escape, literal] of prefix.matchAll(/%(-?\d+)?(.)|([^%]+|%$)/gs)) {
    if (literal !== undefined) out += literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    else if (escape === '%') out += '%';
    else {
      const spec = PREFIX_ESCAPES[escape!];
      if (!spec) continue; // PostgreSQL prints nothing for an unknown escape.
      const name = spec.group && !used.has(spec.group) ? spec.group : undefined;
      if (name) used.add(name);
      const body = name ? `(?<${name}>${spec.pattern})` : `(?:${spec.pattern})`;
      out += padding ? ` *${body} *` : body;
    }
  }
  return out;
}

export function createPgauditDecoder(options: PgauditOptions = {}): RecordDecoder {
  const maxStatementLength = options.maxStatementLength ?? DEFAULT_MAX_STATEMENT_LENGTH;
  const prefix = options.logLinePrefix ?? DEBIAN_LOG_LINE_PREFIX;
  const pattern = compileLogLinePrefix(prefix);
  return (raw, context) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const match = pattern.exec(line) ?? BARE_AUDIT.exec(line);
    if (!match) return { ok: false, reason: `not a PostgreSQL log line with log_line_prefix '${prefix}' nor a pgaudit AUDIT line` };
    const groups = match.groups as unknown as LogRecord;
    const client = groups.client && REMOTE_WITH_PORT.exec(groups.client);
    return decodeRecord({ ...groups, client: client ? client[1] : groups.client }, client ? Number(client[2]) : undefined, context, maxStatementLength);
  };
}

/** Decodes stderr-format records written with Debian's `log_line_prefix`. */
export const decodePgaudit: RecordDecoder = createPgauditDecoder();

/** PostgreSQL csvlog (versions 12–17: 23 to 26 columns); frame multi-line records with `postgresLogRecords`. */
export function createPgauditCsvDecoder(options: DbAuditOptions = {}): RecordDecoder {
  const maxStatementLength = options.maxStatementLength ?? DEFAULT_MAX_STATEMENT_LENGTH;
  return (raw, context) => {
    const { fields, unterminated } = splitCsv(raw.endsWith('\r') ? raw.slice(0, -1) : raw);
    if (unterminated) return { ok: false, reason: 'csvlog record ends inside a quoted field: its next lines are missing' };
    if (fields.length < 23) return { ok: false, reason: `not a PostgreSQL csvlog record: ${fields.length} columns, expected 23 to 26` };
    const [time, user, database, pid, connectionFrom, , , , , , , level, , message] = fields;
    if (!LEVEL.test(level!)) return { ok: false, reason: `not a PostgreSQL csvlog record: unknown severity ${level}` };
    const client = CONNECTION_FROM.exec(connectionFrom!);
    return decodeRecord(
      { time, user, database, pid, application: fields[22], level, message: message!, client: client ? client[1] : connectionFrom },
      client ? Number(client[2]) : undefined, context, maxStatementLength,
    );
  };
}

export const decodePgauditCsv: RecordDecoder = createPgauditCsvDecoder();

/**
 * Joins the physical lines of a PostgreSQL log file into records: in stderr format a message's next
 * lines start with a tab (the server adds it); in csvlog a quoted field may hold newlines.
 */
export function* postgresLogRecords(lines: Iterable<string>, format: 'stderr' | 'csvlog' = 'stderr'): Generator<string> {
  let record: string | undefined;
  let inQuotes = false;
  for (const line of lines) {
    const continues = record !== undefined && (format === 'stderr' ? line.startsWith('\t') : inQuotes);
    if (continues) record += `\n${format === 'stderr' ? line.slice(1) : line}`;
    else {
      if (record !== undefined) yield record;
      record = line;
      inQuotes = false;
    }
    if (format === 'csvlog' && (line.split('"').length - 1) % 2 === 1) inQuotes = !inQuotes;
  }
  if (record !== undefined) yield record;
}

const AUDIT_CLASSES: Readonly<Record<string, OperationClass>> = {
  READ: 'READ', WRITE: 'WRITE', FUNCTION: 'FUNCTION', ROLE: 'ROLE', DDL: 'DDL', MISC: 'MISC', MISC_SET: 'MISC',
};
const NOT_LOGGED = /^<(?:not logged|previously logged|none)>$/;
const DIGITS = /^\d+$/;
const CONNECTION_RECEIVED = /^connection received: host=(\S+)(?: port=(\d+))?/;
const CONNECTION_AUTHORIZED = /^(?:replication )?connection authorized: user=(\S+)(?: database=(\S+))?/;
const DISCONNECTION = /^disconnection: session time: \S+ user=(\S*) database=(\S*) host=(\S+)(?: port=(\d+))?/;
const AUTHENTICATION_FAILED = /^(\S+) authentication failed for user "(.*)"$/s;
const ROLE_MISSING = /^role "(.*)" does not exist$/s;
const DATABASE_MISSING = /^database "(.*)" does not exist$/s;
const NO_HBA_ENTRY = /^no pg_hba\.conf entry for (?:replication connection from )?host "([^"]*)", user "([^"]*)"(?:, database "([^"]*)")?/;

type Interpreted = Omit<DbAuditEvent, 'dataset' | 'timestamp'>;

function decodeRecord(record: LogRecord, clientPort: number | undefined, context: RecordContext, maxStatementLength: number): RecordResult {
  // Bare AUDIT lines carry no time; the time of reading stands in.
  const timestamp = record.time === undefined ? context.now.toISOString() : pgTimestamp(record.time, context.utcOffset);
  if (!timestamp) return { ok: false, reason: `PostgreSQL log time is not a date: ${record.time}` };
  const user = known(record.user);
  const database = known(record.database);
  const session = { user, database, client: known(record.client), clientPort };
  let interpreted: Interpreted | string | undefined;
  if (record.message.startsWith('AUDIT: ')) interpreted = auditPayload(record.message.slice(7), maxStatementLength);
  else interpreted = connectionMessage(record.message, record.level);
  if (typeof interpreted === 'string') return { ok: false, reason: interpreted };
  const process = record.pid ? { process: { pid: Number(record.pid) } } : {};
  const log = record.level ? { log: { level: record.level.toLowerCase() } } : {};
  if (!interpreted) {
    const fields: EcsFields = {
      '@timestamp': timestamp,
      message: record.message,
      event: { kind: 'event', module: 'postgresql', dataset: 'postgresql.log' },
      ...(user ? { user: { name: user } } : {}),
      ...(user || database ? { db: { system: 'postgresql', ...(user ? { user } : {}), ...(database ? { name: database } : {}) } } : {}),
      ...process,
      ...log,
    };
    return { ok: true, fields };
  }
  const event = { ...session, ...definedOnly(interpreted), dataset: 'postgresql.pgaudit' as const, timestamp };
  const application = known(record.application);
  if (application) event.extra = { ...event.extra, application };
  return { ok: true, fields: { ...dbAuditFields(event, maxStatementLength), ...process, ...log } };
}

/** `SESSION,1,1,READ,SELECT,TABLE,public.t,"select * from t",<not logged>[,rows]` */
function auditPayload(payload: string, maxStatementLength: number): Interpreted | string {
  const { fields, unterminated } = splitCsv(payload);
  const [auditType, statementId, substatementId, auditClass, command, objectType, objectName, statement, parameter, rows] = fields;
  if (auditType !== 'SESSION' && auditType !== 'OBJECT') return `pgaudit audit type is not SESSION or OBJECT: ${auditType}`;
  if (!DIGITS.test(statementId ?? '') || !DIGITS.test(substatementId ?? '')) {
    return `pgaudit statement ids are not numbers: ${statementId}, ${substatementId}`;
  }
  const operationClass = AUDIT_CLASSES[auditClass!];
  if (!operationClass) return `unknown pgaudit class: ${auditClass}`;
  if (statement === undefined) return 'pgaudit line ends before its statement field';
  const logged = (value: string | undefined) => value !== undefined && !NOT_LOGGED.test(value);
  return {
    action: 'db-query',
    operationClass,
    // pgaudit logs a statement as it starts; whether it then failed is not in the line.
    outcome: 'unknown',
    statement: logged(statement) ? statement : undefined,
    // A multi-line statement read line by line: only its first line is here.
    statementIncomplete: unterminated && fields.length === 8,
    objects: objectName ? [objectName] : undefined,
    extra: {
      audit_type: auditType,
      statement_id: Number(statementId),
      substatement_id: Number(substatementId),
      command,
      ...(objectType ? { object_type: objectType } : {}),
      ...(logged(parameter) ? { parameters: parameter!.slice(0, maxStatementLength) } : {}),
      ...(rows !== undefined && DIGITS.test(rows) ? { rows: Number(rows) } : {}),
    },
  };
}

/** Connection lines (`log_connections`, `log_disconnections`) and the FATALs of failed logins. */
function connectionMessage(message: string, level: string | undefined): Interpreted | undefined {
  let m: RegExpExecArray | null;
  if ((m = CONNECTION_RECEIVED.exec(message))) {
    return { action: 'db-connection-received', operationClass: 'CONNECT', outcome: 'unknown', client: m[1], clientPort: port(m[2]) };
  }
  if ((m = CONNECTION_AUTHORIZED.exec(message))) {
    return { action: 'db-connect', operationClass: 'CONNECT', outcome: 'success', user: m[1], database: m[2] };
  }
  if ((m = DISCONNECTION.exec(message))) {
    return {
      action: 'db-disconnect', operationClass: 'CONNECT', outcome: 'success',
      user: m[1] || undefined, database: m[2] || undefined, client: m[3], clientPort: port(m[4]),
    };
  }
  // The same texts at ERROR level are about statements (GRANT to a missing role), not logins.
  if (level !== 'FATAL') return undefined;
  const failed = { action: 'db-failed-login', operationClass: 'CONNECT', outcome: 'failure' } as const;
  if ((m = AUTHENTICATION_FAILED.exec(message))) return { ...failed, user: m[2], extra: { auth_method: m[1] } };
  if ((m = ROLE_MISSING.exec(message))) return { ...failed, user: m[1] };
  if ((m = DATABASE_MISSING.exec(message))) return { ...failed, database: m[1] };
  if ((m = NO_HBA_ENTRY.exec(message))) return { ...failed, client: m[1], user: m[2], database: m[3] };
  return undefined;
}

const UTC_ZONES = new Set(['UTC', 'GMT', 'UCT', 'Z', 'Etc/UTC']);

/**
 * `%m`/`%t` print the zone as log_timezone's abbreviation. Only UTC and numeric offsets are
 * unambiguous (CST is China or US Central), so other zones take the source's configured offset.
 */
function pgTimestamp(value: string, utcOffset: string): string | undefined {
  if (/^\d+(?:\.\d+)?$/.test(value)) return new Date(Number(value) * 1000).toISOString(); // %n: epoch seconds
  const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?)(?: (\S+))?$/.exec(value);
  if (!m) return undefined;
  const zone = m[3];
  const numeric = zone && /^([+-]\d{2})(?::?(\d{2}))?$/.exec(zone);
  const offset = zone && UTC_ZONES.has(zone) ? 'Z' : numeric ? `${numeric[1]}:${numeric[2] ?? '00'}` : utcOffset;
  return toIsoTimestamp(m[1]!, m[2]!, offset);
}

/** PostgreSQL writes `[unknown]` for a user or database not known yet, and `[local]` for the socket. */
function known(value: string | undefined): string | undefined {
  return value && value !== '[unknown]' ? value : undefined;
}

function port(value: string | undefined): number | undefined {
  return value ? Number(value) : undefined;
}

/** Values from the message win over the prefix's, but only where the message has them. */
function definedOnly(event: Interpreted): Interpreted {
  return Object.fromEntries(Object.entries(event).filter(([, v]) => v !== undefined)) as Interpreted;
}
