/**
 * The operation class of a database-audit event, in pgaudit's terms so that rules can treat every
 * engine alike. MariaDB and MySQL logs carry no class, so it is derived from the statement's first
 * keywords.
 */
export const OPERATION_CLASSES = ['READ', 'WRITE', 'DDL', 'ROLE', 'FUNCTION', 'MISC', 'CONNECT'] as const;
export type OperationClass = (typeof OPERATION_CLASSES)[number];

const FIRST_KEYWORD: Readonly<Record<string, OperationClass>> = {
  SELECT: 'READ', SHOW: 'READ', WITH: 'READ', DESC: 'READ', DESCRIBE: 'READ',
  INSERT: 'WRITE', UPDATE: 'WRITE', DELETE: 'WRITE', REPLACE: 'WRITE', TRUNCATE: 'WRITE', COPY: 'WRITE',
  LOAD: 'WRITE', MERGE: 'WRITE',
  CREATE: 'DDL', ALTER: 'DDL', DROP: 'DDL', RENAME: 'DDL',
  GRANT: 'ROLE', REVOKE: 'ROLE',
  CALL: 'FUNCTION', DO: 'FUNCTION',
};

/** Second keywords that turn DDL into account management (`CREATE USER`, `DROP ROLE`…). */
const ACCOUNT_OBJECTS = new Set(['USER', 'ROLE']);

// Leading blanks, parentheses and comments; `/*!50001` version comments hide real SQL, so only their opener is skipped.
const LEADING_NOISE = /^(?:\s+|\(|\/\*!\d*|\/\*[\s\S]*?\*\/|(?:--|#)[^\n]*(?:\n|$))+/;
// The first two keywords; MariaDB's `CREATE OR REPLACE USER` is still account management.
const KEYWORDS = /^([A-Za-z]+)(?:\s+(?:OR\s+REPLACE\s+)?([A-Za-z]+))?/i;

export function classifyStatement(statement: string): OperationClass {
  const words = KEYWORDS.exec(statement.replace(LEADING_NOISE, ''));
  if (!words) return 'MISC';
  const first = words[1]!.toUpperCase();
  const second = words[2]?.toUpperCase();
  if (first === 'SET') return second === 'PASSWORD' ? 'ROLE' : 'MISC';
  const cls = FIRST_KEYWORD[first] ?? 'MISC';
  return cls === 'DDL' && second !== undefined && ACCOUNT_OBJECTS.has(second) ? 'ROLE' : cls;
}
