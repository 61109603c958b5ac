import { decodeAccessLog, decodeWebErrorLog } from './decoders/access-log.js';
import { decodeAuditd } from './decoders/auditd.js';
import { createMariadbAuditDecoder } from './decoders/mariadb-audit.js';
import { createMysqlJsonAuditDecoder } from './decoders/mysql-json-audit.js';
import { createPgauditCsvDecoder, createPgauditDecoder } from './decoders/pgaudit.js';
import type { RecordDecoder } from './decoders/types.js';

/**
 * Files whose lines are records of their own format rather than syslog. PostgreSQL writes one
 * entry over several lines when a statement has line breaks, so its formats join lines first.
 */
export const RECORD_FORMATS: Record<string, { decode: RecordDecoder; dataset: string; join?: 'stderr' | 'csvlog' }> = {
  'mariadb-audit': { decode: createMariadbAuditDecoder(), dataset: 'mariadb.audit' },
  'mysql-json-audit': { decode: createMysqlJsonAuditDecoder(), dataset: 'mysql.audit' },
  pgaudit: { decode: createPgauditDecoder(), dataset: 'postgresql.pgaudit', join: 'stderr' },
  'pgaudit-csv': { decode: createPgauditCsvDecoder(), dataset: 'postgresql.pgaudit', join: 'csvlog' },
  'access-log': { decode: (line) => decodeAccessLog(line), dataset: 'web.access' },
  'web-error-log': { decode: decodeWebErrorLog, dataset: 'web.error' },
  auditd: { decode: (line) => decodeAuditd(line), dataset: 'auditd.log' },
};

export const FORMAT_NAMES = ['auto', ...Object.keys(RECORD_FORMATS)];
