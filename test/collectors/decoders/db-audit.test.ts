import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getField } from '../../../core/index.js';
import { createMariadbAuditDecoder, decodeMariadbAudit } from '../../../collectors/decoders/mariadb-audit.js';
import { decodeMysqlJsonAudit } from '../../../collectors/decoders/mysql-json-audit.js';
import {
  createPgauditDecoder, decodePgaudit, decodePgauditCsv, postgresLogRecords,
} from '../../../collectors/decoders/pgaudit.js';
import { classifyStatement } from '../../../collectors/decoders/sql-class.js';
import { recordFormat } from '../../../collectors/decoders/record-formats.js';
import { joinRecords } from '../../../collectors/record-join.js';
import type { EcsFields, RecordContext, RecordResult } from '../../../collectors/decoders/types.js';
import { startMariadb, type MariadbHandle } from '../../harness/mariadb.js';
import { startPostgres, type PostgresHandle } from '../../harness/postgres.js';
import { eventually } from '../../support/eventually.js';

const context: RecordContext = { utcOffset: '+08:00', now: new Date('2026-11-26T12:00:00Z') };

function fields(result: RecordResult): EcsFields {
  if (!result.ok) throw new Error(`expected the line to decode, got: ${result.reason}`);
  return result.fields;
}

function reason(result: RecordResult): string {
  if (result.ok) throw new Error(`expected a bad line, got ${JSON.stringify(result.fields)}`);
  return result.reason;
}

const byAction = (events: EcsFields[], action: string) => events.filter((e) => getField(e, 'event.action') === action);
const testName = (prefix: string) => `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 10)}`;

/** The zone offset of this machine now, as the database servers started here write local time in it. */
function localOffset(): string {
  const minutes = -new Date().getTimezoneOffset();
  const abs = Math.abs(minutes);
  return `${minutes < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** What `read` returns once `done` holds for it. */
const waitFor = <T>(read: () => T, done: (value: T) => boolean, what: string): Promise<T> => eventually(() => {
  const value = read();
  if (!done(value)) throw new Error(`waiting for ${what}`);
  return value;
});

/** Resolves with the error once the call fails (a pg_hba.conf reload takes effect a moment later). */
async function retryUntilRejected(call: () => Promise<unknown>): Promise<unknown> {
  return eventually(() => call().then(() => Promise.reject(new Error('the call did not fail yet')), (error: unknown) => error));
}

describe('SQL operation classes', () => {
  it.each([
    ['SELECT * FROM t', 'READ'], ['  show tables', 'READ'], ['/* hint */ (select 1)', 'READ'], ['WITH x AS (SELECT 1) SELECT * FROM x', 'READ'],
    ['insert into t values (1)', 'WRITE'], ['REPLACE INTO t VALUES (1)', 'WRITE'], ['TRUNCATE t', 'WRITE'], ['COPY t FROM stdin', 'WRITE'],
    ['CREATE TABLE t (a int)', 'DDL'], ['drop view v', 'DDL'], ['RENAME TABLE a TO b', 'DDL'], ['/*!40101 ALTER TABLE t ENGINE=InnoDB */', 'DDL'],
    ['GRANT SELECT ON db.* TO u', 'ROLE'], ['revoke all on t from u', 'ROLE'], ['CREATE USER u IDENTIFIED BY *****', 'ROLE'],
    ['CREATE OR REPLACE USER u', 'ROLE'], ['alter user u account lock', 'ROLE'], ['DROP ROLE r', 'ROLE'], ['SET PASSWORD FOR u = PASSWORD(*****)', 'ROLE'],
    ['CALL p()', 'FUNCTION'], ['DO sleep(1)', 'FUNCTION'],
    ['SET autocommit=1', 'MISC'], ['USE hr', 'MISC'], ['', 'MISC'], ['-- only a comment', 'MISC'],
  ])('%s → %s', (statement, expected) => {
    expect(classifyStatement(statement)).toBe(expected);
  });
});

describe('MariaDB server_audit lines', () => {
  it('decodes a connect from localhost at the source offset', () => {
    const event = fields(decodeMariadbAudit('20261126 10:00:00,db01,root,localhost,5,0,CONNECT,,,0', context));
    expect(event).toEqual({
      '@timestamp': '2026-11-26T02:00:00.000Z',
      event: {
        kind: 'event', category: ['authentication', 'database'], type: ['start'], action: 'db-connect', outcome: 'success',
        module: 'mariadb', dataset: 'mariadb.audit',
      },
      user: { name: 'root' },
      source: { address: 'localhost' },
      host: { name: 'db01' },
      db: {
        system: 'mariadb', operation_class: 'CONNECT', user: 'root', client_address: 'localhost', return_code: 0,
        connection_id: 5, query_id: 0,
      },
    });
  });

  it('unescapes quoted statements with quotes, backslashes, commas and newlines', () => {
    const line = String.raw`20261126 10:00:01,db01,app,10.0.0.5,12,40,QUERY,hr,'insert into t values (\'it\\\'s\', \'a,b\')\n-- end',0`;
    expect(fields(decodeMariadbAudit(line, context))).toMatchObject({
      event: { category: ['database'], type: ['change'], action: 'db-query', outcome: 'success' },
      source: { ip: '10.0.0.5' },
      db: { name: 'hr', operation_class: 'WRITE', statement: "insert into t values ('it\\'s', 'a,b')\n-- end", return_code: 0, query_id: 40 },
    });
  });

  it('marks failed logins and failed statements as failures', () => {
    expect(fields(decodeMariadbAudit('20261126 10:00:02,db01,nobody,10.0.0.9,7,0,FAILED_CONNECT,,,1045', context))).toMatchObject({
      event: { category: ['authentication', 'database'], action: 'db-failed-login', outcome: 'failure' },
      user: { name: 'nobody' },
      db: { operation_class: 'CONNECT', return_code: 1045 },
    });
    const grant = String.raw`20261126 10:00:03,db01,app,10.0.0.5,12,41,QUERY,hr,'GRANT SELECT ON hr.t TO \'x\'@\'%\'',1142`;
    expect(fields(decodeMariadbAudit(grant, context))).toMatchObject({
      event: { action: 'db-query', outcome: 'failure' },
      db: { operation_class: 'ROLE', statement: "GRANT SELECT ON hr.t TO 'x'@'%'", return_code: 1142 },
    });
  });

  it('reads IPv6 clients and the host:port form of MariaDB 12', () => {
    expect(fields(decodeMariadbAudit('20261126 10:00:04,db01,app,::1,8,0,CONNECT,hr,,0', context))).toMatchObject({
      source: { ip: '::1' }, db: { client_address: '::1', name: 'hr' },
    });
    expect(fields(decodeMariadbAudit('20261126 10:00:04,db01,app,2001:db8::7,8,0,CONNECT,hr,,0', context))).toMatchObject({
      source: { ip: '2001:db8::7' },
    });
    expect(fields(decodeMariadbAudit('20261126 10:00:04,db01,app,10.0.0.5:53412,8,0,CONNECT,hr,,0', context))).toMatchObject({
      source: { ip: '10.0.0.5', port: 53412 }, db: { client_address: '10.0.0.5' },
    });
  });

  it('decodes TABLE events with their objects', () => {
    expect(fields(decodeMariadbAudit('20261126 10:00:05,db01,app,10.0.0.5,12,42,READ,hr,salaries,', context))).toMatchObject({
      event: { action: 'db-table-access', outcome: 'unknown', type: ['access'] },
      db: { operation_class: 'READ', objects: ['hr.salaries'] },
    });
    expect(fields(decodeMariadbAudit('20261126 10:00:05,db01,app,10.0.0.5,12,43,RENAME,hr,t|hr.t_old,', context))).toMatchObject({
      db: { operation_class: 'DDL', objects: ['hr.t', 'hr.t_old'] },
    });
  });

  it('cuts long statements at the configured length and says so', () => {
    const long = `select '${'x'.repeat(5000)}'`;
    const line = `20261126 10:00:06,db01,app,10.0.0.5,12,44,QUERY,hr,'${long.replace(/'/g, "\\'")}',0`;
    const cut = fields(decodeMariadbAudit(line, context)).db as Record<string, unknown>;
    expect(cut).toMatchObject({ statement: long.slice(0, 4096), statement_truncated: true, operation_class: 'READ' });
    const short = fields(createMariadbAuditDecoder({ maxStatementLength: 10 })(line, context)).db as Record<string, unknown>;
    expect(short).toMatchObject({ statement: "select 'xx", statement_truncated: true });
    const whole = fields(decodeMariadbAudit("20261126 10:00:06,db01,app,10.0.0.5,12,45,QUERY,hr,'select 1',0", context)).db;
    expect(whole).not.toHaveProperty('statement_truncated');
  });

  it.each([
    ['hello', 'expected 10 comma-separated fields'],
    ['2026-11-26T10:00:00,db01,app,h,1,0,CONNECT,,,0', 'timestamp is not a date'],
    ['20261131 10:00:00,db01,app,h,1,0,CONNECT,,,0', 'timestamp is not a date'],
    ['20261126 10:00:00,db01,app,h,x,0,CONNECT,,,0', 'must be numbers'],
    ['20261126 10:00:00,db01,app,h,1,0,LOGIN,,,0', 'unknown server_audit operation: LOGIN'],
    ['20261126 10:00:00,db01,app,h,1,0,QUERY,hr,select 1,0', 'without a quoted statement'],
    ["20261126 10:00:00,db01,app,h,1,0,QUERY,hr,'select 1',ok", 'return code is not a number'],
  ])('rejects %j', (line, expected) => {
    expect(reason(decodeMariadbAudit(line, context))).toContain(expected);
  });
});

describe('MySQL and Percona JSON audit records', () => {
  it('decodes a Percona failed connect and query, with the account written as user[priv] @ host', () => {
    const failed = '{"audit_record":{"name":"Connect","record":"7_2024-09-03T01:53:14","timestamp":"2024-09-03T01:53:33Z","connection_id":"993","status":1045,"user":"wrong","priv_user":"","os_login":"","proxy_user":"","host":"","ip":"10.207.85.214","db":""}}';
    expect(fields(decodeMysqlJsonAudit(failed, context))).toMatchObject({
      '@timestamp': '2024-09-03T01:53:33.000Z',
      event: { action: 'db-failed-login', outcome: 'failure', dataset: 'mysql.audit', category: ['authentication', 'database'] },
      user: { name: 'wrong' }, source: { ip: '10.207.85.214' },
      db: { system: 'mysql', operation_class: 'CONNECT', return_code: 1045, connection_id: 993 },
    });
    const query = '{"audit_record":{"name":"Query","record":"4707_2014-08-27T10:43:52","timestamp":"2014-08-27T10:44:19 UTC","command_class":"create_table","connection_id":"37","status":0,"sqltext":"CREATE TABLE t1 (c1 INT)","user":"root[root] @ localhost []","host":"localhost","os_user":"","ip":"","db":"test"}}';
    expect(fields(decodeMysqlJsonAudit(query, context))).toMatchObject({
      '@timestamp': '2014-08-27T10:44:19.000Z',
      event: { action: 'db-query', outcome: 'success' },
      user: { name: 'root' }, source: { address: 'localhost' },
      db: { name: 'test', operation_class: 'DDL', statement: 'CREATE TABLE t1 (c1 INT)' },
    });
  });

  it('decodes MySQL Enterprise array elements: IPv6 connect, GRANT, table access', () => {
    const connect = '{ "timestamp": "2018-05-24 23:15:07", "id": 0, "class": "connection", "event": "connect", "connection_id": 12, "account": { "user": "user", "host": "localhost" }, "login": { "user": "user", "os": "", "ip": "::1", "proxy": "" }, "connection_data": { "connection_type": "tcp/ip", "status": 0, "db": "bank_db" } },';
    expect(fields(decodeMysqlJsonAudit(connect, context))).toMatchObject({
      '@timestamp': '2018-05-24T23:15:07.000Z',
      event: { action: 'db-connect', outcome: 'success' }, source: { ip: '::1' },
      db: { name: 'bank_db', operation_class: 'CONNECT', connection_id: 12, audit_event: 'connection.connect' },
    });
    const grant = `[ { "timestamp": "2019-10-03 14:25:00", "id": 3, "class": "general", "event": "status", "connection_id": 12, "account": { "user": "root", "host": "localhost" }, "login": { "user": "root", "os": "", "ip": "10.1.1.1", "proxy": "" }, "general_data": { "command": "Query", "sql_command": "grant", "query": "GRANT SELECT ON bank_db.* TO 'u'@'%'", "status": 1044 } }`;
    expect(fields(decodeMysqlJsonAudit(grant, context))).toMatchObject({
      event: { action: 'db-query', outcome: 'failure' },
      db: { operation_class: 'ROLE', return_code: 1044, statement: "GRANT SELECT ON bank_db.* TO 'u'@'%'" },
    });
    const read = '{ "timestamp": "2019-10-03 14:25:00", "id": 4, "class": "table_access", "event": "read", "connection_id": 12, "account": { "user": "root", "host": "localhost" }, "login": { "user": "root", "os": "", "ip": "", "proxy": "" }, "table_access_data": { "db": "bank_db", "table": "accounts", "query": "SELECT * FROM accounts", "sql_command": "select" } } ]';
    expect(fields(decodeMysqlJsonAudit(read, context))).toMatchObject({
      event: { action: 'db-table-access' }, source: { address: 'localhost' },
      db: { operation_class: 'READ', objects: ['bank_db.accounts'], name: 'bank_db' },
    });
    const noText = '{ "timestamp": "2019-10-03 14:25:00", "id": 5, "class": "general", "event": "status", "general_data": { "sql_command": "create_table", "query": "", "status": 0 } }';
    expect(getField(fields(decodeMysqlJsonAudit(noText, context)), 'db.operation_class')).toBe('DDL');
  });

  it.each([
    ['[', 'only JSON array framing'],
    ['{"audit_record":', 'invalid JSON'],
    ['{"class":"general"}', 'timestamp: Invalid input'],
    ['{"timestamp":"2019-10-03 14:25:00","class":"command","event":"command_start"}', 'command/command_start is not decoded'],
    ['{"timestamp":"yesterday","class":"audit","event":"startup"}', 'timestamp is not a date'],
  ])('rejects %j', (line, expected) => {
    expect(reason(decodeMysqlJsonAudit(line, context))).toContain(expected);
  });
});

describe('pgaudit and PostgreSQL connection lines, stderr format', () => {
  it('decodes an AUDIT line behind the Debian prefix, taking the zone abbreviation at the source offset', () => {
    const line = `2026-11-26 10:00:00.123 CST [4242] app@hr LOG:  AUDIT: SESSION,1,1,READ,SELECT,TABLE,public.t,"select * from t where a = 'x,y'",<not logged>`;
    expect(fields(decodePgaudit(line, context))).toEqual({
      '@timestamp': '2026-11-26T02:00:00.123Z',
      event: { kind: 'event', category: ['database'], type: ['access'], action: 'db-query', outcome: 'unknown', module: 'postgresql', dataset: 'postgresql.pgaudit' },
      user: { name: 'app' },
      db: {
        system: 'postgresql', operation_class: 'READ', user: 'app', name: 'hr', statement: "select * from t where a = 'x,y'",
        objects: ['public.t'], audit_type: 'SESSION', statement_id: 1, substatement_id: 1, command: 'SELECT', object_type: 'TABLE',
      },
      process: { pid: 4242 },
      log: { level: 'log' },
    });
  });

  it('reads the plain prefix, UTC and numeric zones, doubled quotes and the rows field', () => {
    const decode = createPgauditDecoder({ logLinePrefix: '%m [%p] ' });
    const line = `2026-11-26 02:00:00.5 UTC [7] LOG:  AUDIT: OBJECT,2,1,WRITE,INSERT,TABLE,public.t,"insert into t values (1, 'it''s ""q""')","1,<long param suppressed>",1`;
    expect(fields(decode(line, context))).toMatchObject({
      '@timestamp': '2026-11-26T02:00:00.500Z',
      db: { operation_class: 'WRITE', audit_type: 'OBJECT', statement: `insert into t values (1, 'it''s "q"')`, parameters: '1,<long param suppressed>', rows: 1 },
    });
    expect(getField(fields(decode('2026-11-26 10:00:00.000 +08 [7] LOG:  AUDIT: SESSION,3,1,MISC,SET,,,SET x = 1,<none>', context)), '@timestamp'))
      .toBe('2026-11-26T02:00:00.000Z');
  });

  it('decodes connection, disconnection and failed-login lines; the same text at ERROR is no login', () => {
    const decode = (message: string, who = 'auditor@hr') => fields(decodePgaudit(`2026-11-26 10:00:00.000 CST [99] ${who} ${message}`, context));
    expect(decode('LOG:  connection received: host=::1 port=5555', '[unknown]@[unknown]')).toMatchObject({
      event: { action: 'db-connection-received', category: ['database', 'network'], type: ['connection'] }, source: { ip: '::1', port: 5555 },
    });
    expect(decode('LOG:  connection authorized: user=auditor database=hr application_name=psql')).toMatchObject({
      event: { action: 'db-connect', outcome: 'success', category: ['authentication', 'database'] },
      user: { name: 'auditor' }, db: { name: 'hr', operation_class: 'CONNECT' },
    });
    expect(decode('FATAL:  password authentication failed for user "auditor"')).toMatchObject({
      event: { action: 'db-failed-login', outcome: 'failure' }, user: { name: 'auditor' }, db: { auth_method: 'password' },
    });
    expect(decode('FATAL:  role "ghost" does not exist', 'ghost@hr')).toMatchObject({
      event: { action: 'db-failed-login', outcome: 'failure' }, user: { name: 'ghost' },
    });
    expect(decode('FATAL:  no pg_hba.conf entry for host "203.0.113.7", user "x", database "hr", no encryption', 'x@hr')).toMatchObject({
      event: { action: 'db-failed-login' }, source: { ip: '203.0.113.7' }, user: { name: 'x' }, db: { name: 'hr' },
    });
    expect(decode('LOG:  disconnection: session time: 0:00:01.234 user=auditor database=hr host=10.0.0.8 port=4000')).toMatchObject({
      event: { action: 'db-disconnect', type: ['end'] }, source: { ip: '10.0.0.8', port: 4000 },
    });
    expect(decode('ERROR:  role "ghost" does not exist')).toMatchObject({
      event: { dataset: 'postgresql.log' }, message: 'role "ghost" does not exist', log: { level: 'error' },
    });
  });

  it('reads lines of sessionless processes (cut at %q) and custom prefixes with %r', () => {
    expect(fields(decodePgaudit('2026-11-26 10:00:00.000 CST [1] LOG:  database system is ready to accept connections', context))).toEqual({
      '@timestamp': '2026-11-26T02:00:00.000Z',
      message: 'database system is ready to accept connections',
      event: { kind: 'event', module: 'postgresql', dataset: 'postgresql.log' },
      process: { pid: 1 },
      log: { level: 'log' },
    });
    const custom = createPgauditDecoder({ logLinePrefix: '%t [%p]: user=%u,db=%d,app=%a,client=%r ' });
    const line = '2026-11-26 02:00:00 UTC [12]: user=app,db=hr,app=psql,client=10.1.2.3(5555) LOG:  AUDIT: SESSION,1,1,DDL,CREATE TABLE,TABLE,public.x,create table x (a int),<not logged>';
    expect(fields(custom(line, context))).toMatchObject({
      '@timestamp': '2026-11-26T02:00:00.000Z', source: { ip: '10.1.2.3', port: 5555 },
      db: { operation_class: 'DDL', user: 'app', name: 'hr', application: 'psql' },
    });
  });

  it('joins multi-line statements (tab-led continuation lines) and cuts long ones', () => {
    const lines = [
      `2026-11-26 10:00:00.000 CST [5] app@hr LOG:  AUDIT: SESSION,1,1,READ,SELECT,,,"select a,`,
      `\t  b from t",<not logged>`,
      '2026-11-26 10:00:01.000 CST [5] app@hr LOG:  disconnection: session time: 0:00:01.000 user=app database=hr host=[local]',
    ];
    const records = [...postgresLogRecords(lines)];
    expect(records).toHaveLength(2);
    expect(getField(fields(decodePgaudit(records[0]!, context)), 'db.statement')).toBe('select a,\n  b from t');
    expect(fields(decodePgaudit(records[1]!, context))).not.toHaveProperty('source');
    // Read line by line, the first line still decodes, with the statement marked as incomplete.
    expect(fields(decodePgaudit(lines[0]!, context))).toMatchObject({ db: { statement: 'select a,', statement_truncated: true } });
    const short = createPgauditDecoder({ maxStatementLength: 6 });
    expect(fields(short(records[0]!, context))).toMatchObject({ db: { statement: 'select', statement_truncated: true } });
  });

  it('reads a configured prefix ending in %h: the client is source.ip, not part of db.name', () => {
    const decode = createPgauditDecoder({ logLinePrefix: '%m [%p] %u@%d %h ' });
    const line = '2026-11-26 10:00:00.000 CST [5] app@hr 10.40.1.11 LOG:  AUDIT: SESSION,1,1,READ,SELECT,,,select 1,<not logged>';
    expect(fields(decode(line, context))).toMatchObject({
      user: { name: 'app' }, source: { ip: '10.40.1.11' }, db: { name: 'hr', user: 'app', operation_class: 'READ' },
    });
    // Through the format registry, as a file or HTTP source with `logLinePrefix` builds it.
    expect(fields(recordFormat('pgaudit', { logLinePrefix: '%m [%p] %u@%d %h ' })!.decode(line, context))).toMatchObject({ db: { name: 'hr' } });
    const plain = fields(decode('2026-11-26 10:00:00.000 CST [5] app@hr 10.40.1.11 LOG:  checkpoint starting: time', context));
    expect(plain).toMatchObject({ source: { ip: '10.40.1.11' }, db: { name: 'hr' }, event: { dataset: 'postgresql.log' } });
  });

  it('maps every prefix value: session, line, transactions, command tag, backend type, query id, SQLSTATE', () => {
    const decode = createPgauditDecoder({ logLinePrefix: '%m %c %l %s %v %x %i|%b|%Q %e %a|%r ' });
    const line = '2026-11-26 10:00:00.000 UTC 6b08737e.6df 4 2026-11-26 09:59:00 UTC 3/2 7531 INSERT|client backend|-642 00000 my app|10.0.0.9(4000) '
      + 'LOG:  AUDIT: SESSION,1,1,WRITE,INSERT,,,insert into t values (1),<not logged>';
    expect(fields(decode(line, context))).toMatchObject({
      source: { ip: '10.0.0.9', port: 4000 },
      db: {
        application: 'my app', session_id: '6b08737e.6df', session_line_number: 4, session_start: '2026-11-26T09:59:00.000Z',
        virtual_transaction_id: '3/2', transaction_id: '7531', command_tag: 'INSERT', backend_type: 'client backend', query_id: '-642',
      },
    });
  });

  it('joins an ERROR with its DETAIL and STATEMENT lines into one failed event with the SQLSTATE and the statement', () => {
    const prefix = '%m [%p] %u@%d %h %e ';
    const lines = [
      '2026-11-26 10:00:00.000 CST [5] app@hr 10.40.1.11 42601 ERROR:  syntax error at or near "selec" at character 1',
      '2026-11-26 10:00:00.000 CST [5] app@hr 10.40.1.11 42601 STATEMENT:  selec *',
      '\t  from t',
      '2026-11-26 10:00:01.000 CST [5] app@hr 10.40.1.11 23505 ERROR:  duplicate key value violates unique constraint "t_pkey"',
      '2026-11-26 10:00:01.000 CST [5] app@hr 10.40.1.11 23505 DETAIL:  Key (id)=(1) already exists.',
      '2026-11-26 10:00:01.000 CST [5] app@hr 10.40.1.11 23505 STATEMENT:  insert into t values (1)',
      '2026-11-26 10:00:02.000 CST [5] app@hr 10.40.1.11 00000 LOG:  disconnection: session time: 0:00:01.000 user=app database=hr host=10.40.1.11 port=5',
    ];
    const records = [...postgresLogRecords(lines, 'stderr', prefix)];
    expect(records).toHaveLength(3);
    const decode = createPgauditDecoder({ logLinePrefix: prefix });
    expect(fields(decode(records[0]!, context))).toMatchObject({
      message: 'syntax error at or near "selec" at character 1',
      event: { dataset: 'postgresql.log', outcome: 'failure', category: ['database'], type: ['error'] },
      error: { code: '42601', message: 'syntax error at or near "selec" at character 1' },
      db: { statement: 'selec *\n  from t', name: 'hr' }, source: { ip: '10.40.1.11' }, log: { level: 'error' },
    });
    expect(fields(decode(records[1]!, context))).toMatchObject({ error: { code: '23505' }, db: { statement: 'insert into t values (1)' } });
    // The same file written with CRLF line ends.
    const crlf = [...postgresLogRecords(lines.map((line) => `${line}\r`), 'stderr', prefix)];
    expect(crlf).toHaveLength(3);
    expect(fields(decode(crlf[0]!, context))).toMatchObject({ message: 'syntax error at or near "selec" at character 1', db: { statement: 'selec *\n  from t' } });
    expect(fields(decode(records[2]!, context))).toMatchObject({ event: { action: 'db-disconnect', outcome: 'success' } });
    expect(fields(decode(records[2]!, context))).not.toHaveProperty('error');
    // log_error_verbosity=verbose writes the SQLSTATE in the message; a failed login keeps its action.
    expect(fields(decodePgaudit('2026-11-26 10:00:00.000 CST [9] ghost@hr FATAL:  28000: role "ghost" does not exist', context))).toMatchObject({
      event: { action: 'db-failed-login', outcome: 'failure' }, error: { code: '28000' }, user: { name: 'ghost' },
    });
    expect(fields(decodePgaudit('2026-11-26 10:00:00.000 CST [9] app@hr LOG:  00000: AUDIT: SESSION,1,1,READ,SELECT,,,select 1,<none>', context)))
      .toMatchObject({ db: { operation_class: 'READ', statement: 'select 1' } });
  });

  it.each([
    ['garbage', "not a PostgreSQL log line with log_line_prefix '%m [%p] %q%u@%d '"],
    ['AUDIT: SESSION,1,1,SELECT,SELECT,,,select 1,<none>', 'unknown pgaudit class: SELECT'],
    ['AUDIT: SESSION,x,1,READ,SELECT,,,select 1,<none>', 'statement ids are not numbers'],
    ['AUDIT: BOTH,1,1,READ,SELECT,,,select 1,<none>', 'not SESSION or OBJECT'],
    ['AUDIT: SESSION,1,1,READ,"SELECT', 'ends before its statement field'],
    ['2026-13-26 10:00:00.000 CST [1] LOG:  hello', 'time is not a date'],
  ])('rejects %j', (line, expected) => {
    expect(reason(decodePgaudit(line, context))).toContain(expected);
  });
});

describe('PostgreSQL csvlog records', () => {
  const lines = [
    `2026-11-26 17:59:26.730 UTC,"postgres","postgres",1759,"127.0.0.1:47052",6b08737e.6df,3,"SELECT",2026-11-26 17:59:26 UTC,3/2,0,LOG,00000,"AUDIT: SESSION,1,1,READ,SELECT,TABLE,public.t,""select * from t where s = 'x`,
    `y'"",<not logged>",,,,,,,,,"psql","client backend",,0`,
    `2026-11-26 17:59:26.787 UTC,"auditor","postgres",1761,"::1:47056",6b08737e.6e1,2,"authentication",2026-11-26 17:59:26 UTC,3/4,0,FATAL,28P01,"password authentication failed for user ""auditor""","Connection matched pg_hba.conf line 1: ""host all auditor 127.0.0.1/32 scram-sha-256""",,,,,,,,"","client backend",,0`,
  ];

  it('frames and decodes AUDIT and failed-login records', () => {
    const records = [...postgresLogRecords(lines, 'csvlog')];
    expect(records).toHaveLength(2);
    expect(fields(decodePgauditCsv(records[0]!, context))).toMatchObject({
      '@timestamp': '2026-11-26T17:59:26.730Z', user: { name: 'postgres' }, source: { ip: '127.0.0.1', port: 47052 },
      db: { operation_class: 'READ', statement: "select * from t where s = 'x\ny'", objects: ['public.t'], application: 'psql' },
    });
    expect(fields(decodePgauditCsv(records[1]!, context))).toMatchObject({
      event: { action: 'db-failed-login', outcome: 'failure' }, user: { name: 'auditor' }, source: { ip: '::1', port: 47056 },
    });
  });

  it('reads an ERROR with its SQLSTATE and the statement from the query column', () => {
    const record = `2026-11-26 17:59:27.000 UTC,"app","hr",1762,"10.40.1.11:5000",6b08737e.6e2,5,"SELECT",2026-11-26 17:59:26 UTC,3/5,0,ERROR,42P01,"relation ""nope"" does not exist",,,,,,"select * from nope",15,,"psql","client backend",,0`;
    expect(fields(decodePgauditCsv(record, context))).toMatchObject({
      event: { dataset: 'postgresql.log', outcome: 'failure' }, error: { code: '42P01', message: 'relation "nope" does not exist' },
      db: { statement: 'select * from nope', name: 'hr', sqlstate: '42P01', command_tag: 'SELECT', application: 'psql' },
      source: { ip: '10.40.1.11', port: 5000 },
    });
  });

  it('rejects a cut record and a line that is not csvlog', () => {
    expect(reason(decodePgauditCsv(lines[0]!, context))).toContain('ends inside a quoted field');
    expect(reason(decodePgauditCsv('a,b,c', context))).toContain('3 columns, expected 23 to 26');
  });
});

describe("pgaudit's own regression output (test/fixtures/logs/pgaudit)", () => {
  it('decodes all 415 AUDIT lines with the class distribution of the source', () => {
    const lines = readFileSync('test/fixtures/logs/pgaudit/pgaudit_audit_lines.txt', 'utf8').split('\n').filter(Boolean);
    expect(lines).toHaveLength(415);
    const events = lines.map((line) => fields(decodePgaudit(line, context)));
    const count = (field: string) => {
      const counts: Record<string, number> = {};
      for (const e of events) counts[String(getField(e, field))] = (counts[String(getField(e, field))] ?? 0) + 1;
      return counts;
    };
    expect(count('db.operation_class')).toEqual({ DDL: 97, FUNCTION: 16, MISC: 78, READ: 81, ROLE: 50, WRITE: 93 });
    expect(count('db.audit_type')).toEqual({ SESSION: 373, OBJECT: 42 });
    expect(count('log.level')).toEqual({ notice: 386, warning: 29 });
    // The file holds only the first line of multi-line statements; those are flagged, not rejected.
    const incomplete = events.filter((e) => getField(e, 'db.statement_truncated') === true);
    expect(incomplete.length).toBe(lines.filter((l) => (l.split('"').length - 1) % 2 === 1).length);
    expect(incomplete[0]).toMatchObject({ db: { command: 'CREATE TABLE', statement: 'CREATE TABLE public.test', objects: ['public.test'] } });
    expect(events.find((e) => getField(e, 'db.command') === 'CREATE ROLE' && getField(e, 'db.statement') === 'CREATE USER regress_user1 password <REDACTED>'))
      .toBeDefined();
  });
});

describe('a real MariaDB with the server_audit plugin', () => {
  let server: MariadbHandle;
  let dir: string;
  let auditFile: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shouwang-mariadb-audit-'));
    auditFile = join(dir, 'server_audit.log');
    server = await startMariadb({
      args: ['--plugin-load-add=server_audit', '--server-audit-logging=ON', '--server-audit-events=CONNECT,QUERY,TABLE', `--server-audit-file-path=${auditFile}`],
    });
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs logins, a failed login, SELECT, CREATE, INSERT and GRANT; every line decodes to the right class', async () => {
    const database = testName('test');
    const auditor = testName('auditor');
    const insert = `INSERT INTO t VALUES (1, 'it''s a,b "q" \\\\ back\\\\slash')`;
    const started = Date.now();
    const admin = await mysql.createConnection(server.url);
    try {
      await admin.query(`CREATE DATABASE ${database}`);
      await admin.query(`USE ${database}`);
      await admin.query('CREATE TABLE t (id INT PRIMARY KEY, note VARCHAR(200))');
      await admin.query(insert);
      await admin.query('SELECT note FROM t WHERE id = 1');
      await admin.query(`CREATE USER '${auditor}'@'%' IDENTIFIED BY 'right-password'`);
      await admin.query(`GRANT SELECT ON ${database}.* TO '${auditor}'@'%'`);
    } finally {
      await admin.end();
    }
    const login = { host: '127.0.0.1', port: server.port, user: auditor, database };
    await expect(mysql.createConnection({ ...login, password: 'wrong-password' })).rejects.toMatchObject({ errno: 1045 });
    const reader = await mysql.createConnection({ ...login, password: 'right-password' });
    await reader.query('SELECT count(*) FROM t');
    await reader.end();

    const text = await waitFor(
      () => (existsSync(auditFile) ? readFileSync(auditFile, 'utf8') : ''),
      (t) => t.includes(`,${auditor},`) && /DISCONNECT/.test(t.split(`SELECT count(*) FROM t`)[1] ?? ''),
      'the auditor session in the audit file',
    );
    const decode = createMariadbAuditDecoder();
    const results = text.split('\n').filter(Boolean).map((line) => ({ line, result: decode(line, { utcOffset: localOffset(), now: new Date() }) }));
    expect(results.filter((r) => !r.result.ok)).toEqual([]);
    const events = results.map((r) => fields(r.result));
    expect(events.length).toBeGreaterThan(10);
    for (const e of events) {
      expect(getField(e, 'host.name')).toBe(hostname());
      // The plugin writes local time without a zone: read at this machine's offset, it is now.
      expect(Date.parse(String(e['@timestamp']))).toBeGreaterThanOrEqual(Math.floor(started / 1000) * 1000 - 60_000);
      expect(Date.parse(String(e['@timestamp']))).toBeLessThanOrEqual(Date.now() + 60_000);
    }
    const mine = events.filter((e) => getField(e, 'db.user') === auditor);
    expect(byAction(mine, 'db-failed-login')).toEqual([expect.objectContaining({
      event: expect.objectContaining({ outcome: 'failure', category: ['authentication', 'database'] }),
      source: { ip: '127.0.0.1' },
      db: expect.objectContaining({ operation_class: 'CONNECT', return_code: 1045 }),
    })]);
    expect(byAction(mine, 'db-connect')).toEqual([expect.objectContaining({
      event: expect.objectContaining({ outcome: 'success' }), db: expect.objectContaining({ name: database }),
    })]);
    const statements = byAction(events, 'db-query').map((e) => [getField(e, 'db.statement'), getField(e, 'db.operation_class')]);
    expect(statements).toEqual(expect.arrayContaining([
      ['CREATE TABLE t (id INT PRIMARY KEY, note VARCHAR(200))', 'DDL'],
      [insert, 'WRITE'],
      ['SELECT note FROM t WHERE id = 1', 'READ'],
      [`GRANT SELECT ON ${database}.* TO '${auditor}'@'%'`, 'ROLE'],
      [`CREATE USER '${auditor}'@'%' IDENTIFIED BY *****`, 'ROLE'],
      ['SELECT count(*) FROM t', 'READ'],
    ]));
    expect(text).not.toContain('right-password');
    const tables = byAction(events, 'db-table-access').map((e) => getField(e, 'db.objects'));
    expect(tables).toContainEqual([`${database}.t`]);
  });
});

describe('a real PostgreSQL with pgaudit, stderr log', () => {
  let server: PostgresHandle;
  beforeAll(async () => {
    server = await startPostgres({
      extensions: ['pgaudit'],
      settings: {
        'pgaudit.log': "'all'",
        'pgaudit.log_relation': 'on',
        log_connections: 'on',
        log_disconnections: 'on',
        logging_collector: 'off',
        log_destination: "'stderr'",
        log_line_prefix: "'%m [%p] %q%u@%d '",
        // Written as CST: the decoder must take the configured offset, not guess the zone.
        log_timezone: "'Asia/Shanghai'",
        lc_messages: "'C'",
      },
    });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('logs logins, failed logins, SELECT, CREATE, INSERT and GRANT; every record decodes', async () => {
    const auditor = testName('auditor');
    const table = testName('t');
    const insert = `INSERT INTO ${table} VALUES (1, 'it''s a,b "q"')`;
    const select = `SELECT id,\n       note\n  FROM ${table}`;
    const started = Date.now();
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    try {
      // The extension's event triggers are what give DDL lines their object names.
      await admin.query('CREATE EXTENSION IF NOT EXISTS pgaudit');
      await admin.query(`CREATE ROLE ${auditor} LOGIN PASSWORD 'right-password'`);
      await admin.query(`CREATE TABLE ${table} (id int, note text)`);
      await admin.query(insert);
      await admin.query(select);
      await admin.query(`GRANT SELECT ON ${table} TO ${auditor}`);
      // The harness trusts every login; this role must give a password over TCP.
      const hba = join(server.dataDir, 'pg_hba.conf');
      writeFileSync(hba, `host all ${auditor} 127.0.0.1/32 scram-sha-256\n${readFileSync(hba, 'utf8')}`);
      await admin.query('SELECT pg_reload_conf()');
    } finally {
      await admin.end();
    }
    const login = { host: '127.0.0.1', port: server.port, database: 'postgres' };
    const attempt = async (user: string, password: string) => {
      const client = new pg.Client({ ...login, user, password });
      try {
        await client.connect();
        await client.query(`SELECT count(*) FROM ${table}`);
      } finally {
        await client.end().catch(() => undefined);
      }
    };
    // pg_reload_conf only signals the postmaster; retry until the new pg_hba.conf rule is in force.
    await expect(retryUntilRejected(() => attempt(auditor, 'wrong-password'))).resolves.toMatchObject({ code: '28P01' });
    await expect(attempt('ghost_role', 'x')).rejects.toMatchObject({ code: '28000' });
    await attempt(auditor, 'right-password');

    const records = await waitFor(
      () => [...postgresLogRecords(readFileSync(server.logFile, 'utf8').split('\n').filter(Boolean))],
      (r) => r.some((line) => line.includes(`disconnection`) && line.includes(`user=${auditor}`)),
      'the auditor session in the log',
    );
    const decode = createPgauditDecoder({ logLinePrefix: '%m [%p] %q%u@%d ' });
    const results = records.map((line) => ({ line, result: decode(line, { utcOffset: '+08:00', now: new Date() }) }));
    expect(results.filter((r) => !r.result.ok)).toEqual([]);
    const events = results.map((r) => fields(r.result));
    for (const e of events) {
      expect(Date.parse(String(e['@timestamp']))).toBeGreaterThanOrEqual(started - 120_000);
      expect(Date.parse(String(e['@timestamp']))).toBeLessThanOrEqual(Date.now() + 60_000);
    }
    const failed = byAction(events, 'db-failed-login');
    expect(failed).toEqual(expect.arrayContaining([
      expect.objectContaining({ user: { name: auditor }, event: expect.objectContaining({ outcome: 'failure' }), db: expect.objectContaining({ auth_method: 'password' }) }),
      expect.objectContaining({ user: { name: 'ghost_role' } }),
    ]));
    expect(byAction(events, 'db-connect').some((e) => getField(e, 'user.name') === auditor)).toBe(true);
    expect(byAction(events, 'db-connection-received').every((e) => getField(e, 'source.ip') === '127.0.0.1')).toBe(true);
    const audit = byAction(events, 'db-query').map((e) => ({
      cls: getField(e, 'db.operation_class'), command: getField(e, 'db.command'), statement: getField(e, 'db.statement'), objects: getField(e, 'db.objects'),
    }));
    expect(audit).toEqual(expect.arrayContaining([
      { cls: 'ROLE', command: 'CREATE ROLE', statement: `CREATE ROLE ${auditor} LOGIN PASSWORD <REDACTED>`, objects: undefined },
      { cls: 'DDL', command: 'CREATE TABLE', statement: `CREATE TABLE ${table} (id int, note text)`, objects: [`public.${table}`] },
      { cls: 'WRITE', command: 'INSERT', statement: insert, objects: [`public.${table}`] },
      { cls: 'READ', command: 'SELECT', statement: select, objects: [`public.${table}`] },
      // pgaudit names no object for GRANT.
      { cls: 'ROLE', command: 'GRANT', statement: `GRANT SELECT ON ${table} TO ${auditor}`, objects: undefined },
    ]));
    const auditorReads = byAction(events, 'db-query').filter((e) => getField(e, 'db.user') === auditor && getField(e, 'db.operation_class') === 'READ');
    expect(auditorReads.map((e) => getField(e, 'db.statement'))).toContain(`SELECT count(*) FROM ${table}`);
    expect(records.join('\n')).not.toContain('right-password');
  });
});

describe('a real PostgreSQL, stderr log with a prefix ending in %h and verbose errors', () => {
  const prefix = '%m [%p] %u@%d %h ';
  let server: PostgresHandle;
  beforeAll(async () => {
    server = await startPostgres({
      extensions: ['pgaudit'],
      settings: {
        'pgaudit.log': "'ddl, write'",
        log_connections: 'on',
        logging_collector: 'off',
        log_destination: "'stderr'",
        log_line_prefix: `'${prefix}'`,
        // Verbose: every message starts with its SQLSTATE and a LOCATION line follows it.
        log_error_verbosity: "'verbose'",
        log_timezone: "'UTC'",
        lc_messages: "'C'",
      },
    });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('decodes every record; a bad statement is one failed event with its SQLSTATE and statement', async () => {
    const table = testName('t');
    const bad = `SELEC id\n  FROM ${table}`;
    const client = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'postgres', database: 'postgres' });
    await client.connect();
    try {
      await client.query('CREATE EXTENSION IF NOT EXISTS pgaudit');
      await client.query(`CREATE TABLE ${table} (id int primary key)`);
      await client.query(`INSERT INTO ${table} VALUES (1)`);
      await expect(client.query(bad)).rejects.toMatchObject({ code: '42601' });
      await expect(client.query(`INSERT INTO ${table} VALUES (1)`)).rejects.toMatchObject({ code: '23505' });
    } finally {
      await client.end();
    }
    // As a file source with `logLinePrefix` reads it: the format's own join rule and decoder.
    const format = recordFormat('pgaudit', { logLinePrefix: prefix })!;
    const records = await waitFor(
      () => [...joinRecords(readFileSync(server.logFile, 'utf8').split('\n').filter(Boolean), format.join!)],
      (r) => r.some((record) => record.includes('23505') && record.includes('STATEMENT:')),
      'the duplicate key error in the log',
    );
    const results = records.map((line) => ({ line, result: format.decode(line, { utcOffset: '+08:00', now: new Date() }) }));
    expect(results.filter((r) => !r.result.ok)).toEqual([]);
    const events = results.map((r) => fields(r.result));
    // No record is a lone STATEMENT or LOCATION line: each joined the message it belongs to.
    expect(events.filter((e) => ['statement', 'location', 'detail'].includes(String(getField(e, 'log.level'))))).toEqual([]);
    const mine = events.filter((e) => getField(e, 'source.ip') === '127.0.0.1');
    expect(mine.length).toBeGreaterThan(3);
    expect(events.filter((e) => String(getField(e, 'db.name') ?? '').includes('127.0.0.1'))).toEqual([]);
    expect(byAction(events, 'db-connect').some((e) => getField(e, 'user.name') === 'postgres' && getField(e, 'db.name') === 'postgres')).toBe(true);
    expect(byAction(events, 'db-query').map((e) => getField(e, 'db.statement'))).toContain(`CREATE TABLE ${table} (id int primary key)`);
    const failures = events.filter((e) => getField(e, 'event.outcome') === 'failure' && getField(e, 'event.dataset') === 'postgresql.log');
    expect(failures.map((e) => [getField(e, 'error.code'), getField(e, 'db.statement'), getField(e, 'db.name'), getField(e, 'user.name')])).toEqual(
      expect.arrayContaining([
        ['42601', bad, 'postgres', 'postgres'],
        ['23505', `INSERT INTO ${table} VALUES (1)`, 'postgres', 'postgres'],
      ]),
    );
  });
});

describe('a real PostgreSQL with pgaudit, csvlog', () => {
  let server: PostgresHandle;
  beforeAll(async () => {
    server = await startPostgres({
      extensions: ['pgaudit'],
      settings: {
        'pgaudit.log': "'read, write, ddl'",
        'pgaudit.log_relation': 'on',
        log_connections: 'on',
        logging_collector: 'on',
        log_destination: "'csvlog'",
        log_directory: "'log'",
        lc_messages: "'C'",
      },
    });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('frames multi-line records and decodes every one', async () => {
    const table = testName('t');
    const select = `SELECT id,\n  'a,"b"' AS note\n  FROM ${table}`;
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    await client.query(`CREATE TABLE ${table} (id int)`);
    await client.query(`INSERT INTO ${table} VALUES (1)`);
    await client.query(select);
    await expect(client.query(`SELECT * FROM ${table}_missing`)).rejects.toMatchObject({ code: '42P01' });
    await client.end();
    await expect(new pg.Client({ host: '127.0.0.1', port: server.port, user: 'ghost_role', database: 'postgres' }).connect())
      .rejects.toMatchObject({ code: '28000' });

    const logDir = join(server.dataDir, 'log');
    const readCsv = () => readdirSync(logDir).filter((f) => f.endsWith('.csv')).map((f) => readFileSync(join(logDir, f), 'utf8')).join('');
    const text = await waitFor(readCsv, (t) => t.includes('role ""ghost_role"" does not exist'), 'the failed login in the csvlog');
    const records = [...postgresLogRecords(text.split('\n').filter(Boolean), 'csvlog')];
    const results = records.map((line) => ({ line, result: decodePgauditCsv(line, context) }));
    expect(results.filter((r) => !r.result.ok)).toEqual([]);
    const events = results.map((r) => fields(r.result));
    expect(byAction(events, 'db-query').map((e) => [getField(e, 'db.operation_class'), getField(e, 'db.statement')])).toEqual(expect.arrayContaining([
      ['DDL', `CREATE TABLE ${table} (id int)`],
      ['WRITE', `INSERT INTO ${table} VALUES (1)`],
      ['READ', select],
    ]));
    expect(events.filter((e) => getField(e, 'error.code') === '42P01').map((e) => [getField(e, 'event.outcome'), getField(e, 'db.statement')]))
      .toEqual([['failure', `SELECT * FROM ${table}_missing`]]);
    // pg_isready's probes log in as this machine's user too; only the ghost is asserted.
    expect(byAction(events, 'db-failed-login').filter((e) => getField(e, 'user.name') === 'ghost_role')).toEqual([expect.objectContaining({
      source: expect.objectContaining({ ip: '127.0.0.1' }), db: expect.objectContaining({ name: 'postgres', operation_class: 'CONNECT' }),
    })]);
  });
});
