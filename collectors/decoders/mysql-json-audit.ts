import { z } from 'zod';
import { formatPath } from '../../core/index.js';
import {
  DEFAULT_MAX_STATEMENT_LENGTH, dbAuditFields, toIsoTimestamp, type DbAuditEvent, type DbAuditOptions,
} from './db-audit.js';
import { classifyStatement, type OperationClass } from './sql-class.js';
import type { RecordDecoder, RecordResult } from './types.js';

/**
 * One record per line of the JSON audit logs of MySQL and Percona Server:
 * - Percona's audit_log plugin with `audit_log_format=JSON`: `{"audit_record":{"name":"Query",…}}`;
 * - MySQL Enterprise audit (and Percona's audit_log_filter): elements of one JSON array,
 *   `{"timestamp":"…","class":"general","event":"status","general_data":{…}}`, one element a line,
 *   so the array's brackets and separating commas around a line are ignored.
 */

const Text = z.string().optional();
const Status = z.number().int().optional();

const PerconaRecord = z.object({
  audit_record: z.object({
    name: z.string(),
    timestamp: z.string(),
    connection_id: z.coerce.number().int().optional(),
    status: Status,
    sqltext: Text,
    command_class: Text,
    user: Text,
    priv_user: Text,
    host: Text,
    ip: Text,
    db: Text,
  }),
});

const MysqlRecord = z.object({
  timestamp: z.string(),
  class: z.string(),
  event: Text,
  connection_id: z.number().int().optional(),
  account: z.object({ user: Text, host: Text }).optional(),
  login: z.object({ user: Text, ip: Text }).optional(),
  connection_data: z.object({ status: Status, db: Text }).optional(),
  general_data: z.object({ sql_command: Text, query: Text, status: Status }).optional(),
  table_access_data: z.object({ db: Text, table: Text, query: Text, sql_command: Text }).optional(),
  query_data: z.object({ query: Text, sql_command: Text, status: Status }).optional(),
});

// Both write UTC: MySQL as `2019-10-03 13:50:01`, Percona as `2014-04-29T09:29:40 UTC` or `…Z`.
const TIMESTAMP = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?)(?: ?(?:UTC|Z))?$/;
const ARRAY_FRAMING = /^\s*[[,]?\s*|\s*[,\]]?\s*$/g;
const TABLE_ACCESS: Readonly<Record<string, OperationClass>> = { read: 'READ', insert: 'WRITE', update: 'WRITE', delete: 'WRITE' };

type Decoded = Omit<DbAuditEvent, 'dataset' | 'timestamp'>;

export function createMysqlJsonAuditDecoder(options: DbAuditOptions = {}): RecordDecoder {
  const maxStatementLength = options.maxStatementLength ?? DEFAULT_MAX_STATEMENT_LENGTH;
  return (line): RecordResult => {
    const text = line.replace(ARRAY_FRAMING, '');
    if (text === '') return { ok: false, reason: 'no audit record: only JSON array framing' };
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (error) {
      return { ok: false, reason: `invalid JSON: ${(error as Error).message}` };
    }
    const isPercona = typeof doc === 'object' && doc !== null && 'audit_record' in doc;
    const parsed = isPercona ? PerconaRecord.safeParse(doc) : MysqlRecord.safeParse(doc);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) => `${formatPath(issue.path) || '(root)'}: ${issue.message}`);
      return { ok: false, reason: `not a MySQL JSON audit record: ${problems.join('; ')}` };
    }
    const record = parsed.data;
    const decoded = 'audit_record' in record ? fromPercona(record.audit_record) : fromMysql(record);
    if (typeof decoded === 'string') return { ok: false, reason: decoded };
    const rawTime = 'audit_record' in record ? record.audit_record.timestamp : record.timestamp;
    const time = TIMESTAMP.exec(rawTime);
    const timestamp = time && toIsoTimestamp(time[1]!, time[2]!, 'Z');
    if (!timestamp) return { ok: false, reason: `audit record timestamp is not a date: ${rawTime}` };
    return { ok: true, fields: dbAuditFields({ dataset: 'mysql.audit', timestamp, ...decoded }, maxStatementLength) };
  };
}

/** Decodes with the default options (statements cut at 4096 characters). */
export const decodeMysqlJsonAudit: RecordDecoder = createMysqlJsonAuditDecoder();

function fromPercona(r: z.infer<typeof PerconaRecord>['audit_record']): Decoded | string {
  const common = {
    user: accountName(r.user) || accountName(r.priv_user),
    client: r.ip || r.host || undefined,
    database: r.db || undefined,
    returnCode: r.status,
    extra: r.connection_id !== undefined ? { connection_id: r.connection_id } : undefined,
  };
  const outcome = r.status ? 'failure' : 'success';
  switch (r.name) {
    case 'Connect':
      return { ...common, action: r.status ? 'db-failed-login' : 'db-connect', operationClass: 'CONNECT', outcome };
    case 'Quit':
      return { ...common, action: 'db-disconnect', operationClass: 'CONNECT', outcome };
    case 'Change user':
      return { ...common, action: 'db-change-user', operationClass: 'CONNECT', outcome };
    case 'Audit':
    case 'NoAudit':
      return { ...common, action: r.name === 'Audit' ? 'db-audit-start' : 'db-audit-stop', operationClass: 'MISC', outcome };
  }
  if (r.sqltext === undefined) return `Percona audit record "${r.name}" has no sqltext`;
  return { ...common, action: 'db-query', operationClass: queryClass(r.sqltext, r.command_class), outcome, statement: r.sqltext };
}

function fromMysql(r: z.infer<typeof MysqlRecord>): Decoded | string {
  const common = {
    user: accountName(r.login?.user) || accountName(r.account?.user),
    client: r.login?.ip || r.account?.host || undefined,
    extra: { audit_event: `${r.class}.${r.event ?? ''}`, ...(r.connection_id !== undefined ? { connection_id: r.connection_id } : {}) },
  };
  const withStatus = (status: number | undefined) => ({ returnCode: status, outcome: status ? 'failure' as const : 'success' as const });
  const data = r.general_data ?? r.query_data;
  if (r.class === 'audit') {
    return { ...common, action: r.event === 'startup' ? 'db-audit-start' : 'db-audit-stop', operationClass: 'MISC', outcome: 'success' };
  }
  if (r.class === 'connection' && r.connection_data) {
    const status = r.connection_data.status;
    const action = r.event === 'disconnect' ? 'db-disconnect' : r.event === 'change_user' ? 'db-change-user'
      : status ? 'db-failed-login' : 'db-connect';
    return { ...common, ...withStatus(status), action, operationClass: 'CONNECT', database: r.connection_data.db || undefined };
  }
  if (r.class === 'table_access' && r.table_access_data) {
    const t = r.table_access_data;
    return {
      ...common, action: 'db-table-access', outcome: 'success', statement: t.query, database: t.db || undefined,
      operationClass: TABLE_ACCESS[r.event ?? ''] ?? queryClass(t.query ?? '', t.sql_command),
      objects: t.table ? [t.db ? `${t.db}.${t.table}` : t.table] : undefined,
    };
  }
  if ((r.class === 'general' || r.class === 'query') && data?.query !== undefined) {
    return { ...common, ...withStatus(data.status), action: 'db-query', statement: data.query, operationClass: queryClass(data.query, data.sql_command) };
  }
  return `MySQL audit record ${r.class}/${r.event ?? '-'} is not decoded`;
}

/** `root[root] @ localhost [127.0.0.1]`, as some records write the account, → `root`. */
function accountName(value: string | undefined): string | undefined {
  const name = value?.replace(/\[.*$/s, '').trim();
  return name || undefined;
}

/** From the statement; without one, from the server's command name (`create_table` → `create table`). */
function queryClass(statement: string, sqlCommand: string | undefined): OperationClass {
  return classifyStatement(statement.trim() ? statement : (sqlCommand ?? '').replace(/_/g, ' '));
}
