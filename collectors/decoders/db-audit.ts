import { isIP } from 'node:net';
import type { EcsFields } from './types.js';
import type { OperationClass } from './sql-class.js';

/**
 * What the database-audit decoders share: their options, the ECS + `db.*` fields they all produce,
 * and the small text helpers (CSV fields, client addresses, local timestamps).
 */
export interface DbAuditOptions {
  /** Longer statements are cut and flagged, so one huge INSERT cannot bloat the store. Default 4096. */
  maxStatementLength?: number;
}

export const DEFAULT_MAX_STATEMENT_LENGTH = 4096;

export type DbAuditAction =
  | 'db-connect' | 'db-failed-login' | 'db-disconnect' | 'db-change-user' | 'db-connection-received'
  | 'db-query' | 'db-table-access' | 'db-audit-start' | 'db-audit-stop';

export interface DbAuditEvent {
  dataset: 'mariadb.audit' | 'mysql.audit' | 'postgresql.pgaudit';
  timestamp: string;
  action: DbAuditAction;
  operationClass: OperationClass;
  outcome: 'success' | 'failure' | 'unknown';
  user?: string;
  /** The client as the server logged it: an IP, a host name, `localhost` or `[local]`. */
  client?: string;
  clientPort?: number;
  serverHost?: string;
  database?: string;
  statement?: string;
  /** The log itself held only part of the statement (a line of a multi-line record). */
  statementIncomplete?: boolean;
  objects?: string[];
  returnCode?: number;
  /** More `db.*` fields particular to one format. */
  extra?: Record<string, unknown>;
}

// ECS categorization (types as ECS allows them per category): logins are authentication, a bare
// TCP connection is network, and statements are typed by their class.
const AUTHENTICATION = ['authentication', 'database'];
const ACTION_CATEGORIZATION: Readonly<Partial<Record<DbAuditAction, { category: string[]; type: string[] }>>> = {
  'db-connect': { category: AUTHENTICATION, type: ['start'] },
  'db-failed-login': { category: AUTHENTICATION, type: ['start'] },
  'db-disconnect': { category: AUTHENTICATION, type: ['end'] },
  'db-change-user': { category: AUTHENTICATION, type: ['info'] },
  'db-connection-received': { category: ['database', 'network'], type: ['connection'] },
};
const CLASS_TYPES: Readonly<Record<OperationClass, string[]>> = {
  READ: ['access'], FUNCTION: ['access'], WRITE: ['change'], DDL: ['change'], ROLE: ['change'], MISC: ['info'], CONNECT: ['info'],
};

/** Builds the nested ECS + `db.*` fields of one audit event; absent values are left out, not set empty. */
export function dbAuditFields(e: DbAuditEvent, maxStatementLength = DEFAULT_MAX_STATEMENT_LENGTH): EcsFields {
  const cut = e.statement !== undefined && e.statement.length > maxStatementLength;
  const { category, type } = ACTION_CATEGORIZATION[e.action] ?? { category: ['database'], type: CLASS_TYPES[e.operationClass] };
  const client = e.client && e.client !== '[local]' ? e.client : undefined;
  const db: Record<string, unknown> = {
    system: e.dataset.split('.')[0],
    operation_class: e.operationClass,
    ...(e.user ? { user: e.user } : {}),
    ...(e.client ? { client_address: e.client } : {}),
    ...(e.database ? { name: e.database } : {}),
    ...(e.statement !== undefined ? { statement: cut ? e.statement.slice(0, maxStatementLength) : e.statement } : {}),
    ...(cut || e.statementIncomplete ? { statement_truncated: true } : {}),
    ...(e.objects?.length ? { objects: e.objects } : {}),
    ...(e.returnCode !== undefined ? { return_code: e.returnCode } : {}),
    ...e.extra,
  };
  return {
    '@timestamp': e.timestamp,
    event: {
      kind: 'event',
      // Copies: the tables are shared, the events are not.
      category: [...category],
      type: [...type],
      action: e.action,
      outcome: e.outcome,
      module: db.system,
      dataset: e.dataset,
    },
    ...(e.user ? { user: { name: e.user } } : {}),
    ...(client ? { source: { ...(isIP(client) ? { ip: client } : { address: client }), ...(e.clientPort ? { port: e.clientPort } : {}) } } : {}),
    ...(e.serverHost ? { host: { name: e.serverHost } } : {}),
    db,
  };
}

/**
 * Splits one CSV record with RFC 4180 quoting (`"a ""b"", c"`), as pgaudit and PostgreSQL's csvlog
 * write it. `unterminated` says the last field's quote never closed: the record went on in a next line.
 */
export function splitCsv(text: string): { fields: string[]; unterminated: boolean } {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (text[i] !== '"') {
      const comma = text.indexOf(',', i);
      if (comma < 0) return { fields: [...fields, text.slice(i)], unterminated: false };
      fields.push(text.slice(i, comma));
      i = comma + 1;
      continue;
    }
    // A quoted field runs to a quote that is not doubled; `""` inside stands for one quote.
    let value = '';
    let from = i + 1;
    for (;;) {
      const quote = text.indexOf('"', from);
      if (quote < 0) return { fields: [...fields, value + text.slice(from)], unterminated: true };
      value += text.slice(from, quote);
      from = quote + 1;
      if (text[from] !== '"') break;
      value += '"';
      from += 1;
    }
    // Text between the closing quote and the comma is kept, as lenient readers do.
    const comma = text.indexOf(',', from);
    fields.push(value + text.slice(from, comma < 0 ? text.length : comma));
    if (comma < 0) return { fields, unterminated: false };
    i = comma + 1;
  }
}

/**
 * A client written as `host:port` (MariaDB 12) into its parts. A valid IP stays whole, so an IPv6
 * address with an unbracketed port (`::1:5555`) cannot be told apart and is kept as written.
 */
export function splitHostPort(value: string): { host: string; port?: number } {
  if (isIP(value)) return { host: value };
  const match = /^\[?(.*?)\]?:(\d{1,5})$/.exec(value);
  if (match && (isIP(match[1]!) || !match[1]!.includes(':'))) return { host: match[1]!, port: Number(match[2]) };
  return { host: value };
}

/**
 * `YYYY-MM-DD` and `HH:MM:SS[.fff]` at a zone offset (`Z`, `+08:00`) → ISO UTC, or undefined when
 * it is not a real date. Audit logs mostly write local time without a zone; the caller knows the offset.
 */
export function toIsoTimestamp(date: string, time: string, offset: string): string | undefined {
  const ms = Date.parse(`${date}T${time}${offset}`);
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  // Date.parse takes 2026-02-30 as March 2; the day written must exist.
  if (Number.isNaN(ms) || new Date(Date.UTC(y, m - 1, d)).getUTCDate() !== d) return undefined;
  return new Date(ms).toISOString();
}
