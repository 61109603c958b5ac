import { isIP } from 'node:net';
import {
  DEFAULT_MAX_STATEMENT_LENGTH, dbAuditFields, splitCsv, toIsoTimestamp, type DbAuditEvent, type DbAuditOptions,
} from './db-audit.js';
import { compileLogLinePrefix, LEVELS, SECONDARY_LEVELS, type CompiledPrefix, type PrefixValues } from './pg-log-prefix.js';
import type { OperationClass } from './sql-class.js';
import type { EcsFields, RecordContext, RecordDecoder, RecordResult } from './types.js';
import { CSV_JOIN, joinRecords, lineJoin, type JoinRule } from '../record-join.js';

/**
 * PostgreSQL server log records with pgaudit's `AUDIT: …` lines and, with `log_connections=on`, the
 * connection and failed-login lines, in stderr format (behind a `log_line_prefix`) or in csvlog.
 * Other well-formed log records (checkpoints, errors…) decode as plain `postgresql.log` events, so a
 * collector reading the whole server log dead-letters only what is truly unreadable; an ERROR, FATAL
 * or PANIC is a failure with its SQLSTATE (`error.code`) and the statement printed with it.
 * Messages are read in English: the server's `lc_messages` must be `C` or `en_*`.
 */

export interface PgauditOptions extends DbAuditOptions {
  /** The server's `log_line_prefix`; default Debian's. */
  logLinePrefix?: string;
}

/** What Debian's postgresql.conf sets; PostgreSQL's own default is `%m [%p] `. */
export const DEBIAN_LOG_LINE_PREFIX = '%m [%p] %q%u@%d ';

const LEVEL = new RegExp(`^(?:${LEVELS})$`);
// pgaudit's regression output and some forwarders carry no prefix: `NOTICE:  AUDIT: …` or just `AUDIT: …`.
const BARE_AUDIT = new RegExp(`^(?:(?<level>${LEVELS}):  )?(?<message>AUDIT: .*)$`, 's');
// csvlog's connection_from is `host:port` (IPv6 too, unbracketed), `[local]` for the socket.
const CONNECTION_FROM = /^(.*):(\d+)$/;
// A cheap test before the prefix regex: could this line be a DETAIL/STATEMENT… line of the record before?
const SECONDARY_HINT = /(?:DETAIL|HINT|QUERY|CONTEXT|LOCATION|STATEMENT): {2}/;
// With log_error_verbosity=verbose every message starts with its SQLSTATE (`42601: syntax error…`);
// SQLSTATEs hold a digit, which keeps pgaudit's `AUDIT: ` apart.
const VERBOSE_SQLSTATE = /^(?=[0-9A-Z]{0,4}\d)([0-9A-Z]{5}): /;
const FAILURE_LEVELS = new Set(['ERROR', 'FATAL', 'PANIC']);

/** One log record: its first line's prefix values, level and message, and what the lines after it said. */
interface LogRecord extends PrefixValues {
  level?: string;
  message: string;
  /** The statement the server printed with an error: STATEMENT (the client's) or QUERY (an internal one). */
  statement?: string;
}

/**
 * How stderr-format lines make records: a line led by a tab goes on with the message (the server adds
 * it), and DETAIL, HINT, CONTEXT, STATEMENT… lines belong to the message before them.
 */
export function pgStderrJoin(prefix: CompiledPrefix = compileLogLinePrefix(DEBIAN_LOG_LINE_PREFIX)): JoinRule {
  return lineJoin((line) => line.startsWith('\t') || (SECONDARY_HINT.test(line) && SECONDARY_LEVELS.has(prefix.parse(line)?.level ?? '')));
}

export function createPgauditDecoder(options: PgauditOptions = {}): RecordDecoder {
  return createPgauditFormat(options).decode;
}

/** The stderr-format decoder and its join rule, sharing one compiled prefix. */
export function createPgauditFormat(options: PgauditOptions = {}): { decode: RecordDecoder; join: JoinRule } {
  const prefix = compileLogLinePrefix(options.logLinePrefix ?? DEBIAN_LOG_LINE_PREFIX);
  return { decode: pgauditDecoder(prefix, options.maxStatementLength ?? DEFAULT_MAX_STATEMENT_LENGTH), join: pgStderrJoin(prefix) };
}

function pgauditDecoder(prefix: CompiledPrefix, maxStatementLength: number): RecordDecoder {
  return (raw, context) => {
    // A file with CRLF line ends: each joined line keeps its CR.
    const record = stderrRecord(raw.includes('\r') ? raw.replace(/\r(?=\n|$)/g, '') : raw, prefix);
    if (!record) return { ok: false, reason: `not a PostgreSQL log line with log_line_prefix '${prefix.prefix}' nor a pgaudit AUDIT line` };
    return decodeRecord(record, context, maxStatementLength);
  };
}

/**
 * A stderr record's lines: the first has the prefix; tab-led lines go on with the part before them
 * (without the tab); prefixed DETAIL/STATEMENT… lines are parts of their own. A line that is neither
 * (a record joined by another reader, tabs already gone) goes on with the part before it.
 */
function stderrRecord(text: string, prefix: CompiledPrefix): LogRecord | undefined {
  const newline = text.indexOf('\n');
  if (newline < 0) return prefix.parse(text) ?? bareAudit(text);
  const lines = text.split('\n');
  const first = prefix.parse(lines[0]!) ?? bareAudit(lines[0]!);
  if (!first) return undefined;
  const parts: { level?: string; text: string }[] = [{ level: first.level, text: first.message }];
  for (const line of lines.slice(1)) {
    const secondary = !line.startsWith('\t') && SECONDARY_HINT.test(line) ? prefix.parse(line) : undefined;
    if (secondary && SECONDARY_LEVELS.has(secondary.level)) parts.push({ level: secondary.level, text: secondary.message });
    else parts[parts.length - 1]!.text += `\n${line.startsWith('\t') ? line.slice(1) : line}`;
  }
  const statement = parts.find((p) => p.level === 'STATEMENT') ?? parts.find((p) => p.level === 'QUERY');
  return { ...first, message: parts[0]!.text, ...(statement ? { statement: statement.text } : {}) };
}

function bareAudit(line: string): LogRecord | undefined {
  const groups = BARE_AUDIT.exec(line)?.groups;
  return groups ? { message: groups.message!, ...(groups.level ? { level: groups.level } : {}) } : undefined;
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
    const [time, user, database, pid, connectionFrom, session, lineNumber, commandTag, sessionStart, vxid, xid, level, sqlstate, message] = fields;
    if (!LEVEL.test(level!)) return { ok: false, reason: `not a PostgreSQL csvlog record: unknown severity ${level}` };
    const client = CONNECTION_FROM.exec(connectionFrom!);
    // `query` (column 20) is the client's statement behind an error; `internal_query` (17) one run inside it.
    const statement = fields[19] || fields[16];
    const record: LogRecord = {
      time, user, database, pid, session, lineNumber, commandTag, sessionStart, vxid, xid, level, sqlstate, message: message!,
      application: fields[22], backendType: fields[23], leaderPid: fields[24], queryId: fields[25],
      client: client ? client[1] : connectionFrom, clientPort: client?.[2], ...(statement ? { statement } : {}),
    };
    return decodeRecord(record, context, maxStatementLength);
  };
}

export const decodePgauditCsv: RecordDecoder = createPgauditCsvDecoder();

/**
 * Joins the physical lines of a PostgreSQL log file into records: in stderr format a message's next
 * lines start with a tab (the server adds it) and its DETAIL/STATEMENT lines follow it; in csvlog a
 * quoted field may hold newlines. Lines are kept as written.
 */
export function postgresLogRecords(lines: Iterable<string>, format: 'stderr' | 'csvlog' = 'stderr', logLinePrefix?: string): Generator<string> {
  if (format === 'csvlog') return joinRecords(lines, CSV_JOIN);
  return joinRecords(lines, pgStderrJoin(logLinePrefix === undefined ? undefined : compileLogLinePrefix(logLinePrefix)));
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

function decodeRecord(record: LogRecord, context: RecordContext, maxStatementLength: number): RecordResult {
  // Bare AUDIT lines carry no time; the time of reading stands in.
  const timestamp = record.time === undefined ? context.now.toISOString() : pgTimestamp(record.time, context.utcOffset);
  if (!timestamp) return { ok: false, reason: `PostgreSQL log time is not a date: ${record.time}` };
  const verbose = VERBOSE_SQLSTATE.exec(record.message);
  const message = verbose ? record.message.slice(verbose[0].length) : record.message;
  const sqlstate = record.sqlstate || verbose?.[1];
  const failed = record.level !== undefined && FAILURE_LEVELS.has(record.level);
  const user = known(record.user);
  const database = known(record.database);
  const client = known(record.client);
  const clientPort = record.clientPort ? Number(record.clientPort) : undefined;
  let interpreted: Interpreted | string | undefined;
  if (message.startsWith('AUDIT: ')) interpreted = auditPayload(message.slice(7), maxStatementLength);
  else interpreted = connectionMessage(message, record.level);
  if (typeof interpreted === 'string') return { ok: false, reason: interpreted };
  const process = record.pid ? { process: { pid: Number(record.pid) } } : {};
  const log = record.level ? { log: { level: record.level.toLowerCase() } } : {};
  const prefixDb = prefixDbFields(record, sqlstate, context.utcOffset);
  // An ERROR or FATAL says what failed by its SQLSTATE (PostgreSQL docs, Appendix A).
  const error = failed ? { error: { message, ...(sqlstate ? { code: sqlstate } : {}) } } : {};
  if (!interpreted) {
    const statement = record.statement;
    const cut = statement !== undefined && statement.length > maxStatementLength;
    const db = {
      ...(user ? { user } : {}),
      ...(database ? { name: database } : {}),
      ...(statement !== undefined ? { statement: cut ? statement.slice(0, maxStatementLength) : statement } : {}),
      ...(cut ? { statement_truncated: true } : {}),
      ...prefixDb,
    };
    const remote = client && client !== '[local]' ? client : undefined;
    const fields: EcsFields = {
      '@timestamp': timestamp,
      message,
      event: {
        kind: 'event', module: 'postgresql', dataset: 'postgresql.log',
        ...(failed ? { category: ['database'], type: ['error'], outcome: 'failure' } : {}),
      },
      ...(user ? { user: { name: user } } : {}),
      ...(remote ? { source: { ...(isIP(remote) ? { ip: remote } : { address: remote }), ...(clientPort ? { port: clientPort } : {}) } } : {}),
      ...(Object.keys(db).length ? { db: { system: 'postgresql', ...db } } : {}),
      ...process,
      ...log,
      ...error,
    };
    return { ok: true, fields };
  }
  const event = { user, database, client, clientPort, ...definedOnly(interpreted), dataset: 'postgresql.pgaudit' as const, timestamp };
  event.extra = { ...event.extra, ...prefixDb };
  return { ok: true, fields: { ...dbAuditFields(event, maxStatementLength), ...process, ...log, ...error } };
}

/** The prefix's (or csvlog's) session values, as `db.*` fields; empty and zero values are left out. */
function prefixDbFields(record: LogRecord, sqlstate: string | undefined, utcOffset: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const application = known(record.application);
  if (application) out.application = application;
  if (record.session) out.session_id = record.session;
  if (record.lineNumber && DIGITS.test(record.lineNumber)) out.session_line_number = Number(record.lineNumber);
  const sessionStart = record.sessionStart && pgTimestamp(record.sessionStart, utcOffset);
  if (sessionStart) out.session_start = sessionStart;
  if (record.vxid) out.virtual_transaction_id = record.vxid;
  if (record.xid && record.xid !== '0') out.transaction_id = record.xid;
  if (record.commandTag) out.command_tag = record.commandTag;
  if (record.backendType) out.backend_type = record.backendType;
  if (record.queryId && record.queryId !== '0') out.query_id = record.queryId;
  if (record.leaderPid && DIGITS.test(record.leaderPid)) out.leader_pid = Number(record.leaderPid);
  if (sqlstate && sqlstate !== '00000') out.sqlstate = sqlstate;
  return out;
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
