import {
  DEFAULT_MAX_STATEMENT_LENGTH, dbAuditFields, splitHostPort, toIsoTimestamp, type DbAuditAction, type DbAuditOptions,
} from './db-audit.js';
import { classifyStatement, type OperationClass } from './sql-class.js';
import type { RecordDecoder, RecordResult } from './types.js';

/**
 * Lines of the MariaDB `server_audit` plugin's own file (also used on MySQL and Percona):
 * `timestamp,serverhost,username,host,connectionid,queryid,operation,database,object,retcode`, e.g.
 * `20261126 10:00:00,db01,app,10.0.0.5,12,40,QUERY,hr,'select * from t where n=\'x\'',0`.
 * Since MariaDB 12.0 the host is written `host:port`.
 */

// The default `server_audit_timestamp_format` is `%Y%m%d %H:%i:%s`; the ISO-like form is accepted too.
const TIMESTAMP = /^(\d{4})-?(\d{2})-?(\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?)$/;
const NUMBER = /^\d+$/;
const RETURN_CODE = /^(?:-?\d+)?$/;
// The plugin escapes quote and backslash with a backslash, and (10.x) newline, CR and tab as \n \r \t.
const ESCAPE = /\\([\s\S])/g;
const UNESCAPED: Readonly<Record<string, string>> = { n: '\n', r: '\r', t: '\t' };

type Operation = { action: DbAuditAction; operationClass?: OperationClass };
const OPERATIONS: Readonly<Record<string, Operation>> = {
  CONNECT: { action: 'db-connect', operationClass: 'CONNECT' },
  PROXY_CONNECT: { action: 'db-connect', operationClass: 'CONNECT' },
  FAILED_CONNECT: { action: 'db-failed-login', operationClass: 'CONNECT' },
  DISCONNECT: { action: 'db-disconnect', operationClass: 'CONNECT' },
  CHANGEUSER: { action: 'db-change-user', operationClass: 'CONNECT' },
  QUERY: { action: 'db-query' },
  // TABLE events: which tables a statement opened, one line per table.
  READ: { action: 'db-table-access', operationClass: 'READ' },
  WRITE: { action: 'db-table-access', operationClass: 'WRITE' },
  CREATE: { action: 'db-table-access', operationClass: 'DDL' },
  ALTER: { action: 'db-table-access', operationClass: 'DDL' },
  DROP: { action: 'db-table-access', operationClass: 'DDL' },
  RENAME: { action: 'db-table-access', operationClass: 'DDL' },
};

export function createMariadbAuditDecoder(options: DbAuditOptions = {}): RecordDecoder {
  const maxStatementLength = options.maxStatementLength ?? DEFAULT_MAX_STATEMENT_LENGTH;
  return (raw, context): RecordResult => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const parts = splitHead(line, 8);
    if (!parts) return { ok: false, reason: 'not a server_audit line: expected 10 comma-separated fields' };
    const [timestamp, serverHost, user, host, connectionId, queryId, operation, database] = parts.head;
    // The object may hold commas (it is a quoted statement); the return code is after the last comma.
    const lastComma = parts.rest.lastIndexOf(',');
    if (lastComma < 0) return { ok: false, reason: 'not a server_audit line: expected 10 comma-separated fields' };
    const object = parts.rest.slice(0, lastComma);
    const returnCodeText = parts.rest.slice(lastComma + 1);
    const date = TIMESTAMP.exec(timestamp!);
    const iso = date && toIsoTimestamp(`${date[1]}-${date[2]}-${date[3]}`, date[4]!, context.utcOffset);
    if (!iso) return { ok: false, reason: `server_audit timestamp is not a date: ${timestamp}` };
    if (!NUMBER.test(connectionId!) || !NUMBER.test(queryId!)) {
      return { ok: false, reason: `server_audit connection id and query id must be numbers: ${connectionId}, ${queryId}` };
    }
    const kind = OPERATIONS[operation!];
    if (!kind) return { ok: false, reason: `unknown server_audit operation: ${operation}` };
    if (!RETURN_CODE.test(returnCodeText)) return { ok: false, reason: `server_audit return code is not a number: ${returnCodeText}` };
    const returnCode = returnCodeText === '' ? undefined : Number(returnCodeText);

    let statement: string | undefined;
    if (kind.action === 'db-query') {
      if (object.length < 2 || !object.startsWith("'") || !object.endsWith("'")) {
        return { ok: false, reason: 'server_audit QUERY line without a quoted statement' };
      }
      statement = object.slice(1, -1).replace(ESCAPE, (_, c: string) => UNESCAPED[c] ?? c);
    }
    const failed = operation === 'FAILED_CONNECT' || (returnCode !== undefined && returnCode !== 0);
    const client = splitHostPort(host!);
    return {
      ok: true,
      fields: dbAuditFields({
        dataset: 'mariadb.audit',
        timestamp: iso,
        action: kind.action === 'db-connect' && failed ? 'db-failed-login' : kind.action,
        operationClass: kind.operationClass ?? classifyStatement(statement ?? ''),
        outcome: failed ? 'failure' : returnCode === undefined ? 'unknown' : 'success',
        user: user || undefined,
        client: client.host || undefined,
        clientPort: client.port,
        serverHost: serverHost || undefined,
        database: database || undefined,
        statement,
        objects: kind.action === 'db-table-access' ? tableObjects(database!, object) : undefined,
        returnCode,
        extra: { connection_id: Number(connectionId), query_id: Number(queryId) },
      }, maxStatementLength),
    };
  };
}

/** Decodes with the default options (statements cut at 4096 characters). */
export const decodeMariadbAudit: RecordDecoder = createMariadbAuditDecoder();

function splitHead(line: string, count: number): { head: string[]; rest: string } | undefined {
  const head: string[] = [];
  let start = 0;
  for (let i = 0; i < count; i++) {
    const comma = line.indexOf(',', start);
    if (comma < 0) return undefined;
    head.push(line.slice(start, comma));
    start = comma + 1;
  }
  return { head, rest: line.slice(start) };
}

/** `t` in database `hr` → `hr.t`; a RENAME's object is `old|newdb.new`. */
function tableObjects(database: string, object: string): string[] {
  const [table, renamedTo] = object.split('|');
  const qualified = database ? `${database}.${table}` : table!;
  return renamedTo ? [qualified, renamedTo] : [qualified];
}
