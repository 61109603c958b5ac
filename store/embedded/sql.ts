import type { Database } from 'better-sqlite3';
import { decodeCursor, encodeCursor, pageSize } from '../paging.js';
import { TOTAL_COUNT_LIMIT, type Page, type PageRequest, type Scope } from '../ports.js';
import { StoreErrors } from '../errors.js';

/** A WHERE clause built up from parts; every value goes through a bound parameter. */
export class Where {
  readonly parts: string[] = [];
  readonly params: unknown[] = [];

  add(sql: string, ...params: unknown[]): this {
    this.parts.push(sql);
    this.params.push(...params);
    return this;
  }

  in(column: string, values: readonly unknown[] | undefined): this {
    if (values === undefined) return this;
    if (values.length === 0) return this.add('0');
    return this.add(`${column} IN (${values.map(() => '?').join(', ')})`, ...values);
  }

  scope(column: string, scope: Scope | undefined): this {
    return this.in(column, scope?.departments);
  }

  copy(): Where {
    const copy = new Where();
    copy.parts.push(...this.parts);
    copy.params.push(...this.params);
    return copy;
  }

  get sql(): string {
    return this.parts.length ? `WHERE ${this.parts.join(' AND ')}` : '';
  }
}

/** Keyset paging on (time column, id), newest first by default, the same contract as search_after. */
export function keysetPage<T>(
  db: Database,
  options: { table: string; timeColumn: string; idColumn?: string; where: Where; page: PageRequest | undefined; decode: (doc: string) => T },
): Page<T> {
  const { table, timeColumn, where, page } = options;
  const idColumn = options.idColumn ?? 'id';
  const size = pageSize(page);
  const desc = (page?.order ?? 'desc') === 'desc';
  // Counting every match of a broad query scans the table; stop where Elasticsearch stops too.
  const counted = (db.prepare(`SELECT count(*) AS n FROM (SELECT 1 FROM ${table} ${where.sql} LIMIT ?)`)
    .get(...where.params, TOTAL_COUNT_LIMIT + 1) as { n: number }).n;
  const total = Math.min(counted, TOTAL_COUNT_LIMIT);

  const paged = where.copy();
  if (page?.after) {
    const [time, id] = decodeCursor(page.after);
    const op = desc ? '<' : '>';
    paged.add(`(${timeColumn} ${op} ? OR (${timeColumn} = ? AND ${idColumn} ${op} ?))`, time, time, id);
  }
  const direction = desc ? 'DESC' : 'ASC';
  const rows = db
    .prepare(`SELECT ${timeColumn} AS t, ${idColumn} AS k, doc FROM ${table} ${paged.sql} ORDER BY ${timeColumn} ${direction}, ${idColumn} ${direction} LIMIT ?`)
    .all(...paged.params, size + 1) as { t: number; k: string | number; doc: string }[];
  const more = rows.length > size;
  const items = rows.slice(0, size);
  const last = items[items.length - 1];
  return {
    items: items.map((row) => options.decode(row.doc)),
    total,
    ...(counted > TOTAL_COUNT_LIMIT ? { totalIsLowerBound: true as const } : {}),
    ...(more && last ? { next: encodeCursor([last.t, String(last.k)]) } : {}),
  };
}

const UNAVAILABLE_CODES = ['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_READONLY', 'SQLITE_CANTOPEN', 'SQLITE_NOMEM', 'SQLITE_PROTOCOL'];

/**
 * Runs a write; a full disk, a lock another process held past busy_timeout or an I/O error becomes "store
 * unavailable" (a sink spools and retries, the API answers 503), never an unexplained 500.
 */
export function writeOrUnavailable<T>(write: () => T): T {
  try {
    return write();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && UNAVAILABLE_CODES.some((prefix) => code.startsWith(prefix))) {
      throw StoreErrors.unavailable(`${code}: ${(error as Error).message}`);
    }
    throw error;
  }
}
