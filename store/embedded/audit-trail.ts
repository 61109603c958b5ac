import type { Database } from 'better-sqlite3';
import { chainEntry, findChainBreak, type AuditEntry, type ChainedAuditEntry } from '../../core/index.js';
import { toMillis } from '../paging.js';
import type { AuditTrailStore, Page, PageRequest, TimeRange } from '../ports.js';
import { keysetPage, Where } from './sql.js';

export class EmbeddedAuditTrailStore implements AuditTrailStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async append(entry: AuditEntry): Promise<ChainedAuditEntry> {
    // IMMEDIATE takes the write lock first, so two processes cannot chain onto the same tail.
    return this.#db.transaction(() => {
      const last = this.#db.prepare('SELECT seq, hash FROM audit_trail ORDER BY seq DESC LIMIT 1').get() as
        | { seq: number; hash: string }
        | undefined;
      const chained = chainEntry(last, entry);
      this.#db.prepare('INSERT INTO audit_trail (seq, at, hash, doc) VALUES (?, ?, ?, ?)').run(
        chained.seq, toMillis(chained.at, 'at'), chained.hash, JSON.stringify(chained),
      );
      return chained;
    }).immediate();
  }

  async list(range: TimeRange, page?: PageRequest): Promise<Page<ChainedAuditEntry>> {
    const where = new Where();
    if (range.from) where.add('at >= ?', toMillis(range.from, 'from'));
    if (range.to) where.add('at < ?', toMillis(range.to, 'to'));
    return keysetPage(this.#db, {
      table: 'audit_trail', timeColumn: 'at', idColumn: 'seq', where, page, decode: (doc) => JSON.parse(doc) as ChainedAuditEntry,
    });
  }

  async verify(): Promise<{ ok: boolean; count: number; brokenAt?: number }> {
    const rows = this.#db.prepare('SELECT doc FROM audit_trail ORDER BY seq').all() as { doc: string }[];
    const entries = rows.map((row) => JSON.parse(row.doc) as ChainedAuditEntry);
    const brokenAt = findChainBreak(entries);
    return { ok: brokenAt === undefined, count: entries.length, ...(brokenAt !== undefined ? { brokenAt } : {}) };
  }
}
