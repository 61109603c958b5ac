import type { BackupPolicy } from '../../core/index.js';

export type ValidationSpec = BackupPolicy['validationQueries'][number];

export interface ValidationOutcome {
  name?: string;
  sql: string;
  ok: boolean;
  rows: number;
  /** First column of the first row, as the client printed it. */
  first?: string;
  expected: string;
  reason?: string;
  ms: number;
}

// How psql and the mariadb client print false, zero and NULL.
const FALSY = new Set(['', 'f', 'false', 'null']);

function truthy(cell: string | undefined): boolean {
  if (cell === undefined || FALSY.has(cell.trim().toLowerCase())) return false;
  const number = Number(cell);
  return Number.isNaN(number) || number !== 0;
}

function sameValue(cell: string | undefined, expected: string | number | boolean): boolean {
  if (cell === undefined) return false;
  if (typeof expected === 'boolean') return truthy(cell) === expected && ['t', 'f', 'true', 'false', '1', '0'].includes(cell.toLowerCase());
  if (typeof expected === 'number') return cell.trim() !== '' && Number(cell) === expected;
  return cell === expected;
}

/**
 * A plain query must return a row whose first column is truthy (a count above zero, `t`);
 * an object states what it expects: at least/at most so many rows, or the first value.
 */
export function judgeValidation(spec: ValidationSpec, rows: readonly (readonly string[])[]): Omit<ValidationOutcome, 'sql' | 'ms' | 'name'> {
  const first = rows[0]?.[0];
  const measured = { rows: rows.length, ...(first !== undefined ? { first } : {}) };
  if (typeof spec === 'string' || !spec.expect) {
    const expected = 'at least 1 row, first value truthy';
    if (!rows.length) return { ...measured, ok: false, expected, reason: '没有返回行 / returned no rows' };
    if (!truthy(first)) return { ...measured, ok: false, expected, reason: `首值为假 / first value is ${JSON.stringify(first)}` };
    return { ...measured, ok: true, expected };
  }
  const { minRows, maxRows, equals } = spec.expect;
  const min = minRows ?? (maxRows !== undefined && equals === undefined ? 0 : 1);
  const parts = [`rows >= ${min}`, ...(maxRows !== undefined ? [`rows <= ${maxRows}`] : []),
    ...(equals !== undefined ? [`first = ${JSON.stringify(equals)}`] : [])];
  const expected = parts.join(', ');
  if (rows.length < min) return { ...measured, ok: false, expected, reason: `行数 ${rows.length} 少于 ${min} / ${rows.length} rows, expected at least ${min}` };
  if (maxRows !== undefined && rows.length > maxRows) {
    return { ...measured, ok: false, expected, reason: `行数 ${rows.length} 多于 ${maxRows} / ${rows.length} rows, expected at most ${maxRows}` };
  }
  if (equals !== undefined && !sameValue(first, equals)) {
    return { ...measured, ok: false, expected, reason: `首值 ${JSON.stringify(first)} 不等于 ${JSON.stringify(equals)} / first value ${JSON.stringify(first)}, expected ${JSON.stringify(equals)}` };
  }
  return { ...measured, ok: true, expected };
}

export const specSql = (spec: ValidationSpec) => (typeof spec === 'string' ? spec : spec.sql);
export const specName = (spec: ValidationSpec) => (typeof spec === 'string' ? undefined : spec.name);
