import type { Database } from 'better-sqlite3';
import {
  ChainVerifier, chainEntry, type AuditCheckpoint, type AuditEntry, type AuditKey, type AuditLink, type AuditVerification,
  type ChainedAuditEntry,
} from '../../core/index.js';
import { AuditAnchor, type AnchorOptions } from '../audit-anchor.js';
import { toMillis } from '../paging.js';
import type { AuditQuery, AuditTrailStore, Page, PageRequest } from '../ports.js';
import { keysetPage, Where } from './sql.js';

/** The departments column: the entry's sorted departments as JSON, NULL when city-wide. */
const departmentsColumn = (entry: AuditEntry): string | null => (entry.departments ? JSON.stringify(entry.departments) : null);

function parseEntry(doc: string): ChainedAuditEntry | undefined {
  try {
    const entry = JSON.parse(doc) as ChainedAuditEntry | null;
    return entry !== null && typeof entry === 'object' && typeof entry.at === 'string' ? entry : undefined;
  } catch {
    return undefined;
  }
}

export class EmbeddedAuditTrailStore implements AuditTrailStore {
  readonly #db: Database;
  #anchor: AuditAnchor | undefined;

  constructor(db: Database) {
    this.#db = db;
  }

  async append(entry: AuditEntry): Promise<ChainedAuditEntry> {
    // IMMEDIATE takes the write lock first, so two processes cannot chain onto the same tail.
    const chained = this.#db.transaction(() => {
      const last = this.#db.prepare('SELECT seq, hash FROM audit_trail ORDER BY seq DESC LIMIT 1').get() as
        | { seq: number; hash: string }
        | undefined;
      const next = chainEntry(last, entry);
      this.#db.prepare('INSERT INTO audit_trail (seq, at, departments, hash, doc) VALUES (?, ?, ?, ?, ?)').run(
        next.seq, toMillis(next.at, 'at'), departmentsColumn(next), next.hash, JSON.stringify(next),
      );
      return next;
    }).immediate();
    await this.#anchor?.afterAppend(chained);
    return chained;
  }

  async list(query: AuditQuery, page?: PageRequest): Promise<Page<ChainedAuditEntry>> {
    const where = new Where();
    if (query.from) where.add('at >= ?', toMillis(query.from, 'from'));
    if (query.to) where.add('at < ?', toMillis(query.to, 'to'));
    const scoped = query.scope?.departments;
    if (scoped) {
      // Every department of the entry inside the scope; city-wide entries (NULL) never.
      if (scoped.length === 0) where.add('0');
      else where.add(`departments IS NOT NULL AND NOT EXISTS (SELECT 1 FROM json_each(audit_trail.departments) WHERE value NOT IN (${scoped.map(() => '?').join(', ')}))`, ...scoped);
    }
    return keysetPage(this.#db, {
      table: 'audit_trail', timeColumn: 'at', idColumn: 'seq', where, page, decode: (doc) => JSON.parse(doc) as ChainedAuditEntry,
    });
  }

  async verify(): Promise<AuditVerification> {
    // The mark outside the store first: an append racing with verify can only put the store ahead of it.
    const highWater = this.#anchor?.highWater();
    const verifier = new ChainVerifier(await this.checkpoints(), this.#anchor?.key.publicKey, highWater);
    const rows = this.#db.prepare('SELECT seq, at, departments, hash, doc FROM audit_trail ORDER BY seq').iterate() as IterableIterator<
      { seq: number; at: number; departments: string | null; hash: string; doc: string }
    >;
    for (const row of rows) {
      const entry = parseEntry(row.doc);
      if (!entry) {
        // Bytes that are not an entry at all: broken here, and still counted.
        verifier.breakAt(row.seq, 'chain');
        verifier.push([{ seq: row.seq, at: '', actor: '', action: '', prevHash: '', hash: '' }]);
        continue;
      }
      // The columns the queries filter on must say what the hashed entry says.
      if (row.seq !== entry.seq || row.hash !== entry.hash || row.at !== Date.parse(entry.at) || row.departments !== departmentsColumn(entry)) {
        verifier.breakAt(row.seq, 'column_mismatch');
      }
      verifier.push([entry]);
    }
    return verifier.result();
  }

  async anchorWith(key: AuditKey, options?: AnchorOptions): Promise<() => void> {
    this.#anchor = new AuditAnchor({
      head: async () => this.#db.prepare('SELECT seq, hash FROM audit_trail ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined,
      latestCheckpoint: async () => this.#latestCheckpoint(),
      putCheckpoint: async (checkpoint) => {
        this.#db.prepare('INSERT OR IGNORE INTO audit_checkpoints (seq, doc) VALUES (?, ?)').run(checkpoint.seq, JSON.stringify(checkpoint));
      },
      hashAt: async (seq) => (this.#db.prepare('SELECT hash FROM audit_trail WHERE seq = ?').get(seq) as { hash: string } | undefined)?.hash,
    }, key, options);
    return this.#anchor.start();
  }

  async checkpoint(): Promise<AuditCheckpoint | undefined> {
    return this.#anchor ? this.#anchor.checkpoint() : this.#latestCheckpoint();
  }

  async checkpoints(): Promise<AuditCheckpoint[]> {
    const rows = this.#db.prepare('SELECT doc FROM audit_checkpoints ORDER BY seq').all() as { doc: string }[];
    return rows.map((row) => JSON.parse(row.doc) as AuditCheckpoint);
  }

  async links(fromSeq: number, toSeq: number): Promise<AuditLink[]> {
    const rows = this.#db.prepare('SELECT doc FROM audit_trail WHERE seq >= ? AND seq <= ? ORDER BY seq').all(fromSeq, toSeq) as { doc: string }[];
    return rows.map((row) => {
      const { seq, prevHash, hash } = JSON.parse(row.doc) as ChainedAuditEntry;
      return { seq, prevHash, hash };
    });
  }

  #latestCheckpoint(): AuditCheckpoint | undefined {
    const row = this.#db.prepare('SELECT doc FROM audit_checkpoints ORDER BY seq DESC LIMIT 1').get() as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as AuditCheckpoint) : undefined;
  }
}
