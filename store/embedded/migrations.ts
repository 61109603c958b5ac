import type { Database } from 'better-sqlite3';
import { StoreErrors } from '../errors.js';

/** Ordered schema steps; a step is never edited once released, only followed by a new one. */
export const MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
      CREATE TABLE events (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        ts INTEGER NOT NULL,
        department TEXT,
        system TEXT,
        message TEXT,
        doc TEXT NOT NULL
      );
      CREATE INDEX events_ts ON events (ts, id);
      CREATE INDEX events_department_ts ON events (department, ts);
      CREATE INDEX events_system_ts ON events (system, ts);
      -- trigram: substring search that also works for Chinese text, which has no spaces between words
      CREATE VIRTUAL TABLE events_fts USING fts5 (message, content = 'events', content_rowid = 'seq', tokenize = 'trigram');
      CREATE TRIGGER events_fts_insert AFTER INSERT ON events BEGIN
        INSERT INTO events_fts (rowid, message) VALUES (new.seq, new.message);
      END;
      CREATE TRIGGER events_fts_delete AFTER DELETE ON events BEGIN
        INSERT INTO events_fts (events_fts, rowid, message) VALUES ('delete', old.seq, old.message);
      END;

      CREATE TABLE alerts (
        id TEXT PRIMARY KEY,
        rule_id TEXT NOT NULL,
        level TEXT NOT NULL,
        status TEXT NOT NULL,
        department TEXT,
        system TEXT,
        assignee TEXT,
        mlps TEXT NOT NULL,
        first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        doc TEXT NOT NULL
      );
      CREATE INDEX alerts_last_seen ON alerts (last_seen, id);
      CREATE INDEX alerts_status ON alerts (status, last_seen);
      CREATE INDEX alerts_department ON alerts (department, last_seen);

      CREATE TABLE departments (id TEXT PRIMARY KEY, position INTEGER NOT NULL, doc TEXT NOT NULL);
      CREATE TABLE systems (id TEXT PRIMARY KEY, department TEXT NOT NULL, position INTEGER NOT NULL, doc TEXT NOT NULL);

      CREATE TABLE job_results (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        system TEXT,
        department TEXT,
        finished_at INTEGER NOT NULL,
        doc TEXT NOT NULL
      );
      CREATE INDEX job_results_finished ON job_results (finished_at, id);
      CREATE INDEX job_results_system ON job_results (system, kind, finished_at);

      CREATE TABLE audit_trail (
        seq INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        hash TEXT NOT NULL,
        doc TEXT NOT NULL
      );
      CREATE INDEX audit_trail_at ON audit_trail (at, seq);
      -- append-only: the database itself refuses edits and deletions
      CREATE TRIGGER audit_trail_no_update BEFORE UPDATE ON audit_trail BEGIN
        SELECT RAISE (ABORT, 'audit trail is append-only');
      END;
      CREATE TRIGGER audit_trail_no_delete BEFORE DELETE ON audit_trail BEGIN
        SELECT RAISE (ABORT, 'audit trail is append-only');
      END;
    `,
  },
  {
    version: 2,
    name: 'console users and sessions',
    sql: `
      CREATE TABLE users (username TEXT PRIMARY KEY, doc TEXT NOT NULL);
      CREATE TABLE sessions (
        id_hash TEXT PRIMARY KEY,
        username TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        doc TEXT NOT NULL
      );
      CREATE INDEX sessions_username ON sessions (username);
      CREATE INDEX sessions_expires ON sessions (expires_at);
    `,
  },
  {
    version: 3,
    name: 'columns for posture: event sources, job result site, alert priority',
    sql: `
      -- the newest event per source, kept on write, so silent-source checks need not scan events
      -- per department too: a system that moves department keeps each department's history apart
      CREATE TABLE event_sources (
        system TEXT NOT NULL,
        host TEXT NOT NULL,
        dataset TEXT NOT NULL,
        department TEXT NOT NULL,
        last_ts INTEGER NOT NULL,
        PRIMARY KEY (system, host, dataset, department)
      );
      -- events stamped more than five minutes ahead of the migration do not count (SOURCE_CLOCK_SKEW_MS)
      INSERT INTO event_sources (system, host, dataset, department, last_ts)
        SELECT system,
          iif(json_type(doc, '$.host.name') = 'text', json_extract(doc, '$.host.name'), ''),
          iif(json_type(doc, '$.event.dataset') = 'text', json_extract(doc, '$.event.dataset'), ''),
          coalesce(department, ''), max(ts)
        FROM events WHERE system IS NOT NULL AND ts <= CAST(unixepoch('subsec') * 1000 AS INTEGER) + 300000 GROUP BY 1, 2, 3, 4;

      ALTER TABLE job_results ADD COLUMN site TEXT;
      UPDATE job_results SET site = json_extract(doc, '$.site');
      CREATE INDEX job_results_latest ON job_results (kind, system, site, finished_at DESC, id DESC);

      ALTER TABLE alerts ADD COLUMN priority INTEGER;
      UPDATE alerts SET priority = json_extract(doc, '$.priority');
    `,
  },
  {
    version: 4,
    name: 'audit trail departments and signed checkpoints',
    sql: `
      -- the departments of the object acted on (JSON array, sorted); NULL is city-wide. Older entries
      -- stay NULL: they were hashed without departments and are shown to unscoped users only.
      ALTER TABLE audit_trail ADD COLUMN departments TEXT;
      -- signed (seq, head hash) anchors, kept apart from the chain they anchor
      CREATE TABLE audit_checkpoints (seq INTEGER PRIMARY KEY, doc TEXT NOT NULL);
      CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints BEGIN
        SELECT RAISE (ABORT, 'audit checkpoints are append-only');
      END;
      CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints BEGIN
        SELECT RAISE (ABORT, 'audit checkpoints are append-only');
      END;
    `,
  },
  {
    version: 5,
    name: 'alert triage: sort columns, the default priority order, sampled events for related alerts',
    sql: `
      ALTER TABLE alerts ADD COLUMN count INTEGER;
      ALTER TABLE alerts ADD COLUMN mlps_level INTEGER;
      ALTER TABLE alerts ADD COLUMN title TEXT;
      UPDATE alerts SET count = json_extract(doc, '$.count'), mlps_level = json_extract(doc, '$.mlpsLevel'),
        title = json_extract(doc, '$.rule.title'), priority = coalesce(priority, 0);
      CREATE INDEX alerts_priority ON alerts (priority, last_seen, id);
      -- which alert sampled which event: related alerts look alerts up by event id
      CREATE TABLE alert_samples (event_id TEXT NOT NULL, alert_id TEXT NOT NULL, PRIMARY KEY (event_id, alert_id)) WITHOUT ROWID;
      CREATE INDEX alert_samples_alert ON alert_samples (alert_id);
      INSERT OR IGNORE INTO alert_samples (event_id, alert_id) SELECT s.value, a.id FROM alerts a, json_each(a.doc, '$.sampleEventIds') s;
    `,
  },
  {
    version: 6,
    name: 'one full-text index for the message and the keyword fields (bare-word search)',
    sql: `
      -- contentless (the text stays in events) with deletes by rowid; keywords: each value of
      -- KEYWORD_FIELDS between two U+001F, so a phrase there matches a whole value (search-index.ts)
      DROP TRIGGER events_fts_insert;
      DROP TRIGGER events_fts_delete;
      DROP TABLE events_fts;
      CREATE VIRTUAL TABLE events_search USING fts5 (message, keywords, content = '', contentless_delete = 1, tokenize = 'trigram');
      INSERT INTO events_search (rowid, message, keywords) SELECT seq, message, (SELECT group_concat(char(31) || replace(value, char(31), ' ') || char(31), ' ') FROM json_each(json_extract(doc, '$."host"."name"', '$."process"."name"', '$."user"."name"', '$."source"."ip"', '$."destination"."ip"', '$."event"."action"', '$."event"."dataset"', '$."event"."outcome"', '$."shouwang"."system"', '$."db"."name"', '$."url"."path"', '$."service"."name"')) WHERE type = 'text') FROM events;
      CREATE TRIGGER events_search_insert AFTER INSERT ON events BEGIN
        INSERT INTO events_search (rowid, message, keywords) VALUES (new.seq, new.message, (SELECT group_concat(char(31) || replace(value, char(31), ' ') || char(31), ' ') FROM json_each(json_extract(new.doc, '$."host"."name"', '$."process"."name"', '$."user"."name"', '$."source"."ip"', '$."destination"."ip"', '$."event"."action"', '$."event"."dataset"', '$."event"."outcome"', '$."shouwang"."system"', '$."db"."name"', '$."url"."path"', '$."service"."name"')) WHERE type = 'text'));
      END;
      CREATE TRIGGER events_search_delete AFTER DELETE ON events BEGIN
        DELETE FROM events_search WHERE rowid = old.seq;
      END;
    `,
  },
  {
    version: 7,
    name: 'full-text indexing after the write, in batches',
    sql: `
      -- every event above indexed_seq waits for SearchIndexer (search-index.ts), which indexes a batch
      -- and moves the mark in one transaction; the delete trigger stays
      DROP TRIGGER events_search_insert;
      CREATE TABLE search_progress (indexed_seq INTEGER NOT NULL);
      INSERT INTO search_progress (indexed_seq) SELECT coalesce(max(seq), 0) FROM events;
    `,
  },
  {
    version: 8,
    name: 'an append-only staging table for writes, merged into events by the background step',
    sql: `
      -- a write appends here (no index: each random id inserted into a B-tree dirtied a page); SearchIndexer
      -- moves rows into the indexed events table (whose unique id keeps one copy) and the full-text index
      -- in chunks, one transaction per chunk. The message column is read from doc when merging.
      CREATE TABLE events_staged (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL,
        ts INTEGER NOT NULL,
        department TEXT,
        system TEXT,
        doc TEXT NOT NULL
      );
    `,
  },
  {
    version: 9,
    name: 'triage suppressions, and which alerts one marked',
    sql: `
      CREATE TABLE alert_suppressions (id TEXT PRIMARY KEY, department TEXT, expires_at INTEGER NOT NULL, created_at INTEGER NOT NULL, doc TEXT NOT NULL);
      -- the id of the suppression that marked the alert; NULL: not suppressed (the triage list's default)
      ALTER TABLE alerts ADD COLUMN suppressed TEXT;
    `,
  },
  {
    version: 10,
    name: 'when an alert\'s suppression mark ends',
    sql: `
      -- epoch ms of the mark's until: past it the alert is listed as not suppressed again, repeat or not
      ALTER TABLE alerts ADD COLUMN suppressed_until INTEGER;
      UPDATE alerts SET suppressed_until = CAST(unixepoch(json_extract(doc, '$.suppressed.until'), 'subsec') * 1000 AS INTEGER)
        WHERE suppressed IS NOT NULL;
      -- a mark whose suppression was deleted before stored alerts were unmarked with it: nothing is left to end it early
      UPDATE alerts SET suppressed = NULL, suppressed_until = NULL, doc = json_remove(doc, '$.suppressed')
        WHERE suppressed IS NOT NULL AND suppressed NOT IN (SELECT id FROM alert_suppressions);
      -- a suppression re-marks the stored alerts of its rule and department
      CREATE INDEX alerts_rule_department ON alerts (rule_id, department);
    `,
  },
];

export function migrate(db: Database): number[] {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  const applied = new Set(
    db.prepare('SELECT version FROM schema_migrations').all().map((row) => (row as { version: number }).version),
  );
  const ran: number[] = [];
  for (const migration of MIGRATIONS) {
    if (applied.has(migration.version)) continue;
    try {
      db.transaction(() => {
        db.exec(migration.sql);
        db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
          migration.version, migration.name, new Date().toISOString(),
        );
      }).immediate();
    } catch (error) {
      throw StoreErrors.migration(migration.version, (error as Error).message);
    }
    ran.push(migration.version);
  }
  return ran;
}
