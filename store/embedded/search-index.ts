import { setImmediate } from 'node:timers/promises';
import type { Database, Statement } from 'better-sqlite3';
import { KEYWORD_FIELDS } from '../query-language.js';

/**
 * The full-text index of events (events_search, FTS5 trigram, contentless): the message, and the
 * values of KEYWORD_FIELDS each between two U+001F. A phrase `"\u001fsudo\u001f"` on the keywords
 * column then matches only a whole value, so a bare word is one index lookup for both places; the
 * exact comparison runs on the few rows it finds. Changing KEYWORD_FIELDS needs a migration that
 * re-fills the keywords column (store/embedded/migrations.ts holds the same list).
 */
export const KEYWORD_SEPARATOR = '\u001f';

const jsonPath = (field: string) => `$${field.split('.').map((part) => `."${part}"`).join('')}`;

/** SQL for the keywords column of the document in `doc` (a column or `new.doc`). */
export const keywordTermsSql = (doc: string) =>
  `(SELECT group_concat(char(31) || replace(value, char(31), ' ') || char(31), ' ') FROM json_each(json_extract(${doc}, ${
    KEYWORD_FIELDS.map((field) => `'${jsonPath(field)}'`).join(', ')})) WHERE type = 'text')`;

/** An FTS5 phrase: the text quoted, its quotes doubled. */
export const ftsPhrase = (text: string) => `"${text.replace(/"/g, '""')}"`;

/** The FTS5 query for a value of a keyword field, as a superset of the exact (any case) matches. */
export const keywordPhrase = (value: string) =>
  `keywords : ${ftsPhrase(`${KEYWORD_SEPARATOR}${value.replaceAll(KEYWORD_SEPARATOR, ' ')}${KEYWORD_SEPARATOR}`)}`;

/** Rows indexed per transaction: large enough for FTS5 to write few segments, small enough not to hold the event loop long. */
const CHUNK = 5_000;
/** The longest a written event waits for the background indexing to start (searches through this store do not wait). */
export const SEARCH_INDEX_DELAY_MS = 500;

/**
 * Moves written events from events_staged into the indexed events table (migration 8) and fills
 * events_search after the write, in batches (migration 7: no per-row trigger). Every row with seq above
 * search_progress.indexed_seq waits to be indexed; merging a chunk, indexing a chunk and moving the
 * mark happen in one transaction, so a crash, a second process or a failed step loses nothing and
 * indexes nothing twice. A search first merges and indexes what is pending, a chunk per turn of the
 * event loop, so it sees every event written before it while collectors and the console keep running.
 */
export class SearchIndexer {
  readonly #index: Statement;
  readonly #lastOf: Statement;
  readonly #mark: Statement;
  readonly #behind: Statement;
  readonly #merge: Statement;
  readonly #lastStaged: Statement;
  readonly #unstage: Statement;
  readonly #step: (limit: number) => boolean;
  /**
   * Ids this process staged and the step has not merged yet, with their staging seq: the write counts a
   * replay of one as a duplicate without an index on the staging table. Another process's staged rows are
   * not here; a replay of one is counted as written by both and kept once by the merge (INSERT OR IGNORE).
   */
  readonly staged = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(db: Database) {
    this.#index = db.prepare(`INSERT INTO events_search (rowid, message, keywords)
      SELECT seq, message, ${keywordTermsSql('doc')} FROM events WHERE seq > ? ORDER BY seq LIMIT ?`);
    this.#lastOf = db.prepare('SELECT max(seq) AS last FROM (SELECT seq FROM events WHERE seq > ? ORDER BY seq LIMIT ?)');
    this.#mark = db.prepare('UPDATE search_progress SET indexed_seq = ?');
    this.#behind = db.prepare(`SELECT (SELECT indexed_seq FROM search_progress) AS mark, (SELECT max(seq) FROM events) AS last,
      EXISTS (SELECT 1 FROM events_staged) AS staged`);
    // OR IGNORE: the write checked the id against events and this process's staged ids; what is ignored is
    // a copy another process staged too.
    this.#merge = db.prepare(`INSERT OR IGNORE INTO events (id, ts, department, system, message, doc)
      SELECT id, ts, department, system, iif(json_type(doc, '$.message') = 'text', json_extract(doc, '$.message'), NULL), doc
      FROM events_staged WHERE seq <= ? ORDER BY seq`);
    this.#lastStaged = db.prepare('SELECT max(seq) AS last FROM (SELECT seq FROM events_staged ORDER BY seq LIMIT ?)');
    this.#unstage = db.prepare('DELETE FROM events_staged WHERE seq <= ?');
    // true while more is pending than one chunk held
    this.#step = (limit) => db.transaction(() => {
      const staged = (this.#lastStaged.get(limit) as { last: number | null }).last;
      if (staged !== null) {
        this.#merge.run(staged);
        this.#unstage.run(staged);
      }
      const stagedLeft = (this.#behind.get() as { staged: number }).staged === 1;
      if (!stagedLeft) this.staged.clear();
      else if (staged !== null) for (const [id, seq] of this.staged) if (seq <= staged) this.staged.delete(id);
      const { mark } = this.#behind.get() as { mark: number };
      const { last } = this.#lastOf.get(mark, limit) as { last: number | null };
      let indexed = 0;
      if (last !== null) {
        indexed = this.#index.run(mark, limit).changes;
        this.#mark.run(last);
      }
      return indexed === limit || stagedLeft;
    }).immediate();
    // Rows a killed writer left staged or unindexed are merged soon after opening, not at the next write.
    if (this.pending()) this.schedule();
  }

  /** Whether events wait to be merged or indexed. */
  pending(): boolean {
    const { mark, last, staged } = this.#behind.get() as { mark: number; last: number | null; staged: number };
    return staged === 1 || (last !== null && last > mark);
  }

  /** Indexes everything written so far, now (closing). */
  catchUp(): void {
    if (!this.pending()) return;
    while (this.#step(CHUNK));
  }

  /** The same before a search, one chunk per turn of the event loop: a backlog delays that search, never the whole process. */
  async catchUpYielding(): Promise<void> {
    if (!this.pending()) return;
    while (this.#step(CHUNK)) await setImmediate();
  }

  /** After a write: index within SEARCH_INDEX_DELAY_MS, a chunk at a time with the event loop free in between. */
  schedule(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setTimeout(() => this.#background(), SEARCH_INDEX_DELAY_MS);
    this.#timer.unref();
  }

  #background(): void {
    this.#timer = undefined;
    if (this.#closed) return;
    let more = false;
    try {
      more = this.#step(CHUNK);
    } catch {
      // Busy or full now: the rows stay above the mark, the next write or search indexes them.
      return;
    }
    if (more) {
      this.#timer = setTimeout(() => this.#background(), 0);
      this.#timer.unref();
    }
  }

  /** Stops the background step and indexes what is left, so the file closes caught up. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.catchUp();
  }
}
