import type { Database, Statement } from 'better-sqlite3';
import type { ShouwangEvent } from '../../core/index.js';
import { checkField, storableJson, textTerms, toMillis } from '../paging.js';
import { KEYWORD_FIELDS, numericValue, type QueryNode } from '../query-language.js';
import type {
  Bucket, DataRange, EventQuery, EventStore, Page, PageRequest, Scope, SourceQuery, SourceSeen, TimeBucket, WriteResult,
} from '../ports.js';
import { SOURCE_CLOCK_SKEW_MS } from '../ports.js';
import { StoreErrors } from '../errors.js';
import { ftsPhrase, keywordPhrase, SearchIndexer } from './search-index.js';
import { keysetPage, Where, writeOrUnavailable } from './sql.js';

/** Fields kept in their own indexed columns; every other field is read from the JSON document. */
const COLUMNS: Record<string, string> = { 'shouwang.department': 'department', 'shouwang.system': 'system', id: 'id' };

const jsonPath = (field: string) => `$${field.split('.').map((part) => `."${part}"`).join('')}`;

// JSON booleans come out of json_each as 1 and 0.
const sqlValue = (value: unknown) => (typeof value === 'boolean' ? Number(value) : value);

/**
 * A SQL function the reader worker defines on its connection (event-reader.ts). SQLite runs a statement in
 * native code, where Worker.terminate cannot stop it; a call into JavaScript every READ_ALIVE_EVERY rows
 * lets the termination of a read past its deadline end the scan there instead of at its last row.
 */
const READ_ALIVE = 'shouwang_read_alive';
const READ_ALIVE_EVERY = 64;
const interruptible = new WeakSet<Database>();

/** Lets Worker.terminate stop this connection's event reads mid-scan (each costs a JavaScript call per READ_ALIVE_EVERY rows). */
export function interruptibleReads(db: Database): void {
  db.function(READ_ALIVE, { deterministic: false }, () => 1);
  interruptible.add(db);
}

function eventWhere(query: EventQuery, db: Database): Where {
  const where = new Where();
  // First, so SQLite evaluates it on every row it considers, before the terms that may scan.
  if (interruptible.has(db)) where.add(`(seq % ${READ_ALIVE_EVERY} <> 0 OR ${READ_ALIVE}())`);
  if (query.from) where.add('ts >= ?', toMillis(query.from, 'from'));
  if (query.to) where.add('ts < ?', toMillis(query.to, 'to'));
  where.scope('department', query.scope);
  for (const [field, wanted] of Object.entries(query.filters ?? {})) {
    const values = (Array.isArray(wanted) ? wanted : [wanted]).map(sqlValue);
    const column = COLUMNS[checkField(field)];
    if (column) where.in(column, values);
    else if (values.length === 0) where.add('0');
    // json_each walks arrays element by element and yields a scalar once: both match as in Elasticsearch.
    else where.add(`EXISTS (SELECT 1 FROM json_each(doc, ?) WHERE value IN (${values.map(() => '?').join(', ')}))`, jsonPath(field), ...values);
  }
  const terms = textTerms(query.text);
  // trigram needs three characters; shorter terms fall back to a substring test on the row.
  const indexed = terms.filter((term) => [...term].length >= 3);
  if (indexed.length) {
    where.add('seq IN (SELECT rowid FROM events_search WHERE events_search MATCH ?)', indexed.map((t) => `message : ${ftsPhrase(t)}`).join(' AND '));
  }
  for (const term of terms.filter((t) => [...t].length < 3)) where.add("instr(lower(coalesce(message, '')), lower(?)) > 0", term);
  if (query.match && query.match.kind !== 'all') {
    const { sql, params } = matchSql(query.match);
    where.add(sql, ...params);
  }
  return where;
}

interface Sql {
  sql: string;
  params: unknown[];
}

const sql = (text: string, ...params: unknown[]): Sql => ({ sql: text, params });

const SEARCH_MATCH = 'seq IN (SELECT rowid FROM events_search WHERE events_search MATCH ?)';

/** Message full text: trigram FTS5 for three characters or more, a substring test below that. */
function messageSql(text: string): Sql {
  if ([...text].length >= 3) return sql(SEARCH_MATCH, `message : ${ftsPhrase(text)}`);
  return sql("instr(lower(coalesce(message, '')), lower(?)) > 0", text);
}

/** LIKE's own `%`, `_` and the escape character, made literal. */
const likeLiteral = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);
/** `*` becomes LIKE's `%`; everything else is literal. */
const likePattern = (pattern: string) => likeLiteral(pattern).replace(/\*/g, '%');

// One json_extract of every keyword field: the document is parsed once per row, not once per field.
const KEYWORD_VALUES = `json_each(json_extract(doc, ${KEYWORD_FIELDS.map(() => '?').join(', ')}))`;
const KEYWORD_PATHS = KEYWORD_FIELDS.map(jsonPath);

/**
 * Values of a field, element by element for arrays (json_each), as Elasticsearch matches arrays; an
 * object is no value (json_each would walk its members, so `user:root` would find user.name root).
 */
const fieldValues = (field: string, condition: string, ...params: unknown[]) =>
  sql(`(json_type(doc, ?) IS NOT 'object' AND EXISTS (SELECT 1 FROM json_each(doc, ?) WHERE ${condition}))`, jsonPath(field), jsonPath(field), ...params);

/** A value typed in the query equals a stored string, or a number or boolean spelt that way. */
function equalsSql(field: string, value: string): Sql {
  const column = COLUMNS[field];
  if (column) return sql(`${column} IS ?`, value);
  if (field === 'message') return messageSql(value);
  if (field === '@timestamp') return sql('ts = ?', toMillis(value, '@timestamp'));
  const number = numericValue(value);
  if (number !== undefined) return fieldValues(field, "(type = 'text' AND value = ?) OR (type IN ('integer', 'real') AND value = ?)", value, number);
  if (value === 'true' || value === 'false') return fieldValues(field, "(type = 'text' AND value = ?) OR type = ?", value, value);
  // The stored JSON holds the value as JSON.stringify wrote it: a substring test skips parsing the rows that cannot match.
  const values = fieldValues(field, "type = 'text' AND value = ?", value);
  return sql(`(instr(doc, ?) > 0 AND ${values.sql})`, JSON.stringify(value), ...values.params);
}

/** A range compares numbers when both bounds are numbers, else text; @timestamp compares instants. */
function rangeSql(node: Extract<QueryNode, { kind: 'range' }>): Sql {
  const bounds = [node.lower && { op: node.lower.inclusive ? '>=' : '>', value: node.lower.value }, node.upper && { op: node.upper.inclusive ? '<=' : '<', value: node.upper.value }]
    .filter((bound) => bound !== undefined);
  if (node.field === '@timestamp') {
    return sql(bounds.map((b) => `ts ${b.op} ?`).join(' AND '), ...bounds.map((b) => toMillis(b.value, '@timestamp')));
  }
  const numeric = bounds.every((b) => numericValue(b.value) !== undefined);
  const values = bounds.map((b) => (numeric ? numericValue(b.value) : b.value));
  const column = COLUMNS[node.field];
  if (column) return sql(`coalesce(${bounds.map((b) => `${column} ${b.op} ?`).join(' AND ')}, 0)`, ...values);
  const type = numeric ? "type IN ('integer', 'real')" : "type = 'text'";
  return fieldValues(node.field, [type, ...bounds.map((b) => `value ${b.op} ?`)].join(' AND '), ...values);
}

/**
 * The query tree as one SQL expression; every value a bound parameter and every field name checked
 * (the parser did; checkField again because the tree is a port type anyone can build). Each leaf
 * yields 0 or 1, never NULL, so NOT means "not matching".
 */
function matchSql(node: QueryNode): Sql {
  switch (node.kind) {
    case 'all':
      return sql('1');
    case 'and':
    case 'or': {
      const parts = node.children.map(matchSql);
      return sql(`(${parts.map((p) => p.sql).join(node.kind === 'and' ? ' AND ' : ' OR ')})`, ...parts.flatMap((p) => p.params));
    }
    case 'not': {
      const inner = matchSql(node.child);
      return sql(`NOT (${inner.sql})`, ...inner.params);
    }
    case 'match': {
      if (node.field !== undefined) return equalsSql(checkField(node.field), node.value);
      // One index lookup finds the candidates (the message, or a keyword value in any case); on those
      // the message match or the exact keyword comparison decides. SQLite's lower() folds ASCII only, as before.
      const word = node.value;
      const keyword = sql(`EXISTS (SELECT 1 FROM ${KEYWORD_VALUES} WHERE type = 'text' AND lower(value) = lower(?))`, ...KEYWORD_PATHS, word);
      const message = messageSql(word);
      if ([...word].length < 3) {
        // Too short for a trigram of the message: its substring test scans, as before; the keyword phrase has its separators.
        return sql(`(${message.sql} OR (${SEARCH_MATCH} AND ${keyword.sql}))`, ...message.params, keywordPhrase(word), ...keyword.params);
      }
      // An ASCII word is checked on the candidates' message by a substring test (trigram folds ASCII case
      // alike), not a second index lookup; a word with other letters asks the index, which folds their case.
      const onCandidate = /^[\x20-\x7e]*$/.test(word) ? sql("instr(lower(coalesce(message, '')), lower(?)) > 0", word) : message;
      return sql(`(${SEARCH_MATCH} AND (${onCandidate.sql} OR ${keyword.sql}))`,
        `message : ${ftsPhrase(word)} OR ${keywordPhrase(word)}`, ...onCandidate.params, ...keyword.params);
    }
    case 'wildcard': {
      const pattern = likePattern(node.pattern);
      if (node.field === undefined) {
        return sql(`EXISTS (SELECT 1 FROM ${KEYWORD_VALUES} WHERE type = 'text' AND value LIKE ? ESCAPE '\\')`, ...KEYWORD_PATHS, pattern);
      }
      const column = COLUMNS[checkField(node.field)];
      if (column) return sql(`coalesce(${column} LIKE ? ESCAPE '\\', 0)`, pattern);
      return fieldValues(node.field, "type = 'text' AND value LIKE ? ESCAPE '\\'", pattern);
    }
    case 'range':
      return rangeSql({ ...node, field: checkField(node.field) });
    case 'exists': {
      const field = checkField(node.field);
      if (COLUMNS[field]) return sql(`${COLUMNS[field]} IS NOT NULL`);
      if (field === '@timestamp') return sql('1');
      if (field === 'message') return sql('message IS NOT NULL');
      return sql("EXISTS (SELECT 1 FROM json_each(doc, ?) WHERE type <> 'null')", jsonPath(field));
    }
  }
}


/**
 * The console's event reads as plain functions of a connection: the store's own, or the read-only one of
 * the reader worker (event-reader.ts), which runs them off the event loop. Arguments and results are plain data.
 */
export const EVENT_READS = {
  get(db: Database, id: string, scope?: Scope): ShouwangEvent | undefined {
    const where = new Where().add('id = ?', id).scope('department', scope);
    const row = db.prepare(`SELECT doc FROM events ${where.sql}`).get(...where.params) as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as ShouwangEvent) : undefined;
  },

  search(db: Database, query: EventQuery, page?: PageRequest): Page<ShouwangEvent> {
    return keysetPage(db, {
      table: 'events', timeColumn: 'ts', where: eventWhere(query, db), page, decode: (doc) => JSON.parse(doc) as ShouwangEvent,
    });
  },

  countBy(db: Database, query: EventQuery, field: string, limit: number): Bucket[] {
    const where = eventWhere(query, db);
    const column = COLUMNS[checkField(field)];
    const rows = column
      ? db
          .prepare(`SELECT ${column} AS k, count(*) AS count FROM events ${where.sql} ${where.parts.length ? 'AND' : 'WHERE'} ${column} IS NOT NULL GROUP BY k ORDER BY count DESC, k LIMIT ?`)
          .all(...where.params, limit)
      : db
          .prepare(`SELECT CASE j.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE j.value END AS k, count(*) AS count FROM (SELECT doc FROM events ${where.sql}) e, json_each(e.doc, ?) j WHERE j.type NOT IN ('object', 'array', 'null') GROUP BY k ORDER BY count DESC, k LIMIT ?`)
          .all(...where.params, jsonPath(field), limit);
    return (rows as { k: unknown; count: number }[]).map((row) => ({ key: String(row.k), count: row.count }));
  },

  histogram(db: Database, query: EventQuery, intervalMs: number): TimeBucket[] {
    if (!Number.isInteger(intervalMs) || intervalMs < 1000) throw StoreErrors.invalidQuery(`interval must be ≥ 1000 ms, got ${intervalMs}`);
    const where = eventWhere(query, db);
    const rows = db
      .prepare(`SELECT ts - (ts % ?) AS bucket, count(*) AS count FROM events ${where.sql} GROUP BY bucket ORDER BY bucket`)
      .all(intervalMs, ...where.params) as { bucket: number; count: number }[];
    return rows.map((row) => ({ start: new Date(row.bucket).toISOString(), count: row.count }));
  },

  range(db: Database, scope?: Scope): DataRange {
    const where = new Where().scope('department', scope);
    const row = db.prepare(`SELECT count(*) AS count, min(ts) AS oldest, max(ts) AS newest FROM events ${where.sql}`)
      .get(...where.params) as { count: number; oldest: number | null; newest: number | null };
    return {
      count: row.count,
      ...(row.oldest !== null ? { oldest: new Date(row.oldest).toISOString() } : {}),
      ...(row.newest !== null ? { newest: new Date(row.newest).toISOString() } : {}),
    };
  },
};

type EventReads = typeof EVENT_READS;
export type EventReadName = keyof EventReads;
type Tail<T> = T extends [unknown, ...infer Rest] ? Rest : never;
export type EventReadArgs<K extends EventReadName> = Tail<Parameters<EventReads[K]>>;
export type EventReadResult<K extends EventReadName> = ReturnType<EventReads[K]>;

/** Runs EVENT_READS elsewhere (event-reader.ts's worker thread). */
export interface EventReadRunner {
  run<K extends EventReadName>(name: K, ...args: EventReadArgs<K>): Promise<EventReadResult<K>>;
}

/** WAL pages after which a commit checkpoints (the file's setting); an event write leaves it to the next other commit. */
export const WAL_AUTOCHECKPOINT_PAGES = 10_000;

/** Ids read from the id index per statement when a batch is checked for replays. */
const LOOKUP_CHUNK = 100;

/**
 * The department or system column: a number or boolean as the text Elasticsearch's keyword indexes; an
 * array (several values one column cannot scope) or an object as none, so only unscoped users see that
 * event. Bound as they were, a boolean or an object failed the whole batch.
 */
const columnText = (value: unknown): string | null =>
  typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : null;

/** A host name or dataset as the sources table keys it: arrays and other shapes read as absent. */
const textOf = (value: unknown) => (typeof value === 'string' ? value : '');

export class EmbeddedEventStore implements EventStore {
  readonly #db: Database;
  readonly #insert: Statement;
  readonly #stored: Statement;
  readonly #touchSource: Statement;
  readonly #writeBatch: (events: readonly ShouwangEvent[]) => WriteResult;
  readonly #indexer: SearchIndexer;
  readonly #checkpointOff: Statement;
  readonly #checkpointOn: Statement;
  readonly #reader: EventReadRunner | undefined;

  /** With a reader, the console's reads run through it; without (`:memory:`), on this connection. */
  constructor(db: Database, reader?: EventReadRunner) {
    this.#db = db;
    this.#reader = reader;
    this.#indexer = new SearchIndexer(db);
    // Appended to the staging table (one small index); SearchIndexer merges it into events within
    // SEARCH_INDEX_DELAY_MS, and every read here first merges or also reads what is staged.
    this.#insert = db.prepare('INSERT INTO events_staged (id, ts, department, system, doc) VALUES (?, ?, ?, ?, ?)');
    // Read-only: a lookup dirties no page, where an insert into the id index dirtied one per event. One
    // statement per LOOKUP_CHUNK ids (the rest NULL, which matches nothing) costs ~0.7 µs an event less than
    // one per id; it answers positions, not ids, so an id SQLite stores differently (a lone surrogate) still matches.
    this.#stored = db.prepare(`SELECT v.column2 FROM (VALUES ${Array.from({ length: LOOKUP_CHUNK }, (_, i) => `(?, ${i})`).join(', ')}) AS v
      WHERE v.column1 IN (SELECT id FROM events)`).pluck();
    this.#touchSource = db.prepare(`INSERT INTO event_sources (system, host, dataset, department, last_ts) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (system, host, dataset, department) DO UPDATE SET last_ts = max(last_ts, excluded.last_ts)`);
    // A write's commit does not checkpoint: the next other commit does (the background step that merges
    // these rows within SEARCH_INDEX_DELAY_MS, or an alert), at the same threshold, so copying WAL pages
    // into the file (the writes' and the merges') is deferred with the merge, not paid in a write call.
    this.#checkpointOff = db.prepare('PRAGMA wal_autocheckpoint = 0');
    this.#checkpointOn = db.prepare(`PRAGMA wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
    // One transaction per batch: one fsync instead of one per event.
    this.#writeBatch = db.transaction((events: readonly ShouwangEvent[]) => {
      const result: WriteResult = { written: 0, duplicates: 0, rejected: [] };
      const ready: { event: ShouwangEvent; json: string }[] = [];
      for (const raw of events) {
        const prepared = storableJson(raw);
        if ('reason' in prepared) result.rejected.push({ id: String(raw.id ?? ''), reason: prepared.reason });
        else ready.push(prepared);
      }
      const stored = this.#storedOf(ready);
      const sources = new Map<string, { key: [string, string, string, string]; ts: number }>();
      const latestCountable = Date.now() + SOURCE_CLOCK_SKEW_MS;
      const { staged } = this.#indexer;
      for (const { event, json } of ready) {
        if (staged.has(event.id) || stored.has(event)) {
          result.duplicates += 1;
          continue;
        }
        const ts = Date.parse(event['@timestamp']);
        const department = columnText(event.shouwang?.department);
        const system = columnText(event.shouwang?.system);
        staged.set(event.id, Number(this.#insert.run(event.id, ts, department, system, json).lastInsertRowid));
        result.written += 1;
        if (system && ts <= latestCountable) {
          const host = textOf(event.host?.name);
          const dataset = textOf(event.event?.dataset);
          const id = `${system}\u0000${host}\u0000${dataset}\u0000${department ?? ''}`;
          const seen = sources.get(id);
          if (!seen) sources.set(id, { key: [system, host, dataset, department ?? ''], ts });
          else if (ts >= seen.ts) seen.ts = ts;
        }
      }
      // One upsert per source and batch, not per event.
      for (const { key, ts } of sources.values()) this.#touchSource.run(...key, ts);
      return result;
    });
  }

  /** Which of these events are already in the indexed table (a replay), read LOOKUP_CHUNK at a time. */
  #storedOf(events: readonly { event: ShouwangEvent }[]): Set<ShouwangEvent> {
    const found = new Set<ShouwangEvent>();
    const ids: (string | null)[] = new Array<string | null>(LOOKUP_CHUNK);
    for (let start = 0; start < events.length; start += LOOKUP_CHUNK) {
      for (let i = 0; i < LOOKUP_CHUNK; i += 1) ids[i] = events[start + i]?.event.id ?? null;
      for (const position of this.#stored.all(ids) as number[]) found.add(events[start + position]!.event);
    }
    return found;
  }

  async write(events: readonly ShouwangEvent[]): Promise<WriteResult> {
    // A full disk, a lock held too long, an I/O error: the store cannot write now (the sink spools), not a bad record.
    return writeOrUnavailable(() => {
      this.#checkpointOff.get();
      let result: WriteResult;
      try {
        result = this.#writeBatch(events);
      } finally {
        this.#checkpointOn.get();
      }
      if (result.written) this.#indexer.schedule();
      return result;
    });
  }

  async get(id: string, scope?: Scope): Promise<ShouwangEvent | undefined> {
    const event = await this.#read('get', id, scope);
    if (event) return event;
    // Not merged yet, perhaps (the staging table has no id index): merge what is pending, then look again. Again even
    // when nothing is pending now: the background merge may have taken the row in while the first read awaited
    // (a stored event's get answered undefined, CI).
    await this.#indexer.catchUpYielding();
    return this.#read('get', id, scope);
  }

  async search(query: EventQuery, page?: PageRequest): Promise<Page<ShouwangEvent>> {
    await this.#indexer.catchUpYielding();
    return this.#read('search', query, page);
  }

  async countBy(query: EventQuery, field: string, limit = 10): Promise<Bucket[]> {
    await this.#indexer.catchUpYielding();
    return this.#read('countBy', query, field, limit);
  }

  async histogram(query: EventQuery, intervalMs: number): Promise<TimeBucket[]> {
    await this.#indexer.catchUpYielding();
    return this.#read('histogram', query, intervalMs);
  }

  async range(scope?: Scope): Promise<DataRange> {
    await this.#indexer.catchUpYielding();
    return this.#read('range', scope);
  }

  /** A console read: in the reader's worker thread when there is one, else on this connection. */
  #read<K extends EventReadName>(name: K, ...args: EventReadArgs<K>): Promise<EventReadResult<K>> {
    if (this.#reader) return this.#reader.run(name, ...args);
    return Promise.resolve((EVENT_READS[name] as (db: Database, ...rest: EventReadArgs<K>) => EventReadResult<K>)(this.#db, ...args));
  }

  async sourcesSeen(query: SourceQuery): Promise<SourceSeen[]> {
    const where = new Where();
    if (query.since) where.add('last_ts >= ?', toMillis(query.since, 'since'));
    where.in('system', query.systems);
    where.scope('department', query.scope);
    // One row per department a source has spoken for (a system can move); the newest one answers.
    const rows = this.#db.prepare(`SELECT system, host, dataset, department, max(last_ts) AS last_ts FROM event_sources ${where.sql}
      GROUP BY system, host, dataset ORDER BY system, host, dataset`)
      .all(...where.params) as { system: string; host: string; dataset: string; department: string; last_ts: number }[];
    return rows.map((row) => ({
      system: row.system, host: row.host, dataset: row.dataset, ...(row.department ? { department: row.department } : {}),
      lastSeen: new Date(row.last_ts).toISOString(),
    }));
  }

  /** Indexes what is still pending, so the file closes with its full-text index caught up. */
  close(): void {
    this.#indexer.close();
  }

  async deleteBefore(before: string): Promise<number> {
    const cutoff = toMillis(before, 'before');
    return this.#db.transaction(() => {
      // A source whose newest event goes has no events left; the others keep their newest.
      this.#db.prepare('DELETE FROM event_sources WHERE last_ts < ?').run(cutoff);
      const { changes } = this.#db.prepare('DELETE FROM events WHERE ts < ?').run(cutoff);
      const staged = this.#db.prepare('DELETE FROM events_staged WHERE ts < ?').run(cutoff).changes;
      // Some ids this process staged may be gone: a replay of one is stored again (at worst counted written twice, kept once).
      if (staged) this.#indexer.staged.clear();
      // With the newest rows gone SQLite hands their seq out again: the mark must not stay above them.
      this.#db.prepare('UPDATE search_progress SET indexed_seq = min(indexed_seq, (SELECT coalesce(max(seq), 0) FROM events))').run();
      return changes + staged;
    })();
  }
}
