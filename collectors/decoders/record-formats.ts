import { decodeAccessLog, decodeWebErrorLog } from './access-log.js';
import { createAppLogFormat } from './app-log.js';
import { decodeAuditd } from './auditd.js';
import { createMariadbAuditDecoder } from './mariadb-audit.js';
import { createMysqlJsonAuditDecoder } from './mysql-json-audit.js';
import { createPgauditCsvDecoder, createPgauditFormat } from './pgaudit.js';
import { decodeSuricataEve } from './suricata-eve.js';
import type { RecordDecoder } from './types.js';
import { decodeWindowsEvent } from './windows-event.js';
import { CSV_JOIN, lineJoin, type JoinRule } from '../record-join.js';

/** Per-source options of the formats that take any (collect.files[] / collect.http.sources[]). */
export interface RecordFormatOptions {
  /** pgaudit: the server's `log_line_prefix`. */
  logLinePrefix?: string;
  /** app-log: a regex with named groups for a record's first line. */
  pattern?: string;
}

export interface RecordFormat {
  decode: RecordDecoder;
  dataset: string;
  /** How lines make records, for formats whose records span lines. */
  join?: JoinRule;
}

/**
 * Files whose lines are records of their own format rather than syslog. PostgreSQL writes one
 * entry over several lines when a statement has line breaks, and an application its stack traces,
 * so those formats join lines first. Each is built once per source, from that source's options.
 */
const FORMAT_FACTORIES: Record<string, (options: RecordFormatOptions) => RecordFormat> = {
  'mariadb-audit': () => ({ decode: createMariadbAuditDecoder(), dataset: 'mariadb.audit' }),
  'mysql-json-audit': () => ({ decode: createMysqlJsonAuditDecoder(), dataset: 'mysql.audit' }),
  pgaudit: ({ logLinePrefix }) => ({ ...createPgauditFormat({ logLinePrefix }), dataset: 'postgresql.pgaudit' }),
  'pgaudit-csv': () => ({ decode: createPgauditCsvDecoder(), dataset: 'postgresql.pgaudit', join: CSV_JOIN }),
  'access-log': () => ({ decode: (line) => decodeAccessLog(line), dataset: 'web.access' }),
  'web-error-log': () => ({ decode: decodeWebErrorLog, dataset: 'web.error' }),
  auditd: () => ({ decode: (line) => decodeAuditd(line), dataset: 'auditd.log' }),
  'suricata-eve': () => ({ decode: (line) => decodeSuricataEve(line), dataset: 'suricata.eve' }),
  // Winlogbeat or NXLog JSON, one event per line (the dataset is refined per channel: windows.security…).
  'windows-event': () => ({ decode: decodeWindowsEvent, dataset: 'windows.eventlog' }),
  'app-log': ({ pattern }) => {
    const format = createAppLogFormat({ pattern });
    // A line that does not start a record (a stack trace, a traceback) goes on with the one before.
    return { decode: format.decode, dataset: 'app.log', join: lineJoin((line) => !format.startsRecord(line)) };
  },
};

/** Each format with its default options. */
export const RECORD_FORMATS: Readonly<Record<string, RecordFormat>> = Object.fromEntries(
  Object.entries(FORMAT_FACTORIES).map(([name, create]) => [name, create({})]),
);

/**
 * A format built for one source: compiled once, at the source's start. Undefined for an unknown
 * name; throws (with the reason) when an option cannot be used, e.g. an app-log pattern that is no regex.
 */
export function recordFormat(name: string, options: RecordFormatOptions = {}): RecordFormat | undefined {
  const create = Object.hasOwn(FORMAT_FACTORIES, name) ? FORMAT_FACTORIES[name] : undefined;
  if (!create) return undefined;
  return options.logLinePrefix === undefined && options.pattern === undefined ? RECORD_FORMATS[name] : create(options);
}
